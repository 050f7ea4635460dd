// /_stats: the per-isolate request counters, read by tests and benchmarks to see the origin's load.
import { Hono } from "hono";
import { requestStats } from "../request-stats";
import type { DemoOriginApp } from "../types";

export const stats = new Hono<DemoOriginApp>()
  .get("/", (c) => c.json(requestStats.snapshot(), 200, { "cache-control": "no-store" }))
  .post("/reset", (c) => {
    requestStats.reset();
    return c.json(requestStats.snapshot(), 200, { "cache-control": "no-store" });
  });
