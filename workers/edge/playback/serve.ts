// The edge's playback path: token check, L0 (isolate memory) → L1 (Cache API) → origin shield.
import { DomainError } from "../../shared/errors";
import { awaitShared } from "../../shared/await-shared";
import { isPlaylistKey } from "../../shared/origin-fetch";
import { VerifiedTokenCache } from "../../shared/playback-token";
import { PullThroughCache, storedRead, type CacheRead, type PlaylistKind, type UpstreamResult } from "../../shared/pull-through-cache";
import { fromPlayKey, PlayKeyError } from "../../hls/paths";
import { catalogStore } from "../catalog/store";
import type { Channel } from "../catalog/schemas";
import { originShield } from "../../../durable-objects/origin-shield.client";
import type { EdgeConfig } from "../config";
import { parsePlayUrl } from "../../shared/play-request";
import { playbackResponse, singleChunk } from "../../shared/playback-response";
import { sessionWatch } from "../admission/session-watch";
import { isSteeringKey, personalPlaylist, serveSteering, steeringVariant } from "./steering";
import type { PlaylistVariant } from "../../../durable-objects/origin-shield";

// Isolate-wide state: caches only, never options. Sizes keep well inside a Worker's 128 MB.
const tokens = new VerifiedTokenCache();
const l0 = new PullThroughCache({ maxBytes: 48 * 1024 * 1024, maxObjectBytes: 64 * 1024 * 1024 });
const SEGMENT_TTL_MS = 10 * 60_000;
/**
 * What each channel's index.m3u8 turned out to be, by `event/channel/version`. Most are multivariant, but an
 * origin of one rendition publishes a media playlist there, which players reload every target duration: it
 * has no ladder to cap and no pathways to add, so its reloads skip the per-viewer route lookup.
 */
const indexKinds = new Map<string, PlaylistKind>();
const L1_ORIGIN = "https://l1.balancer.internal";


/**
 * GET /play/<token>/<key>: every playlist, segment, key and init section a player asks for. Called
 * straight from the worker's fetch entry (workers/edge/app.ts), not through Hono: a segment hit must
 * cost as little as the runtime allows. Failures are thrown as DomainError, like every route's.
 */
export async function servePlayback(request: Request, env: Env, ctx: Pick<ExecutionContext, "waitUntil">, cfg: EdgeConfig): Promise<Response> {
  const path = parsePlayUrl(request.url);
  if (!path) throw new DomainError({ code: "not_found", message: "No such playback path." });
  const verified = await tokens.verify(path.token, cfg.verifyKeys, Date.now() / 1000);
  if (!verified.ok) throw new DomainError({ code: "invalid_token", reason: verified.reason });
  const claims = verified.claims;
  // Stadium nodes: the steering manifest is per viewer and never cached here (workers/edge/playback/steering.ts).
  if (isSteeringKey(path.key)) return serveSteering(env, claims);

  const playlist = isPlaylistKey(path.key);
  const now = Date.now();
  // A session whose lease ended (or that was released) gets 410 at its next playlist reload.
  if (playlist && sessionWatch.hasEnded(claims.s, now)) throw new DomainError({ code: "session_expired" });

  const channel = await catalogStore(env.CATALOG).getChannel(claims.e, claims.c);
  if (!channel) throw new DomainError({ code: "not_found", message: "This channel no longer exists." });

  // Only the multivariant playlist has per-viewer variants (bandwidth cap, steering tag).
  const channelKey = `${claims.e}/${claims.c}/${channel.updatedAt}`;
  let variant: PlaylistVariant | undefined;
  let cacheKey: string;
  if (path.key === "index.m3u8" && indexKinds.get(channelKey) !== "media") {
    const capped = claims.b !== undefined ? { maxBandwidth: claims.b } : undefined;
    const steering = await steeringVariant(request, env, claims, path.key);
    variant = steering ? { ...capped, steering } : capped;
    cacheKey = `${channelKey}/${capped ? `b${capped.maxBandwidth}/` : ""}${steering ? "steer/" : ""}${path.key}`;
  } else {
    cacheKey = `${channelKey}/${path.key}`;
  }

  const stored = l0.peek(cacheKey, now);
  const read: CacheRead = stored ? storedRead(stored) : await l0.read(cacheKey, now, () => load(env, ctx, channel, path.key, cacheKey, playlist, variant));
  if (!read.ok) throw new DomainError(read.failure);
  if (path.key === "index.m3u8" && read.playlistKind && indexKinds.get(channelKey) !== read.playlistKind) {
    if (indexKinds.size >= 10_000) indexKinds.clear();
    indexKinds.set(channelKey, read.playlistKind);
  }
  // A HEAD sends no body: it renews the session but adds nothing to the event's egress.
  const report = sessionWatch.record(env, claims.e, claims.s, request.method === "HEAD" ? 0 : (read.length ?? 0), now);
  if (report) ctx.waitUntil(report);
  // An origin that sends no length (chunked): the body's bytes are counted once it has all arrived.
  if (read.length === undefined && !read.hit && request.method !== "HEAD") ctx.waitUntil(countWhenComplete(env, claims.e, claims.s, read.complete));
  if (playlist) {
    const personal = await personalPlaylist(request, env, claims, path.token, path.key, read, now);
    if (personal) return personal;
  }
  // bind, not an arrow: the bundle wraps every arrow in a name-keeping call (esbuild keepNames), on every hit.
  return playbackResponse(read, { playlist, rangeHeader: request.headers.get("range") ?? undefined, now, waitUntil: ctx.waitUntil.bind(ctx) });
}

