// /ll/<stream>/…: a Low-Latency HLS live channel (CMAF parts, blocking reloads, delta updates) on the wall clock.
import { Hono, type Context } from "hono";
import { z } from "zod";
import { serveAsset } from "../assets";
import { rangedResponse } from "../byte-range";
import { jsonError } from "../json-error";
import { buildMultivariantPlaylist, DEFAULT_REACH } from "../live-playlist";
import {
  buildLlMediaPlaylist,
  partAvailability,
  reloadDecision,
  segmentReadyAt,
  type LlTimeline,
  type PartRef,
  type ServerControl,
} from "../ll-playlist";
import {
  findLlRendition,
  LL_ON_AIR_MSN,
  LL_PARTS_PER_SEGMENT,
  LL_SEGMENT_MS,
  LL_WINDOW_SEGMENTS,
  llMedia,
  llPartSpan,
  llSegmentPath,
  type LlRendition,
} from "../ll-renditions";
import { mediaHeaders, PLAYLIST_CACHE_CONTROL } from "../media-headers";
import { requestStats } from "../request-stats";
import type { DemoOriginApp } from "../types";

const STREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const SEGMENT_FILE = /^seg-(\d{1,15})\.m4s$/;
const PART_FILE = /^part-(\d{1,15})-(\d{1,2})\.m4s$/;

const TIMELINE: LlTimeline = { segmentMs: LL_SEGMENT_MS, partsPerSegment: LL_PARTS_PER_SEGMENT };
// PART-HOLD-BACK three parts (RFC 8216bis: SHOULD be at least three PART-TARGETs); the skip boundary at
// its minimum of six target durations.
const SERVER_CONTROL: ServerControl = { partHoldBack: (3 * LL_SEGMENT_MS) / LL_PARTS_PER_SEGMENT / 1000, canSkipUntil: (6 * LL_SEGMENT_MS) / 1000 };
/** The rendition a single-media-playlist channel (`media.m3u8`) plays. */
const SINGLE_RENDITION = llMedia.renditions[0]!;

const MULTIVARIANT = buildMultivariantPlaylist(llMedia.renditions.map((r) => ({ ...r, uri: `${r.id}/index.m3u8` })));

// Delivery directives are client input: digits only, within safe integers; anything else is a 400.
const index = z.string().regex(/^\d{1,15}$/).transform(Number);
const Directives = z.object({
  _HLS_msn: index.optional(),
  _HLS_part: index.optional(),
  _HLS_skip: z.enum(["YES", "v2"]).optional(),
});

interface PlaylistShape {
  rendition: LlRendition;
  /** Prefix of segment, part and map URIs, relative to the playlist. */
  prefix: string;
  renditionReports: readonly string[];
}

function mediaPlaylist(shape: PlaylistShape, now: number, skip: boolean): string {
  const r = shape.rendition;
  const loop = llMedia.loopSegments;
  return buildLlMediaPlaylist({
    ...TIMELINE,
    ...SERVER_CONTROL,
    now,
    skip,
    windowSegments: LL_WINDOW_SEGMENTS,
    loopSegments: loop,
    onAirMsn: LL_ON_AIR_MSN,
    mapUri: `${shape.prefix}init.mp4`,
    segmentUri: (msn) => `${shape.prefix}seg-${msn}.m4s`,
    partUri: ({ msn, part }) => `${shape.prefix}part-${msn}-${part}.m4s`,
    segmentDuration: (msn) => r.partDurations[msn % loop]!.reduce((a, b) => a + b, 0),
    partDuration: ({ msn, part }) => r.partDurations[msn % loop]![part]!,
    renditionReports: shape.renditionReports,
  });
}

/** Answers a media playlist request, holding a blocking reload until the part it names exists. */
async function servePlaylist(c: Context<DemoOriginApp>, shape: PlaylistShape): Promise<Response> {
  const query = Directives.safeParse(c.req.query());
  if (!query.success) return jsonError(c, 400, "invalid_request", "_HLS_msn and _HLS_part are whole numbers; _HLS_skip is YES or v2.");
  const { _HLS_msn: msn, _HLS_part: part, _HLS_skip: skip } = query.data;
  const decision = reloadDecision({ msn, part }, Date.now(), TIMELINE);
  if (decision.kind === "refuse") return jsonError(c, 400, "invalid_request", decision.message);
  if (!(await waitUntil(decision.at, c.req.raw.signal))) return clientGone();
  // Timers fire a little late, never early; the playlist is built at the later of the two instants.
  const body = mediaPlaylist(shape, Math.max(Date.now(), decision.at), skip !== undefined);
  if (msn !== undefined) requestStats.answeredBlockingReload(c.req.path, msn, part, decision.at);
  return c.body(body, 200, { "content-type": "application/vnd.apple.mpegurl", "cache-control": PLAYLIST_CACHE_CONTROL });
}

