// Stadium node entry: /ping for viewers' apps, /play/<token>/… through the shared playback pipeline (its
// tier: public keys only, its own events, the platform upstream), /_node/* for the launcher on the same box
// (stats for heartbeats, ended sessions and the provisioned events from their answers).
import { Hono } from "hono";
import { z } from "zod";
import { IdSchema } from "../shared/ids";
import { DomainError, failureResponse, type Failure } from "../shared/errors";
import { PullThroughCache, type UpstreamResult } from "../shared/cache/pull-through-cache";
import { playbackCacheKey, playbackEntry, playbackError, type PlaybackTier } from "../shared/playback/pipeline";
import { PLAYBACK_HEADERS } from "../shared/playback/response";
import { timingSafeEqualText } from "../shared/timing-safe";
import { BANDWIDTH_HEADER, NODE_HEADER } from "../shared/playback/node-header";
import { nodeConfig, type StadiumNodeBindings, type StadiumNodeConfig } from "./config";
import { NodeCounters } from "./counters";
import { EndedSessions } from "../shared/playback/ended-sessions";
import { isPeerRequest, ownerOf, PEER_HEADER } from "./peers";
import { answerAfterBody } from "../shared/unread-body";

type NodeEnv = { Bindings: StadiumNodeBindings; Variables: { config: StadiumNodeConfig } };

// Isolate-wide state: caches and counters only.
let cache: PullThroughCache | null = null;
const counters = new NodeCounters();
/** Sessions the platform said are over (heartbeat answers): their playlists get 410, as at the edge. */
const ended = new EndedSessions();
const SEGMENT_TTL_MS = 10 * 60_000;

const app = new Hono<NodeEnv>();

app.use("*", async (c, next) => {
  c.set("config", nodeConfig(c.env));
  await next();
});

const EventIdsSchema = z.object({ eventIds: z.array(IdSchema).min(1).max(16) });

app.get("/ping", (c) => {
  const cfg = c.var.config;
  return c.json({ id: cfg.id, eventIds: cfg.eventIds, status: "ok" }, 200, { ...PLAYBACK_HEADERS, "cache-control": "no-store" });
});

/** The launcher's own routes need the stats key, which never leaves the box. */
async function requireStatsKey(header: string | undefined, statsKey: string): Promise<void> {
  if (!header?.startsWith("Bearer ") || !(await timingSafeEqualText(header.slice(7), statsKey))) {
    throw new DomainError({ code: "unauthenticated", message: "The node's own routes need its stats key." });
  }
}

app.get("/_node/stats", async (c) => {
  await requireStatsKey(c.req.header("authorization"), c.var.config.statsKey);
  const since = Number(c.req.query("since"));
  return c.json(counters.snapshot(Date.now(), cache?.storedBytes ?? 0, Number.isFinite(since) ? since : undefined), 200, { "cache-control": "no-store" });
});

// The launcher passes on the sessions a heartbeat answer said are over.
app.post("/_node/ended", async (c) => {
  await requireStatsKey(c.req.header("authorization"), c.var.config.statsKey);
  const body = (await c.req.json().catch(() => null)) as { sessionIds?: unknown } | null;
  const ids = Array.isArray(body?.sessionIds) ? body.sessionIds.filter((id): id is string => typeof id === "string") : null;
  if (!ids) throw new DomainError({ code: "invalid_request", message: "Expected { sessionIds: string[] }." });
  const now = Date.now();
  for (const id of ids) ended.mark(id, now);
  return c.body(null, 204);
});

// The launcher passes on the events the operator provisioned, when a heartbeat answer says they changed.
app.put("/_node/events", async (c) => {
  await requireStatsKey(c.req.header("authorization"), c.var.config.statsKey);
  const parsed = EventIdsSchema.safeParse(await c.req.json().catch(() => null));
  if (!parsed.success) throw new DomainError({ code: "invalid_request", message: "Expected { eventIds: string[] } (1-16 event ids)." });
  c.var.config.eventIds = parsed.data.eventIds;
  return c.body(null, 204);
});

