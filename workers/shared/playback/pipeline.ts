// The one playback pipeline of every serving tier (the edge, a stadium node): the /play/ entry, the token,
// ended sessions, the shared cache read, HEAD/Range/CORS and errors. A tier supplies only what differs
// (PlaybackTier): its keys, where a key's bytes come from, what it counts, and the playlists it makes per viewer.
import { DomainError, failureResponse, unexpectedFailure } from "../errors";
import { isPlaylistKey } from "../origin-fetch";
import { parsePlayUrl, isPlayPath, parseRange } from "./request";
import { PLAYBACK_HEADERS, playbackPreflight, playbackResponse } from "./response";
import { VerifiedTokenCache, type PlaybackClaims, type VerifyKey } from "./token";
import { awaitShared } from "../cache/await-shared";
import { COUNTED_ABOVE_BYTES } from "./counted-body";
import { storedRead, type CacheRead, type PullThroughCache, type UpstreamResult } from "../cache/pull-through-cache";
import { MULTIVARIANT_KEY, STEERING_KEY } from "../../hls/paths";

/** One verified playback request, as every tier hook sees it. */
export interface PlaybackRequest<E> {
  readonly request: Request;
  readonly env: E;
  readonly ctx: Pick<ExecutionContext, "waitUntil">;
  readonly token: string;
  /** The play key with the request's query, exactly as sent (`720p/seg-1.ts?x=1`). */
  readonly key: string;
  readonly claims: PlaybackClaims;
  readonly playlist: boolean;
  readonly now: number;
}

export type ServedRead = Extract<CacheRead, { ok: true }>;

/** Where one request's bytes come from, decided by the tier once per request. */
export interface PlaybackRoute {
  /** The key the bytes are shared under: every viewer asking for the same bytes gets the same key. */
  cacheKey: string;
  /** The upstream load, run only when nothing is stored, loading or recently failed under `cacheKey`. */
  load(): Promise<UpstreamResult>;
  /** A playlist made for this viewer from the shared bytes, or null to send the shared bytes as they are. */
  personalise?(read: ServedRead): Promise<Response | null>;
  /** Told what the read turned out to be (for example whether index.m3u8 is a multivariant playlist). */
  learned?(read: ServedRead): void;
}

/** What a tier supplies; the pipeline does the rest. */
export interface PlaybackTier<E> {
  /** Public keys that verify playback tokens (a tier never holds the signing key). */
  verifyKeys(env: E): readonly VerifyKey[];
  /** The tier's own refusals of a valid token, thrown as DomainError (a node serves only its events). */
  accept?(claims: PlaybackClaims, env: E): void;
  /** Whether this tier learned that the session is over: its every request then gets 410 session_expired. */
  hasEnded(sessionId: string, now: number): boolean;
  /** The tier's in-memory cache (L0), shared by every request of the isolate. */
  cache(env: E): PullThroughCache;
  /** The per-viewer Content Steering manifest; never cached. */
  steering(req: PlaybackRequest<E>): Promise<Response>;
  /** Where the request's bytes come from. Throws DomainError for a request it refuses. */
  route(req: PlaybackRequest<E>): PlaybackRoute | Promise<PlaybackRoute>;
  /**
   * Counts a successful read: `bytes` is what goes to the viewer (0 for HEAD). With `sent`, a segment's GET
   * is recorded with 0 and its bytes go to `sent` as they leave.
   */
  record(req: PlaybackRequest<E>, read: ServedRead, bytes: number): void;
  /** The bytes of a segment's GET body that the viewer's connection took, once the body is done or the viewer left. */
  sent?(req: PlaybackRequest<E>, bytes: number): void;
}

/**
 * The key a tier shares bytes under: per event and channel (and the channel's version where the tier knows
 * it), with the multivariant playlist split by the viewer's capped ladder and steering tag, the only
 * per-viewer differences in shared bytes.
 */
export function playbackCacheKey(claims: PlaybackClaims, key: string, o: { version?: string; steering?: boolean } = {}): string {
  let prefix = `${claims.e}/${claims.c}/`;
  if (o.version !== undefined) prefix += `${o.version}/`;
  if (key === MULTIVARIANT_KEY) {
    if (claims.b !== undefined) prefix += `b${claims.b}/`;
    if (o.steering) prefix += "steer/";
  }
  return prefix + key;
}

/** Whether a play key names the steering manifest (hls.js adds `_HLS_pathway` and `_HLS_throughput`). */
export function isSteeringKey(key: string): boolean {
  const q = key.indexOf("?");
  return (q < 0 ? key : key.slice(0, q)) === STEERING_KEY;
}

type FetchHandler<E> = (request: Request, env: E, ctx: ExecutionContext) => Response | Promise<Response>;

/**
 * The fetch entry of a tier: GET and HEAD under /play/ go to the pipeline, OPTIONS is the CORS preflight,
 * other methods on a playback path get 405; everything else goes to `other` (the tier's Hono app). Playback
 * skips Hono: its per-request context and middleware chain cost a segment hit more than the rest of the path.
 */
