// The edge's playback tier for the shared pipeline (workers/shared/playback/pipeline.ts): keys from its
// config, L0 (isolate memory) → L1 (Cache API) → the channel's origin shield, the event's admission
// batching, and the playlists it makes per viewer for stadium-node steering.
import { awaitShared } from "../../shared/cache/await-shared";
import { PullThroughCache, type PlaylistKind, type UpstreamResult } from "../../shared/cache/pull-through-cache";
import { playbackCacheKey, type PlaybackRequest, type PlaybackRoute, type PlaybackTier } from "../../shared/playback/pipeline";
import { singleChunk } from "../../shared/playback/response";
import { DomainError, isOverloaded, isRetryable, unexpectedFailure } from "../../shared/errors";
import { MULTIVARIANT_KEY, PlayKeyError } from "../../hls/paths";
import { channelOrigins, resolvePlayKey } from "../../hls/origins";
import { catalogStore } from "../catalog/store";
import type { Channel } from "../catalog/schemas";
import { originShield, type PlaylistVariant, type ShieldReply } from "../../../durable-objects/origin-shield/client";
import { edgeConfig } from "../config";
import { sessionWatch } from "../admission/session-watch";
import type { Tier } from "../../../durable-objects/event-gate/client";
import { multivariantSteering, nodeMediaPlaylist, serveSteering, steeredMultivariant, STEERING_TAG } from "./steering";

// Isolate-wide state: caches only, never options. Sizes keep well inside a Worker's 128 MB.
const l0 = new PullThroughCache({ maxBytes: 48 * 1024 * 1024, maxObjectBytes: 64 * 1024 * 1024 });
const SEGMENT_TTL_MS = 10 * 60_000;
/**
 * What each channel's index.m3u8 turned out to be, by `event/channel/version`. Most are multivariant, but an
 * origin of one rendition publishes a media playlist there, which players reload every target duration: it
 * has no ladder to cap and no pathways to add, so its reloads skip the per-viewer route lookup.
 */
const indexKinds = new Map<string, PlaylistKind>();
const L1_ORIGIN = "https://l1.balancer.internal";
/** Kept with a segment in L1: its variant BANDWIDTH (see ShieldReply), which an L1 hit must still know. */
const L1_BANDWIDTH = "x-balancer-bandwidth";

type EdgeRequest = PlaybackRequest<Env>;

/**
 * Which tier answered a request that ran the L0 load itself (set on the miss path only). A request absent here
 * was answered by L0: stored, or joined to another request's load.
 */
const loadedFrom = new WeakMap<EdgeRequest, Tier>();

/** The edge: every viewer on the internet, and the stadium nodes' own upstream requests. */
export const edgePlayback: PlaybackTier<Env> = {
  verifyKeys: (env) => edgeConfig(env).verifyKeys,
  hasEnded: (sessionId, now) => sessionWatch.hasEnded(sessionId, now),
  cache: () => l0,
  // Stadium nodes: the steering manifest is per viewer (workers/edge/playback/steering.ts).
  steering: (req) => serveSteering(req.env, req.claims),
  route,
  record(req, read, bytes) {
    const { env, ctx, claims } = req;
    const report = sessionWatch.record(env, claims.e, claims.s, bytes, req.now, read.hit ? "memory" : (loadedFrom.get(req) ?? "memory"));
    if (report) ctx.waitUntil(report);
    // A playlist from an origin that sends no length (chunked): its bytes are counted once it has all arrived.
    if (req.playlist && read.length === undefined && !read.hit && req.request.method !== "HEAD") ctx.waitUntil(countWhenComplete(env, claims.e, claims.s, read.complete));
  },
  // A segment's bytes, as they left (see pipeline.ts): an aborted body counts what was written.
  sent(req, bytes) {
    const report = sessionWatch.record(req.env, req.claims.e, req.claims.s, bytes, Date.now());
    if (report) req.ctx.waitUntil(report);
  },
};

async function route(req: EdgeRequest): Promise<PlaybackRoute> {
  const { env, claims, key } = req;
  const channel = await catalogStore(env.CATALOG).getChannel(claims.e, claims.c);
  if (!channel) throw new DomainError({ code: "not_found", message: "This channel no longer exists." });
  const kindKey = `${claims.e}/${claims.c}/${channel.updatedAt}`;
  const version = String(channel.updatedAt);
  if (key !== MULTIVARIANT_KEY) {
    const cacheKey = playbackCacheKey(claims, key, { version });
    return {
      cacheKey,
      load: () => load(req, channel, cacheKey, undefined),
      ...(req.playlist ? { personalise: (read) => nodeMediaPlaylist(req.request, env, claims, req.token, key, read, req.now) } : {}),
    };
  }
  // The multivariant playlist: the only shared bytes with per-viewer variants (capped ladder, steering tag).
  const knownMedia = indexKinds.get(kindKey) === "media";
  const steering = knownMedia ? null : await multivariantSteering(req.request, env, claims);
  const capped = claims.b !== undefined ? { maxBandwidth: claims.b } : undefined;
  const variant: PlaylistVariant | undefined = steering ? { ...capped, steering: STEERING_TAG } : capped;
  const cacheKey = playbackCacheKey(claims, key, { version, steering: steering !== null });
  return {
    cacheKey,
    load: () => load(req, channel, cacheKey, knownMedia ? undefined : variant),
    personalise: (read) =>
      // By what the playlist is, not its name: a channel of one rendition serves a media playlist as index.m3u8.
      read.playlistKind === "media"
        ? nodeMediaPlaylist(req.request, env, claims, req.token, key, read, req.now)
        : steering
          ? steeredMultivariant(steering, req.token, read)
          : Promise.resolve(null),
    learned(read) {
      if (read.playlistKind && indexKinds.get(kindKey) !== read.playlistKind) {
        if (indexKinds.size >= 10_000) indexKinds.clear();
        indexKinds.set(kindKey, read.playlistKind);
      }
    },
  };
}

