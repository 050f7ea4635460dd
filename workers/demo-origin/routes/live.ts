// /live/<stream>/…: the looping real-media live stream; any stream name is its own channel over the same media.
import { Hono, type Context } from "hono";
import { serveAsset } from "../assets";
import { jsonError } from "../json-error";
import { buildLiveMediaPlaylist, buildMultivariantPlaylist, segmentInReach, type LiveClock, type Variant } from "../live-playlist";
import { PLAYLIST_CACHE_CONTROL } from "../media-headers";
import { findRendition, media, ON_AIR_MSN, SEGMENT_MS, sourceSegmentPath, WINDOW_SEGMENTS, type Rendition } from "../renditions";
import type { DemoOriginApp } from "../types";

const STREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const SEGMENT_FILE = /^seg-(\d{1,15})\.(ts|m4s)$/;

function variant(r: Rendition): Variant {
  return { uri: `${r.id}/index.m3u8`, ...r };
}

// hls.js 1.7 cannot switch between TS and fMP4 variants in one ladder (it transmuxes TS into separate
// audio and video SourceBuffers but appends muxed fMP4 to one combined buffer, and fails with "audiovideo
// SourceBuffer does not exist"), so the playable ladders keep one packaging each; all.m3u8 lists every
// rendition for tests of playlist handling, not for playback.
const variants = (container: Rendition["container"] | "any") =>
  media.renditions.filter((r) => container === "any" || r.container === container).map(variant);
const LADDERS: Record<string, string> = {
  "index.m3u8": buildMultivariantPlaylist(variants("ts")),
  "fmp4.m3u8": buildMultivariantPlaylist(variants("fmp4")),
  "all.m3u8": buildMultivariantPlaylist(variants("any")),
};

/**
 * The live media playlist of rendition `r` at `now`. `offset` renumbers it as another encoder of the same
 * picture would (LIVE_MSN_OFFSET): sequence numbers and segment names shifted, program date times the same.
 */
export function renditionPlaylist(r: Rendition, now: number, offset = 0): string {
  return buildLiveMediaPlaylist({
    ...clockAt(now),
    loopSegments: media.loopSegments,
    sequenceOffset: offset,
    segmentUri: (msn) => `seg-${msn + offset}.${r.segmentExtension}`,
    segmentDuration: (msn) => r.segmentDurations[msn % media.loopSegments] ?? media.segmentSeconds,
    mapUri: r.container === "fmp4" ? "init.mp4" : undefined,
    onAirMsn: ON_AIR_MSN,
  });
}

function clockAt(now: number): LiveClock {
  return { now, segmentMs: SEGMENT_MS, windowSegments: WINDOW_SEGMENTS };
}

function playlist(c: Context, body: string): Response {
  return c.body(body, 200, { "content-type": "application/vnd.apple.mpegurl", "cache-control": PLAYLIST_CACHE_CONTROL });
}

export const live = new Hono<DemoOriginApp>()
  .get("/:stream/:ladder{[a-z0-9]+\\.m3u8}", (c) => {
    const ladder = LADDERS[c.req.param("ladder")];
    if (!STREAM_NAME.test(c.req.param("stream")) || ladder === undefined) return notFound(c);
    return playlist(c, ladder);
  })
  .get("/:stream/:rendition/:file", async (c) => {
    const { stream, file } = c.req.param();
    const r = findRendition(c.req.param("rendition"));
    if (!STREAM_NAME.test(stream) || r === undefined) return notFound(c);
    const offset = msnOffset(c.env);
    if (file === "index.m3u8") return playlist(c, renditionPlaylist(r, Date.now(), offset));
    if (file === "init.mp4" && r.container === "fmp4") {
      return (await serveAsset(c.env, c.req.raw, `/live/${r.id}/init.mp4`)) ?? notFound(c);
    }
    const m = SEGMENT_FILE.exec(file);
    if (!m || m[2] !== r.segmentExtension) return notFound(c);
    const msn = Number(m[1]) - offset;
    // Lagging players and caches still get old segments; a segment from the future does not exist yet.
    if (!segmentInReach(msn, clockAt(Date.now()))) {
      return jsonError(c, 404, "not_found", `Segment ${msn} is not available at this time.`);
    }
    return (await serveAsset(c.env, c.req.raw, sourceSegmentPath(r, msn))) ?? notFound(c);
  });

function msnOffset(env: DemoOriginEnv): number {
  const n = Number(env.LIVE_MSN_OFFSET ?? "0");
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

function notFound(c: Context): Response {
  return jsonError(c, 404, "not_found", `Nothing is at ${c.req.path}.`);
}
