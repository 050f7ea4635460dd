// Liveness: answers without touching KV or any Durable Object.
import { createRoute, z } from "@hono/zod-openapi";
import { apiApp } from "../openapi";

export const health = apiApp().openapi(
  createRoute({
    method: "get",
    path: "/healthz",
    summary: "Liveness check",
    responses: {
      200: { description: "The edge is up", content: { "application/json": { schema: z.object({ ok: z.literal(true) }) } } },
    },
  }),
  (c) => c.json({ ok: true as const }, 200),
);
