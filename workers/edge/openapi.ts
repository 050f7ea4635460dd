// Shared pieces for OpenAPI-described routes: the app factory with our validation hook, and the error schema.
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { DomainError } from "../shared/errors";
import type { EdgeEnv } from "./types";

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "invalid_request" }),
      message: z.string(),
    }),
  })
  .openapi("Error");

/**
 * JSON error responses for a route's `responses`, by status. Every such route reads KV or calls a Durable
 * Object, so each also lists 503 `unavailable` (with Retry-After) for a part of the platform briefly down.
 */
export function errorResponses(...statuses: number[]) {
  const out: Record<number, { description: string; content: { "application/json": { schema: typeof ErrorSchema } } }> = {};
  for (const s of [...statuses, 503]) {
    const description = s === 503 ? "unavailable: a part of the platform is briefly down; retry after Retry-After" : `Error (${s})`;
    out[s] = { description, content: { "application/json": { schema: ErrorSchema } } };
  }
  return out;
}

/** A sub-app whose validation failures become `400 invalid_request` with the field issues. */
export function apiApp() {
  return new OpenAPIHono<EdgeEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new DomainError({
          code: "invalid_request",
          message: `The ${result.target === "json" ? "body" : result.target} is not valid.`,
          issues: result.error.issues.slice(0, 20).map((i) => ({ path: i.path.join("."), message: i.message })),
        });
      }
    },
  });
}