export function playbackEntry<E>(tier: PlaybackTier<E>, other: FetchHandler<E>): FetchHandler<E> {
  const serve = playbackPipeline(tier);
  return (request, env, ctx) => {
    if (!isPlayPath(request.url)) return other(request, env, ctx);
    switch (request.method) {
      case "GET":
        return serve(request, env, ctx);
      case "HEAD":
        return serve(request, env, ctx).then((res) => new Response(null, res));
      case "OPTIONS":
        return playbackPreflight();
      default:
        return playbackError(new DomainError({ code: "method_not_allowed" }), { allow: "GET, HEAD, OPTIONS" });
    }
  };
}

/** GET /play/<token>/<key> for one tier; every failure becomes the one error shape, with CORS. */
function playbackPipeline<E>(tier: PlaybackTier<E>): (request: Request, env: E, ctx: Pick<ExecutionContext, "waitUntil">) => Promise<Response> {
  // Isolate-wide: verified tokens are kept until they expire.
  const tokens = new VerifiedTokenCache();
  return async (request, env, ctx) => {
    try {
      return await serve(tier, tokens, request, env, ctx);
    } catch (err) {
      return playbackError(err);
    }
  };
}

async function serve<E>(tier: PlaybackTier<E>, tokens: VerifiedTokenCache, request: Request, env: E, ctx: Pick<ExecutionContext, "waitUntil">): Promise<Response> {
  const path = parsePlayUrl(request.url);
  if (!path) throw new DomainError({ code: "not_found", message: "No such playback path." });
  const verified = await tokens.verify(path.token, tier.verifyKeys(env), Date.now() / 1000);
  if (!verified.ok) throw new DomainError({ code: "invalid_token", reason: verified.reason });
  const claims = verified.claims;
  tier.accept?.(claims, env);
  const now = Date.now();
  const playlist = isPlaylistKey(path.key);
  const req: PlaybackRequest<E> = { request, env, ctx, token: path.token, key: path.key, claims, playlist, now };
  if (isSteeringKey(path.key)) return tier.steering(req);
  // A released or expired session is refused at once, segments included: its token is no longer a ticket in.
  if (tier.hasEnded(claims.s, now)) throw new DomainError({ code: "session_expired" });

  const route = await tier.route(req);
  const cache = tier.cache(env);
  const stored = cache.peek(route.cacheKey, now);
  let loading = false;
  const read = stored
    ? storedRead(stored)
    : await cache.read(route.cacheKey, now, () => {
        loading = true;
        return route.load();
      });
  if (!read.ok) throw new DomainError(read.failure);
  // A body still arriving is read by the request that asked upstream, in that request's context: were it to
  // end when its viewer leaves, the body would stop for every other viewer waiting on it. That request lives
  // until the body is in; the viewers who joined it need not (each writes the body in its own context).
  if (loading && !read.hit) ctx.waitUntil(awaitShared(read.complete).catch(() => {}));
  // The quality cap holds for every media playlist and segment, not only for the ladder index.m3u8 offers.
  if (claims.b !== undefined && read.bandwidth !== undefined && read.bandwidth > claims.b) {
    throw new DomainError({ code: "forbidden", message: "This quality is above the one this session was granted." });
  }
  route.learned?.(read);
  const rangeHeader = request.headers.get("range") ?? undefined;
  // A segment's egress is what its body put on the connection: an abort mid-body counts what was written. A
  // hit no larger than COUNTED_ABOVE_BYTES keeps the cheapest path, counted whole here (see counted-body.ts).
  const counted = tier.sent !== undefined && !playlist && request.method === "GET" && (!read.hit || read.length > COUNTED_ABOVE_BYTES);
  const sent = counted ? (bytes: number) => tier.sent!(req, bytes) : undefined;
  tier.record(req, read, sent ? 0 : bytesSent(request.method, playlist, rangeHeader, read.length));
  if (route.personalise) {
    const personal = await route.personalise(read);
    if (personal) return personal;
  }
  // bind, not an arrow: the bundle wraps every arrow in a name-keeping call (esbuild keepNames), on every hit.
  return playbackResponse(read, { playlist, rangeHeader, now, waitUntil: ctx.waitUntil.bind(ctx), ...(sent ? { sent } : {}) });
}

/**
 * The bytes a response sends, for the event's egress meter: none for a HEAD, the range's length for a
 * segment's Range request (as playbackResponse answers it), else the whole body when its length is known.
 */
function bytesSent(method: string, playlist: boolean, rangeHeader: string | undefined, length: number | undefined): number {
  if (method === "HEAD" || length === undefined) return 0;
  if (playlist || !rangeHeader) return length;
  const range = parseRange(rangeHeader, length);
  if (range === "unsatisfiable") return 0;
  return range ? range.end - range.start + 1 : length;
}

/** A playback failure as the one error shape, readable by players on other origins (CORS). */
export function playbackError(err: unknown, headers?: Record<string, string>): Response {
  if (err instanceof DomainError) return failureResponse(err.failure, headers ? { ...PLAYBACK_HEADERS, ...headers } : PLAYBACK_HEADERS);
  // A Durable Object or KV call that failed for a passing reason is 503 with Retry-After; anything else is ours.
  const failure = unexpectedFailure(err);
  if (failure.code === "internal") console.error("unhandled playback error", err);
  return failureResponse(failure, PLAYBACK_HEADERS);
}