async function countWhenComplete(env: Env, eventId: string, sessionId: string, complete: Promise<Uint8Array>): Promise<void> {
  const body = await awaitShared(complete).catch(() => null);
  if (body) await sessionWatch.record(env, eventId, sessionId, body.byteLength, Date.now());
}

async function load(
  env: Env,
  ctx: Pick<ExecutionContext, "waitUntil">,
  channel: Channel,
  key: string,
  cacheKey: string,
  playlist: boolean,
  variant: PlaylistVariant | undefined,
): Promise<UpstreamResult> {
  const origin = { originUrl: channel.originUrl, allowedHosts: channel.allowedHosts };
  try {
    fromPlayKey(key, origin); // refuse path tricks here, before any Durable Object sees them
  } catch (err) {
    if (err instanceof PlayKeyError) return { ok: false, failure: { code: "not_found", message: "No such resource." }, ttlMs: 0 };
    throw err;
  }
  const l1Key = new Request(`${L1_ORIGIN}/${encodeURIComponent(cacheKey)}`);
  if (!playlist) {
    const cached = await caches.default.match(l1Key);
    if (cached?.body) {
      return { ok: true, contentType: cached.headers.get("content-type") ?? "application/octet-stream", body: cached.body, ttlMs: SEGMENT_TTL_MS };
    }
  }
  const reply = await originShield(env, channel.eventId, channel.id).get({
    origin,
    originVersion: `${channel.originUrl} ${channel.updatedAt}`,
    key,
    ...(variant ? { variant } : {}),
  });
  switch (reply.type) {
    case "error":
      return { ok: false, failure: reply.failure, ttlMs: 500 };
    case "playlist": {
      // The length goes with it: the response carries Content-Length and the egress meter counts it.
      const bytes = new TextEncoder().encode(reply.text);
      return { ok: true, contentType: "application/vnd.apple.mpegurl", body: singleChunk(bytes), ttlMs: reply.ttlMs, length: bytes.byteLength, playlistKind: reply.kind };
    }
    case "bytes": {
      const [mine, forL1] = reply.body.tee();
      ctx.waitUntil(
        caches.default
          .put(l1Key, new Response(forL1, { headers: { "content-type": reply.contentType, "cache-control": "public, max-age=600" } }))
          .catch(() => {}),
      );
      return { ok: true, contentType: reply.contentType, body: mine, ttlMs: SEGMENT_TTL_MS, ...(reply.length !== undefined ? { length: reply.length } : {}) };
    }
  }
}