/** Sleeps until `at`; false when the client went away first. */
async function waitUntil(at: number, signal: AbortSignal): Promise<boolean> {
  const ms = at - Date.now();
  if (ms <= 0) return !signal.aborted;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(!signal.aborted), ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve(false);
    }, { once: true });
  });
}

// Players and caches lag behind the playlist; segments that old are still served, like the regular live stream's.
function tooOld(msn: number, now: number): boolean {
  return msn < Math.floor(now / LL_SEGMENT_MS) - LL_WINDOW_SEGMENTS - DEFAULT_REACH.behind;
}

/** A part: its slice of the segment file, once it exists; the preload-hinted part is held until then. */
async function servePart(c: Context<DemoOriginApp>, r: LlRendition, ref: PartRef): Promise<Response> {
  const now = Date.now();
  if (ref.part >= LL_PARTS_PER_SEGMENT || tooOld(ref.msn, now)) return notFound(c);
  const availability = partAvailability(ref, now, TIMELINE);
  if (availability.kind === "missing") return jsonError(c, 404, "not_found", `Part ${ref.part} of segment ${ref.msn} does not exist yet.`);
  if (availability.kind === "hold" && !(await waitUntil(availability.until, c.req.raw.signal))) {
    return clientGone();
  }
  const file = await c.env.ASSETS.fetch(new URL(llSegmentPath(r, ref.msn), "https://assets.invalid"));
  if (!file.ok) return notFound(c);
  const { start, end } = llPartSpan(r, ref.msn, ref.part);
  const bytes = new Uint8Array(await file.arrayBuffer()).subarray(start, end);
  return rangedResponse(c.req.raw, bytes, mediaHeaders(c.req.path));
}

async function serveSegment(c: Context<DemoOriginApp>, r: LlRendition, msn: number): Promise<Response> {
  const now = Date.now();
  // A segment is published when its last part is; before that only its parts are.
  if (segmentReadyAt(msn, TIMELINE) > now || tooOld(msn, now)) {
    return jsonError(c, 404, "not_found", `Segment ${msn} is not available at this time.`);
  }
  return (await serveAsset(c.env, c.req.raw, llSegmentPath(r, msn))) ?? notFound(c);
}

export const ll = new Hono<DemoOriginApp>()
  .get("/:stream/:file{[a-z0-9]+\\.m3u8}", (c) => {
    if (!STREAM_NAME.test(c.req.param("stream"))) return notFound(c);
    const file = c.req.param("file");
    if (file === "index.m3u8") {
      return c.body(MULTIVARIANT, 200, { "content-type": "application/vnd.apple.mpegurl", "cache-control": PLAYLIST_CACHE_CONTROL });
    }
    // A single-rendition encoder's shape: the channel's entry is the media playlist itself, no siblings to report.
    if (file === "media.m3u8") return servePlaylist(c, { rendition: SINGLE_RENDITION, prefix: `${SINGLE_RENDITION.id}/`, renditionReports: [] });
    return notFound(c);
  })
  .get("/:stream/:rendition/:file", async (c) => {
    const { stream, file } = c.req.param();
    const r = findLlRendition(c.req.param("rendition"));
    if (!STREAM_NAME.test(stream) || r === undefined) return notFound(c);
    if (file === "index.m3u8") {
      const reports = llMedia.renditions.filter((o) => o.id !== r.id).map((o) => `../${o.id}/index.m3u8`);
      return servePlaylist(c, { rendition: r, prefix: "", renditionReports: reports });
    }
    if (file === "init.mp4") return (await serveAsset(c.env, c.req.raw, `/ll/${r.id}/init.mp4`)) ?? notFound(c);
    const part = PART_FILE.exec(file);
    if (part) return servePart(c, r, { msn: Number(part[1]), part: Number(part[2]) });
    const segment = SEGMENT_FILE.exec(file);
    if (segment) return serveSegment(c, r, Number(segment[1]));
    return notFound(c);
  });

// Nobody reads this answer; 499 (nginx's "client closed request") names the case in the request log.
function clientGone(): Response {
  return new Response(null, { status: 499 });
}

function notFound(c: Context): Response {
  return jsonError(c, 404, "not_found", `Nothing is at ${c.req.path}.`);
}
