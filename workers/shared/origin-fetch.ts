// Fetching from a channel's origin: only allowed hosts (redirects included), bounded in time, errors as Failures.
import type { Failure } from "./errors";

export interface OriginFetchOptions {
  /** Hosts (host or host:port, lower case) the request and any redirect may go to. */
  isAllowed: (url: URL) => boolean;
  /** Time allowed until the response headers arrive. */
  timeoutMs: number;
  /**
   * A 400 is the client's failure, passed through as invalid_request, not the origin's: for requests whose
   * query a viewer chose (an LL-HLS blocking reload asking too far ahead is refused so, RFC 8216bis 6.2.5.2).
   */
  badRequestIsClients?: boolean;
}

export type OriginResponse = { ok: true; response: Response; url: URL } | { ok: false; failure: Failure };

const MAX_REDIRECTS = 3;

/**
 * GETs `url` from the origin. Redirects are followed by hand so that one pointing at a host outside
 * the channel's allowlist is refused rather than fetched. Never throws.
 */
export async function fetchFromOrigin(url: URL, options: OriginFetchOptions): Promise<OriginResponse> {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    if (!options.isAllowed(current)) {
      return { ok: false, failure: { code: "origin_error", detail: `refused to fetch ${current.host}: not an allowed host` } };
    }
    let response: Response;
    try {
      response = await fetch(current.toString(), { method: "GET", redirect: "manual", signal: deadline });
    } catch (err) {
      if (deadline.aborted) return { ok: false, failure: { code: "origin_timeout" } };
      return { ok: false, failure: { code: "origin_error", detail: `fetch failed: ${String(err)}` } };
    }
    if (response.status >= 300 && response.status < 400 && response.headers.has("location")) {
      await response.body?.cancel();
      try {
        current = new URL(response.headers.get("location")!, current);
      } catch {
        return { ok: false, failure: { code: "origin_error", detail: "redirect to an invalid location" } };
      }
      continue;
    }
    if (response.status === 404 || response.status === 410) {
      await response.body?.cancel();
      return { ok: false, failure: { code: "not_found", message: "The origin does not have this (any more)." } };
    }
    if (response.status === 400 && options.badRequestIsClients) {
      await response.body?.cancel();
      return { ok: false, failure: { code: "invalid_request", message: "The origin refused this request as bad (400)." } };
    }
    if (!response.ok) {
      await response.body?.cancel();
      return { ok: false, failure: { code: "origin_error", detail: `origin answered ${response.status}` } };
    }
    return { ok: true, response, url: current };
  }
  return { ok: false, failure: { code: "origin_error", detail: "too many redirects" } };
}

/** Reads a text body of at most `maxBytes`; null if larger. */
export async function readTextBounded(response: Response, maxBytes: number): Promise<string | null> {
  const declared = Number(response.headers.get("content-length") ?? "NaN");
  if (declared > maxBytes) {
    await response.body?.cancel();
    return null;
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.byteLength;
  }
  return new TextDecoder().decode(all);
}

const TYPES: Record<string, string> = {
  m3u8: "application/vnd.apple.mpegurl",
  m3u: "application/vnd.apple.mpegurl",
  ts: "video/mp2t",
  m4s: "video/iso.segment",
  mp4: "video/mp4",
  m4v: "video/mp4",
  m4a: "audio/mp4",
  aac: "audio/aac",
  mp3: "audio/mpeg",
  vtt: "text/vtt",
  webvtt: "text/vtt",
};

/** Media types an origin may name for what the extension does not: anything else goes out as opaque bytes. */
const MEDIA_TYPES = new Set([...Object.values(TYPES), "application/mp4", "application/x-mpegurl", "audio/mpegurl", "audio/x-mpegurl", "video/iso.segment"]);

/**
 * The content type a playback answer carries: a media type by the key's extension, else the origin's own
 * type if it is a media type, else application/octet-stream (keys, and whatever an origin host also serves:
 * an HTML or SVG file must never be served as a page from the viewer page's origin).
 */
export function contentTypeFor(path: string, originType: string | null): string {
  const q = path.indexOf("?");
  const p = q >= 0 ? path.slice(0, q) : path;
  const dot = p.lastIndexOf(".");
  const ext = dot >= 0 && dot > p.lastIndexOf("/") ? p.slice(dot + 1).toLowerCase() : "";
  const essence = originType?.split(";")[0]!.trim().toLowerCase() ?? "";
  return TYPES[ext] ?? (MEDIA_TYPES.has(essence) ? essence : "application/octet-stream");
}

/** Whether a key names a playlist (by its extension). */
export function isPlaylistKey(path: string): boolean {
  const q = path.indexOf("?");
  const p = (q >= 0 ? path.slice(0, q) : path).toLowerCase();
  return p.endsWith(".m3u8") || p.endsWith(".m3u");
}
