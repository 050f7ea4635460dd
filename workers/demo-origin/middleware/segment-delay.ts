// Holds every segment response for SEGMENT_DELAY_MS, so coalescing tests can overlap many requests on one upstream fetch.
import { createMiddleware } from "hono/factory";
import { isSegmentPath } from "../media-headers";
import type { DemoOriginApp } from "../types";

const MAX_DELAY_MS = 60_000;

/** Parses SEGMENT_DELAY_MS; a malformed value is a configuration mistake and fails loudly. */
export function parseSegmentDelay(raw: string | undefined): number {
  const ms = Number(raw ?? "0");
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_DELAY_MS) {
    throw new Error(`SEGMENT_DELAY_MS must be a whole number of milliseconds from 0 to ${MAX_DELAY_MS}, got ${JSON.stringify(raw)}`);
  }
  return ms;
}

export function segmentDelay() {
  return createMiddleware<DemoOriginApp>(async (c, next) => {
    const ms = parseSegmentDelay(c.env.SEGMENT_DELAY_MS);
    if (ms > 0 && isSegmentPath(c.req.path)) await new Promise((resolve) => setTimeout(resolve, ms));
    await next();
  });
}
