// Turns a pull-through cache read into the playback response every tier sends (edge, stadium node):
// CORS, cache headers, Range on segments, Content-Length whenever it is known.
import { awaitShared } from "./await-shared";
import type { CacheRead } from "./pull-through-cache";
import { parseRange } from "./play-request";

export const PLAYBACK_CORS = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers": "content-length, content-range, x-cache",
} as const;

export interface RespondOptions {
  playlist: boolean;
  rangeHeader: string | undefined;
  now: number;
  /** For bodies still streaming in: keeps a response alive after the handler returned. */
  waitUntil: (p: Promise<unknown>) => void;
}

/** The response for a successful read: a playlist (max-age no longer than the cache keeps it) or a segment (immutable, Range). */
export async function playbackResponse(read: Extract<CacheRead, { ok: true }>, o: RespondOptions): Promise<Response> {
  const headers: Record<string, string> = { ...PLAYBACK_CORS, "content-type": read.contentType, "x-cache": read.hit ? "HIT" : "MISS" };
  if (o.playlist) {
    headers["cache-control"] = `public, max-age=${Math.max(0, Math.floor((read.expiresAt - o.now) / 1000))}`;
    const body = await wholeBody(read);
    headers["content-length"] = String(body.byteLength);
    return new Response(body, { headers });
  }
  headers["cache-control"] = "public, max-age=86400, immutable";
  headers["accept-ranges"] = "bytes";
  if (o.rangeHeader || read.hit) {
    const body = await wholeBody(read);
    const range = parseRange(o.rangeHeader, body.byteLength);
    if (range === "unsatisfiable") {
      return new Response(null, { status: 416, headers: { ...headers, "content-range": `bytes */${body.byteLength}` } });
    }
    if (range) {
      headers["content-range"] = `bytes ${range.start}-${range.end}/${body.byteLength}`;
      headers["content-length"] = String(range.end - range.start + 1);
      return new Response(body.subarray(range.start, range.end + 1), { status: 206, headers });
    }
    headers["content-length"] = String(body.byteLength);
    return new Response(body, { headers });
  }
  if (read.length === undefined) return new Response(read.stream(), { headers });
  // A plain ReadableStream body goes out chunked; FixedLengthStream keeps the known Content-Length.
  const sized = new FixedLengthStream(read.length);
  o.waitUntil(read.stream().pipeTo(sized.writable).catch(() => {}));
  return new Response(sized.readable, { headers });
}

/** The whole body, waited for on this request's own timers (see await-shared.ts). */
export function wholeBody(read: Extract<CacheRead, { ok: true }>): Promise<Uint8Array> {
  // A hit has its body in hand: waiting on a timer here cost every cache hit 2 ms.
  return read.body ? Promise.resolve(read.body) : awaitShared(read.complete);
}

/** CORS preflight for players that send Range from another origin. */
export function playbackPreflight(): Response {
  return new Response(null, {
    status: 204,
    headers: {
      ...PLAYBACK_CORS,
      "access-control-allow-methods": "GET, HEAD, OPTIONS",
      "access-control-allow-headers": "range",
      "access-control-max-age": "86400",
    },
  });
}

/** A one-chunk stream over bytes already in memory. */
export function singleChunk(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}
