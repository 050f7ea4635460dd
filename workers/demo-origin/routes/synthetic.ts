// /synthetic/…: clock-driven live playlists over filler segments of a chosen size, for benchmarks.
import { Hono, type Context } from "hono";
import { rangedResponse } from "../byte-range";
import { fillerBytes, MAX_SYNTHETIC_BYTES } from "../filler";
import { jsonError } from "../json-error";
import { buildLiveMediaPlaylist, segmentInReach, type LiveClock } from "../live-playlist";
import { PLAYLIST_CACHE_CONTROL, SEGMENT_CACHE_CONTROL } from "../media-headers";
import { SEGMENT_MS, WINDOW_SEGMENTS } from "../renditions";
import type { DemoOriginApp } from "../types";

/** Window of /synthetic/long/index.m3u8: a playlist big enough to make per-viewer playlist work show. */
export const LONG_WINDOW_SEGMENTS = 2000;
/** Segment size of the long playlist: ten TS packets, so the playlist, not the bytes, is what is measured. */
export const LONG_SEGMENT_BYTES = 1880;

const SEGMENT_FILE = /^seg-(\d{1,15})\.bin$/;

/**
 * The window of a sized synthetic playlist: `?window=N` (1 to LONG_WINDOW_SEGMENTS) lists N segments, so a
 * benchmark can ask for segments nobody asked for yet that the playlist still lists (the platform serves
 * only what a playlist lists).
 */
function windowOf(c: Context): number {
  const n = Number(c.req.query("window") ?? WINDOW_SEGMENTS);
  return Number.isSafeInteger(n) && n >= 1 && n <= LONG_WINDOW_SEGMENTS ? n : WINDOW_SEGMENTS;
}

function clock(windowSegments: number): LiveClock {
  return { now: Date.now(), segmentMs: SEGMENT_MS, windowSegments };
}

function playlist(c: Context, windowSegments: number): Response {
  const body = buildLiveMediaPlaylist({
    ...clock(windowSegments),
    segmentUri: (msn) => `seg-${msn}.bin`,
    segmentDuration: () => SEGMENT_MS / 1000,
  });
  return c.body(body, 200, { "content-type": "application/vnd.apple.mpegurl", "cache-control": PLAYLIST_CACHE_CONTROL });
}

function segment(c: Context, windowSegments: number, size: number): Response {
  const m = SEGMENT_FILE.exec(c.req.param("file") ?? "");
  if (!m) return jsonError(c, 404, "not_found", `Nothing is at ${c.req.path}.`);
  const msn = Number(m[1]);
  if (!segmentInReach(msn, clock(windowSegments))) {
    return jsonError(c, 404, "not_found", `Segment ${msn} is not available at this time.`);
  }
  return rangedResponse(c.req.raw, fillerBytes(size), { "content-type": "video/mp2t", "cache-control": SEGMENT_CACHE_CONTROL });
}

function sizeOf(c: Context): number | Response {
  const size = Number(c.req.param("bytes"));
  if (!Number.isSafeInteger(size) || size < 1 || size > MAX_SYNTHETIC_BYTES) {
    return jsonError(c, 400, "invalid_request", `Segment size must be 1 to ${MAX_SYNTHETIC_BYTES} bytes.`);
  }
  return size;
}

export const synthetic = new Hono<DemoOriginApp>()
  .get("/long/index.m3u8", (c) => playlist(c, LONG_WINDOW_SEGMENTS))
  .get("/long/:file", (c) => segment(c, LONG_WINDOW_SEGMENTS, LONG_SEGMENT_BYTES))
  .get("/:bytes{[0-9]{1,10}}/index.m3u8", (c) => {
    const size = sizeOf(c);
    return typeof size === "number" ? playlist(c, windowOf(c)) : size;
  })
  .get("/:bytes{[0-9]{1,10}}/:file", (c) => {
    const size = sizeOf(c);
    return typeof size === "number" ? segment(c, LONG_WINDOW_SEGMENTS, size) : size;
  });