/** A stadium node: tokens verified with public keys only, its own events only, the platform as upstream. */
const nodePlayback: PlaybackTier<StadiumNodeBindings> = {
  verifyKeys: (env) => nodeConfig(env).verifyKeys,
  accept(claims, env) {
    if (!nodeConfig(env).eventIds.includes(claims.e)) throw new DomainError({ code: "invalid_token", reason: "event not served by this node" });
  },
  hasEnded: (sessionId, now) => ended.has(sessionId, now),
  cache: (env) => (cache ??= new PullThroughCache({ maxBytes: nodeConfig(env).cacheBytes, maxObjectBytes: 64 * 1024 * 1024 })),
  // The steering manifest is per viewer and decided by the platform: passed through, never cached.
  async steering(req) {
    const cfg = nodeConfig(req.env);
    counters.viewer(req.claims.s, req.claims.e, req.now);
    const res = await fetch(`${cfg.platformUrl}/play/${req.token}/${req.key}`, { headers: { [NODE_HEADER]: cfg.id } });
    return new Response(res.body, { status: res.status, headers: res.headers });
  },
  route(req) {
    const cfg = nodeConfig(req.env);
    const { claims, playlist } = req;
    // Another process of this node asking the owner: not a viewer, and its bytes are not egress.
    const peer = cfg.peers.length > 0 && isPeerRequest(req.request, cfg.statsKey);
    if (!peer) counters.viewer(claims.s, claims.e, req.now);
    // Not per token: every viewer of the channel shares one copy (a capped ladder is its own multivariant).
    const cacheKey = playbackCacheKey(claims, req.key);
    const path = `/play/${req.token}/${req.key}`;
    return {
      cacheKey,
      load: async () => {
        const owner = cfg.peers.length > 1 ? ownerOf(cacheKey, cfg.peers.length) : cfg.peerIndex;
        if (owner !== cfg.peerIndex && !peer) {
          counters.peerFetch();
          const url = `${cfg.peers[owner]}${path}`;
          try {
            return await answerOf(await fetch(url, { headers: { [PEER_HEADER]: cfg.statsKey, [NODE_HEADER]: cfg.id } }), url, playlist);
          } catch (err) {
            // The owner process is gone (restarting): the platform directly, rather than fail the viewer.
            console.warn(`process ${owner} of this node unreachable for ${keyOf(url)}: ${String(err)}`);
          }
        }
        counters.upstream(cacheKey, playlist);
        return load(`${cfg.platformUrl}${path}`, cfg.id, playlist);
      },
    };
  },
  record: (req, read, bytes) => {
    const cfg = nodeConfig(req.env);
    if (cfg.peers.length > 0 && isPeerRequest(req.request, cfg.statsKey)) return;
    counters.served(req.playlist, read.hit, bytes);
  },
  sent: (req, bytes) => {
    const cfg = nodeConfig(req.env);
    if (cfg.peers.length > 0 && isPeerRequest(req.request, cfg.statsKey)) return;
    counters.sent(bytes);
  },
};

/** One upstream fetch from the platform: playlists kept as long as its Cache-Control says, segments for 10 minutes. */
async function load(url: string, nodeId: string, playlist: boolean): Promise<UpstreamResult> {
  let res: Response;
  try {
    res = await fetchOnceMore(url, { [NODE_HEADER]: nodeId });
  } catch (err) {
    console.warn(`upstream fetch failed twice for ${keyOf(url)}: ${String(err)}`);
    return { ok: false, failure: { code: "origin_error", detail: `platform unreachable: ${String(err)}` }, ttlMs: 500 };
  }
  return answerOf(res, url, playlist);
}

