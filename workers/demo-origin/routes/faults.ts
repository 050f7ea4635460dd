// /status/<code>/…, /hang/…, /slow/<ms>/…: an origin that fails, never answers, or answers late, on demand.
import { Hono, type Context } from "hono";
import type { ContentfulStatusCode, StatusCode } from "hono/utils/http-status";
import { jsonError } from "../json-error";
import type { DemoOriginApp } from "../types";

/** How long /hang/* holds a request when the client never gives up: bounded, so nothing waits forever. */
export const HANG_MS = 10 * 60 * 1000;
/** Longest /slow/<ms>/ delay. */
export const MAX_SLOW_MS = 10_000;

const NULL_BODY = new Set([204, 205, 304]);

/** Serves a request as if it had arrived at the top of the app; /slow/ uses it after waiting. */
export type Dispatch = (request: Request, c: Context<DemoOriginApp>) => Response | Promise<Response>;

/** Resolves after `ms`, or at once when `signal` aborts (the client went away), clearing its timer either way. */
export function waitOrAbort(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

export function faults(dispatch: Dispatch) {
  return new Hono<DemoOriginApp>()
    .all("/status/:code{[0-9]{3}}/*", (c) => statusFixture(c.req.param("code")))
    .all("/status/:code{[0-9]{3}}", (c) => statusFixture(c.req.param("code")))
    .all("/hang/*", async (c) => {
      // With enable_request_signal the runtime aborts this signal when the client disconnects.
      await waitOrAbort(HANG_MS, c.req.raw.signal);
      return jsonError(c, 504, "hang_elapsed", "This fixture never answers; the ten-minute guard ran out.");
    })
    .all("/slow/:ms{[0-9]{1,6}}/*", async (c) => {
      const ms = Number(c.req.param("ms"));
      if (ms > MAX_SLOW_MS) return jsonError(c, 400, "invalid_request", `The delay must be at most ${MAX_SLOW_MS} ms.`);
      await waitOrAbort(ms, c.req.raw.signal);
      const url = new URL(c.req.url);
      url.pathname = url.pathname.replace(/^\/slow\/\d+/, "");
      return dispatch(new Request(url, c.req.raw), c);
    });
}

function statusFixture(raw: string): Response {
  const status = Number(raw);
  if (status < 200 || status > 599) {
    return Response.json({ error: { code: "invalid_request", message: "The status must be from 200 to 599." } }, { status: 400 });
  }
  const headers: Record<string, string> = { "cache-control": "no-store" };
  // Retryable refusals say when to come back, as a well-behaved origin would.
  if (status === 429 || status === 503) headers["retry-after"] = "1";
  if (NULL_BODY.has(status)) return new Response(null, { status: status as StatusCode, headers });
  if (status >= 400) {
    return Response.json({ error: { code: `status_${status}`, message: `This fixture always answers ${status}.` } }, {
      status: status as ContentfulStatusCode,
      headers,
    });
  }
  return new Response(`This fixture always answers ${status}.\n`, { status, headers: { ...headers, "content-type": "text/plain" } });
}