async function countWhenComplete(env: Env, eventId: string, sessionId: string, complete: Promise<Uint8Array>): Promise<void> {
  const body = await awaitShared(complete).catch(() => null);
  if (body) await sessionWatch.record(env, eventId, sessionId, body.byteLength, Date.now());
}

/** An L0 miss: the Cache API for segments, then the channel's origin shield. */
async function load(req: EdgeRequest, channel: Channel, cacheKey: string, variant: PlaylistVariant | undefined): Promise<UpstreamResult> {
  const { env, ctx, key } = req;
  const origin = { originUrl: channel.originUrl, allowedHosts: channel.allowedHosts };
  const backupOriginUrls = channel.backupOriginUrls ?? [];
  try {
    // Refuse path tricks here, before any Durable Object sees them: a key is its own origin's (see origins.ts).
    resolvePlayKey(key, channelOrigins(channel.originUrl, channel.allowedHosts, backupOriginUrls));
  } catch (err) {
    if (err instanceof PlayKeyError) return { ok: false, failure: { code: "not_found", message: "No such resource." }, ttlMs: 0 };
    throw err;
  }
  const l1Key = new Request(`${L1_ORIGIN}/${encodeURIComponent(cacheKey)}`);
  if (!req.playlist) {
    const cached = await caches.default.match(l1Key);
    if (cached?.body) {
      loadedFrom.set(req, "cacheApi");
      const bandwidth = Number(cached.headers.get(L1_BANDWIDTH) ?? 0);
      return { ok: true, contentType: cached.headers.get("content-type") ?? "application/octet-stream", body: cached.body, ttlMs: SEGMENT_TTL_MS, ...(bandwidth > 0 ? { bandwidth } : {}) };
    }
  }
  const shieldRequest = { origin, backupOriginUrls, originVersion: `${channel.originUrl} ${channel.updatedAt}`, key, ...(variant ? { variant } : {}) };
  const ask = () => originShield(env, channel.eventId, channel.id).get(shieldRequest);
  let reply: ShieldReply;
  try {
    // A shield object reset or moved mid-call (a deploy, an eviction) is asked once more on a fresh stub.
    reply = await ask().catch((err: unknown) => (isRetryable(err) && !isOverloaded(err) ? ask() : Promise.reject(err)));
  } catch (err) {
    // The platform's failure, said as such (503 with Retry-After), never remembered as the origin's.
    return { ok: false, failure: unexpectedFailure(err), ttlMs: 0 };
  }
  loadedFrom.set(req, reply.type === "bytes" && reply.fromOrigin ? "origin" : "shield");
  switch (reply.type) {
    case "error":
      return { ok: false, failure: reply.failure, ttlMs: forgetsAtOnce(reply.failure) ? 0 : 500 };
    case "playlist": {
      // The length goes with it: the response carries Content-Length and the egress meter counts it.
      const bytes = new TextEncoder().encode(reply.text);
      return { ok: true, contentType: "application/vnd.apple.mpegurl", body: singleChunk(bytes), ttlMs: reply.ttlMs, length: bytes.byteLength, playlistKind: reply.kind, ...withBandwidth(reply.bandwidth) };
    }
    case "document": {
      const bytes = new TextEncoder().encode(reply.text);
      return { ok: true, contentType: reply.contentType, body: singleChunk(bytes), ttlMs: reply.ttlMs, length: bytes.byteLength, ...withBandwidth(reply.bandwidth) };
    }
    case "bytes": {
      const [mine, forL1] = reply.body.tee();
      ctx.waitUntil(
        caches.default
          .put(l1Key, new Response(forL1, { headers: { "content-type": reply.contentType, "cache-control": "public, max-age=600", [L1_BANDWIDTH]: String(reply.bandwidth ?? 0) } }))
          .catch(() => {}),
      );
      return { ok: true, contentType: reply.contentType, body: mine, ttlMs: SEGMENT_TTL_MS, ...(reply.length !== undefined ? { length: reply.length } : {}), ...withBandwidth(reply.bandwidth) };
    }
  }
}

/**
 * A shield's answer that is not remembered for the viewers sharing the key: a key no playlist listed yet
 * (a part asked for before its preload hint: the next playlist lists it, and its request must then reach
 * the shield) and a request refused as bad (a blocking reload asking too far ahead, valid a part later).
 */
function forgetsAtOnce(failure: { code: string }): boolean {
  return failure.code === "not_found" || failure.code === "invalid_request";
}

/** A shield's bandwidth for the cache (absent from a shield that predates it: open to every viewer). */
function withBandwidth(bandwidth: number | undefined): { bandwidth?: number } {
  return bandwidth ? { bandwidth } : {};
}