/** An upstream answer (the platform's, or the owner process's, which has the same form) as what the cache keeps. */
async function answerOf(res: Response, url: string, playlist: boolean): Promise<UpstreamResult> {
  if (!res.ok || !res.body) {
    const detail = await res.text().catch(() => "");
    if (res.status >= 500) console.warn(`upstream answered ${res.status} for ${keyOf(url)}: ${detail.slice(0, 300)}`);
    // Token and session answers concern one viewer: never remembered for the others sharing this key. Nor a
    // 404 (a part asked for before a playlist hinted it is listed a part later, and its request must then go
    // through) or a 400 (a blocking reload too far ahead is valid a part later).
    const forgotten = res.status === 400 || res.status === 401 || res.status === 403 || res.status === 404 || res.status === 410;
    return { ok: false, failure: failureFor(res.status, detail), ttlMs: forgotten ? 0 : 500 };
  }
  const contentType = res.headers.get("content-type") ?? "application/octet-stream";
  const length = Number(res.headers.get("content-length") ?? NaN);
  const ttlMs = playlist ? maxAgeMs(res.headers.get("cache-control")) : SEGMENT_TTL_MS;
  // Kept with the bytes, so the quality cap holds for every viewer this node serves them to.
  const bandwidth = Number(res.headers.get(BANDWIDTH_HEADER) ?? 0);
  return { ok: true, contentType, body: res.body, ttlMs, ...(Number.isFinite(length) ? { length } : {}), ...(bandwidth > 0 ? { bandwidth } : {}) };
}

/**
 * A GET to the platform, sent a second time if the first fails before any response (for example a
 * kept-alive connection the other side closed just as the request went out). Only network errors are
 * retried, never an answer: the GET is idempotent, and one viewer's segment should not fail for it.
 */
async function fetchOnceMore(url: string, headers: Record<string, string>): Promise<Response> {
  try {
    return await fetch(url, { headers });
  } catch (err) {
    console.warn(`upstream fetch failed for ${keyOf(url)}, sending it again: ${String(err)}`);
    return fetch(url, { headers });
  }
}

/** The part of a playback URL after the token, for logs (the token is a credential). */
function keyOf(url: string): string {
  return url.replace(/\/play\/[^/]+\//, "/play/…/");
}

function maxAgeMs(cacheControl: string | null): number {
  const m = /(?:^|,)\s*max-age=(\d+)/i.exec(cacheControl ?? "");
  return m ? Math.min(Number(m[1]), 60) * 1000 : 0;
}

/** The platform's answer as this node's failure; `body` is the platform's error JSON, when it sent one. */
function failureFor(status: number, body: string): Failure {
  switch (status) {
    case 400:
      return { code: "invalid_request", message: errorOf(body).message ?? "The request was refused as bad." };
    case 403:
      // A quality above the viewer's cap, or a token the platform refused.
      return errorOf(body).code === "forbidden" ? { code: "forbidden", message: "This quality is above the one this session was granted." } : { code: "invalid_token", reason: "refused by the platform" };
    case 404:
      return { code: "not_found", message: "No such resource." };
    case 410:
      return { code: "session_expired" };
    case 504:
      return { code: "origin_timeout" };
    default:
      return { code: "origin_error", detail: `platform answered ${status}` };
  }
}

/** The code and message of the platform's error JSON, where it sent one. */
function errorOf(body: string): { code?: string; message?: string } {
  try {
    const error = (JSON.parse(body) as { error?: { code?: unknown; message?: unknown } }).error;
    return { ...(typeof error?.code === "string" ? { code: error.code } : {}), ...(typeof error?.message === "string" ? { message: error.message } : {}) };
  } catch {
    return {};
  }
}

app.notFound(() => failureResponse({ code: "not_found", message: "Nothing is here." }));
app.onError((err) => playbackError(err));

/**
 * The node's fetch handler: playback requests to the shared playback pipeline, the rest (ping, the launcher's
 * routes) to Hono; a body nothing read is read before the answer, so the connection stays usable.
 */
export default {
  fetch: answerAfterBody(playbackEntry(nodePlayback, (request, env, ctx) => app.fetch(request, env, ctx))),
} satisfies ExportedHandler<StadiumNodeBindings>;
