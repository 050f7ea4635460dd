// Turns a pull-through cache read into the playback response every tier sends (edge, stadium node):
// CORS, cache headers, Range on segments, Content-Length whenever it is known.
import { awaitShared } from "../cache/await-shared";
import { DomainError } from "../errors";
import type { StoredRead, StreamingRead } from "../cache/pull-through-cache";
import { parseRange } from "./request";
import { BANDWIDTH_HEADER } from "./node-header";
import { COUNTED_ABOVE_BYTES, countedBody, type Progress } from "./counted-body";

/**
 * Headers of every playback answer: CORS for players on other origins; and, since playback is served from
 * the viewer page's own origin, nothing in it may run as a page there (no sniffing, a sandbox CSP).
 */
export const PLAYBACK_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers": "content-length, content-range, x-cache",
  "x-content-type-options": "nosniff",
  "content-security-policy": "sandbox; default-src 'none'",
} as const;

export interface RespondOptions {
  playlist: boolean;
  rangeHeader: string | undefined;
  now: number;
  /** For bodies still streaming in: keeps a response alive after the handler returned. */
  waitUntil: (p: Promise<unknown>) => void;
  /**
   * For a segment's GET: told the bytes of the body the viewer's connection took, once it is done or the
   * viewer went away (the egress of what left, not of the object). Absent, Blob bodies go out without pieces.
   */
  sent?: (bytes: number) => void;
}

/** The response for a successful read: a playlist (max-age no longer than the cache keeps it) or a segment (immutable, Range). */
export async function playbackResponse(read: StoredRead | StreamingRead, o: RespondOptions): Promise<Response> {
  if (read.hit) return storedResponse(read, o);
  if (o.playlist) {
    const body = await wholeOrOriginError(read);
    return new Response(body, {
      headers: { ...PLAYBACK_HEADERS, ...bandwidthHeader(read), "content-type": read.contentType, "x-cache": "MISS", "cache-control": playlistCacheControl(read.expiresAt, o.now), "content-length": String(body.byteLength) },
    });
  }
  const headers = segmentHeaders(read, "MISS");
  // Arrived already (a crowd's later viewers, a fast origin): sent from the Blob, as a hit is.
  const whole = read.completed();
  if (whole) return o.rangeHeader ? rangeResponse(whole, o.rangeHeader, headers, o) : wholeResponse(whole, { headers: { ...headers, "content-length": String(whole.size) } }, o);
  if (o.rangeHeader) return rangeResponse(new Blob([await wholeOrOriginError(read)]), o.rangeHeader, headers, o);
  // The body is written straight into the response's own stream: FixedLengthStream keeps a known
  // Content-Length, IdentityTransformStream goes out chunked.
  // The known length is also a header, so a HEAD (the same response without its body) still says it.
  const { readable, writable } = read.length === undefined ? new IdentityTransformStream() : new FixedLengthStream(read.length);
  if (read.length !== undefined) headers["content-length"] = String(read.length);
  const sent = o.sent;
  if (sent) {
    const progress: Progress = { sent: 0 };
    const done = () => sent(progress.sent);
    o.waitUntil(read.writeTo(writable, progress).then(done, done));
  } else o.waitUntil(read.writeTo(writable).catch(() => {}));
  return new Response(readable, { headers });
}

const SEGMENT_CACHE_CONTROL = "public, max-age=86400, immutable";

function playlistCacheControl(expiresAt: number, now: number): string {
  return `public, max-age=${Math.max(0, Math.floor((expiresAt - now) / 1000))}`;
}

/** A hit, answered from the stored Blob: the body goes out without being copied, and without a promise. */
function storedResponse(read: StoredRead, o: RespondOptions): Response {
  if (o.playlist) {
    return new Response(read.body, {
      headers: { ...PLAYBACK_HEADERS, ...bandwidthHeader(read), "content-type": read.contentType, "x-cache": "HIT", "cache-control": playlistCacheControl(read.expiresAt, o.now), "content-length": String(read.length) },
    });
  }
  if (o.rangeHeader) return rangeResponse(read.body, o.rangeHeader, segmentHeaders(read, "HIT"), o);
  let headers = segmentHitHeaders.get(read.body);
  if (!headers) {
    headers = new Headers({ ...segmentHeaders(read, "HIT"), "content-length": String(read.length) });
    segmentHitHeaders.set(read.body, headers);
  }
  return wholeResponse(read.body, { headers }, o);
}

// A whole-segment hit has the same headers every time: built once per stored body, copied by each Response
// (cheaper than a Response converting a fresh object of seven headers).
const segmentHitHeaders = new WeakMap<Blob, Headers>();

function segmentHeaders(read: StoredRead | StreamingRead, cache: "HIT" | "MISS"): Record<string, string> {
  return { ...PLAYBACK_HEADERS, ...bandwidthHeader(read), "content-type": read.contentType, "x-cache": cache, "cache-control": SEGMENT_CACHE_CONTROL, "accept-ranges": "bytes" };
}

const NO_HEADERS = {};

/** The resource's variant BANDWIDTH for a stadium node to keep with it (see BANDWIDTH_HEADER); nothing when any viewer may open it. */
function bandwidthHeader(read: StoredRead | StreamingRead): Record<string, string> {
  return read.bandwidth ? { [BANDWIDTH_HEADER]: String(read.bandwidth) } : NO_HEADERS;
}

/** A segment with a Range header: 206 with the slice, 416, or the whole body for a range we do not serve. */
function rangeResponse(body: Blob, rangeHeader: string, headers: Record<string, string>, o: RespondOptions): Response {
  const range = parseRange(rangeHeader, body.size);
  if (range === "unsatisfiable") {
    return new Response(null, { status: 416, headers: { ...headers, "content-range": `bytes */${body.size}` } });
  }
  if (range) {
    headers["content-range"] = `bytes ${range.start}-${range.end}/${body.size}`;
    headers["content-length"] = String(range.end - range.start + 1);
    return wholeResponse(body.slice(range.start, range.end + 1), { status: 206, headers }, o);
  }
  headers["content-length"] = String(body.size);
  return wholeResponse(body, { headers }, o);
}

/** A Blob body: a large one piece by piece when the tier counts what left, else in one native send (counted whole). */
function wholeResponse(body: Blob, init: ResponseInit, o: RespondOptions): Response {
  if (!o.sent) return new Response(body, init);
  if (body.size > COUNTED_ABOVE_BYTES) return countedBody(body, init, o.waitUntil, o.sent);
  o.sent(body.size);
  return new Response(body, init);
}

/** The whole body as bytes, for code that rewrites it; a miss waits on this request's own timers (see await-shared.ts). */
export async function wholeBody(read: StoredRead | StreamingRead): Promise<Uint8Array> {
  return read.hit ? new Uint8Array(await read.body.arrayBuffer()) : wholeOrOriginError(read);
}

/**
 * The whole body of a miss, for an answer that needs all of it before its first byte (a playlist, a Range):
 * an upstream body that fails midway is the origin's failure, 502 origin_error, not a fault of ours.
 */
async function wholeOrOriginError(read: StreamingRead): Promise<Uint8Array> {
  try {
    return await awaitShared(read.complete);
  } catch (err) {
    throw new DomainError({ code: "origin_error", detail: `upstream body failed: ${String(err)}` });
  }
}

/** CORS preflight for players that send Range from another origin. */
export function playbackPreflight(): Response {
  return new Response(null, {
    status: 204,
    headers: {
      ...PLAYBACK_HEADERS,
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
