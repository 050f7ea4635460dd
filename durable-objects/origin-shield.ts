// Per-channel origin shield: the only thing that talks to a channel's origin. Each segment is fetched
// once and streamed to every waiting edge; playlists are fetched at most once per half target duration,
// and only while someone asks for them.
import { DurableObject } from "cloudflare:workers";
import type { Failure } from "../workers/shared/errors";
import { contentTypeFor, fetchFromOrigin, isPlaylistKey, readTextBounded } from "../workers/shared/origin-fetch";
import { PullThroughCache, type UpstreamResult } from "../workers/shared/pull-through-cache";
import { fromPlayKey, isAllowedOriginUrl, PlayKeyError, toPlayKey, type ChannelOrigin } from "../workers/hls/paths";
import { NoVariantFitsError, PlaylistError, rewritePlaylist, type PlaylistInfo } from "../workers/hls/rewrite";
import { awaitShared } from "../workers/shared/await-shared";

/** Options that make one multivariant playlist differ from another (capped ladder, steering). */
export interface PlaylistVariant {
  maxBandwidth?: number;
  steering?: { serverUri: string; pathwayId: string };
}

export interface ShieldRequest {
  origin: ChannelOrigin;
  /** Changes whenever the operator edits the channel; a new version empties the window. */
  originVersion: string;
  /** The play key, query included (`720p/seg-1.ts`, `index.m3u8?_HLS_msn=5`). */
  key: string;
  variant?: PlaylistVariant;
}

export type ShieldReply =
  | { type: "playlist"; kind: PlaylistInfo["kind"]; text: string; ttlMs: number }
  | { type: "bytes"; contentType: string; length?: number; body: ReadableStream<Uint8Array> }
  | { type: "error"; failure: Failure };

interface FetchedPlaylist {
  text: string;
  url: URL;
  fetchedAt: number;
  freshMs: number;
  info: PlaylistInfo;
  rewritten: Map<string, string>;
}

const PLAYLIST_MAX_BYTES = 4 * 1024 * 1024;
const SEGMENT_MAX_BYTES = 64 * 1024 * 1024;
const SEGMENT_TTL_MS = 10 * 60_000;
const FAILURE_TTL_MS = 1_000;
/** LL-HLS blocking reloads are held by the origin; they are coalesced, never polled. */
const BLOCKING_RELOAD = /[?&]_HLS_msn=/;
const PREFETCH_NEWEST = 2;
/** A live playlist stays polled this many target durations after its last request (players reload every one). */
const WATCH_TARGET_DURATIONS = 2.5;

interface Watch {
  req: ShieldRequest;
  url: URL;
  lastRequested: number;
}

/** How long a fetched playlist may be served before the origin is asked again. */
export function playlistFreshMs(info: PlaylistInfo): number {
  if (info.kind === "multivariant") return 10_000;
  if (info.endList) return 60_000;
  return Math.max(500, ((info.targetDuration ?? 2) * 1000) / 2);
}

export class OriginShield extends DurableObject<Env> {
  private version = "";
  private readonly segments: PullThroughCache;
  private readonly playlists = new Map<string, FetchedPlaylist>();
  private readonly playlistFetches = new Map<string, Promise<FetchedPlaylist | Failure>>();
  private readonly playlistFailures = new Map<string, { failure: Failure; until: number }>();
  private originPlaylistRequests = 0;
  /** Live media playlists someone asked for recently: the alarm keeps them fresh ahead of the viewers. */
  private readonly watched = new Map<string, Watch>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const mb = Number(env.SHIELD_WINDOW_MB ?? "64");
    this.segments = new PullThroughCache({
      maxBytes: (Number.isFinite(mb) && mb > 0 ? mb : 64) * 1024 * 1024,
      maxObjectBytes: SEGMENT_MAX_BYTES,
    });
  }

  /** Serves one resource of the channel: a rewritten playlist or a segment's bytes. */
  async get(req: ShieldRequest): Promise<ShieldReply> {
    if (req.originVersion !== this.version) this.reset(req.originVersion);
    let url: URL;
    try {
      url = fromPlayKey(req.key, req.origin);
    } catch (err) {
      if (err instanceof PlayKeyError) return { type: "error", failure: { code: "not_found", message: "No such resource." } };
      throw err;
    }
    if (isPlaylistKey(req.key)) return this.playlist(req, url);
    const read = await this.segments.read(req.key, Date.now(), () => this.loadSegment(req.origin, url));
    if (!read.ok) return { type: "error", failure: read.failure };
    return { type: "bytes", contentType: read.contentType, length: read.length, body: read.stream() };
  }

  /**
   * The channel's quality ladder: the BANDWIDTH of each variant of its multivariant playlist, lowest
   * first (empty for an origin that is a single media playlist), for the egress budget.
   */
  async ladder(req: Omit<ShieldRequest, "key" | "variant">): Promise<number[] | null> {
    const reply = await this.get({ ...req, key: "index.m3u8" });
    if (reply.type !== "playlist") return null;
    const fetched = this.playlists.get("index.m3u8");
    return (fetched?.info.variants ?? []).map((v) => v.bandwidth).sort((a, b) => a - b);
  }

  /** Figures for the operator: what reached the origin, and how the window is doing. */
  async snapshot(): Promise<{ originRequests: number; segmentFetches: number; playlistFetches: number; hits: number; misses: number; storedBytes: number }> {
    return {
      originRequests: this.segments.loads + this.originPlaylistRequests,
      segmentFetches: this.segments.loads,
      playlistFetches: this.originPlaylistRequests,
      hits: this.segments.hits,
      misses: this.segments.misses,
      storedBytes: this.segments.storedBytes,
    };
  }

  /**
   * Polls every watched live playlist that is due, once per half target duration, whatever the
   * number of viewers, and stops when nobody asked for a while. Safe to run twice: a fresh
   * playlist is not fetched again.
   */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const due: Promise<unknown>[] = [];
    for (const [key, w] of this.watched) {
      const fetched = this.playlists.get(key);
      const td = (fetched?.info.targetDuration ?? 2) * 1000;
      if (now - w.lastRequested > WATCH_TARGET_DURATIONS * td) {
        this.watched.delete(key);
        continue;
      }
      if (!fetched || now - fetched.fetchedAt >= fetched.freshMs) due.push(this.refresh(w.req, w.url));
    }
    await Promise.allSettled(due);
    await this.armPolling();
  }

  private async armPolling(): Promise<void> {
    let next = Number.POSITIVE_INFINITY;
    for (const key of this.watched.keys()) {
      const fetched = this.playlists.get(key);
      next = Math.min(next, fetched ? fetched.fetchedAt + fetched.freshMs : Date.now() + 500);
    }
    if (next === Number.POSITIVE_INFINITY) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > next) await this.ctx.storage.setAlarm(Math.max(next, Date.now() + 50));
  }

  /** One origin fetch of a playlist, shared by everyone who needs it meanwhile. */
  private refresh(req: ShieldRequest, url: URL): Promise<FetchedPlaylist | Failure> {
    let running = this.playlistFetches.get(req.key);
    if (!running) {
      running = this.fetchPlaylist(req, url).finally(() => this.playlistFetches.delete(req.key));
      this.playlistFetches.set(req.key, running);
    }
    return running;
  }

  private reset(version: string): void {
    this.version = version;
    this.watched.clear();
    this.segments.clear();
    this.playlists.clear();
    this.playlistFailures.clear();
  }

  private async loadSegment(origin: ChannelOrigin, url: URL): Promise<UpstreamResult> {
    const res = await fetchFromOrigin(url, { isAllowed: (u) => isAllowedOriginUrl(u, origin), timeoutMs: 10_000 });
    if (!res.ok) return { ok: false, failure: res.failure, ttlMs: FAILURE_TTL_MS };
    const length = Number(res.response.headers.get("content-length") ?? "NaN");
    if (length > SEGMENT_MAX_BYTES) {
      await res.response.body?.cancel();
      return { ok: false, failure: { code: "origin_error", detail: "segment too large" }, ttlMs: FAILURE_TTL_MS };
    }
    return {
      ok: true,
      contentType: contentTypeFor(url.pathname, res.response.headers.get("content-type")),
      body: res.response.body ?? new ReadableStream({ start: (c) => c.close() }),
      length: Number.isFinite(length) ? length : undefined,
      ttlMs: SEGMENT_TTL_MS,
    };
  }

  private async playlist(req: ShieldRequest, url: URL): Promise<ShieldReply> {
    const now = Date.now();
    let fetched = this.playlists.get(req.key);
    if (!fetched || now - fetched.fetchedAt >= fetched.freshMs) {
      const failed = this.playlistFailures.get(req.key);
      if (failed && failed.until > now) return { type: "error", failure: failed.failure };
      const result = await awaitShared(this.refresh(req, url));
      if ("code" in result) return { type: "error", failure: result };
      fetched = result;
    }
    if (fetched.info.kind === "media" && !fetched.info.endList && !BLOCKING_RELOAD.test(req.key)) {
      const known = this.watched.get(req.key);
      this.watched.set(req.key, { req: { origin: req.origin, originVersion: req.originVersion, key: req.key }, url, lastRequested: now });
      if (!known) await this.armPolling();
    }
    const variantKey = JSON.stringify(req.variant ?? {});
    let text = fetched.rewritten.get(variantKey);
    if (text === undefined) {
      try {
        text = rewritePlaylist(fetched.text, {
          playlistUrl: fetched.url.toString(),
          playlistKey: req.key,
          origin: req.origin,
          ...(fetched.info.kind === "multivariant" ? req.variant : {}),
        }).text;
      } catch (err) {
        if (err instanceof NoVariantFitsError) {
          return { type: "error", failure: { code: "unavailable", message: "No quality of this stream fits the event's traffic budget now.", retryAfterSeconds: 5 } };
        }
        if (err instanceof PlaylistError) return { type: "error", failure: { code: "bad_origin_playlist", reason: err.reason } };
        throw err;
      }
      fetched.rewritten.set(variantKey, text);
    }
    const ttlMs = Math.max(0, fetched.fetchedAt + fetched.freshMs - Date.now());
    return { type: "playlist", kind: fetched.info.kind, text, ttlMs };
  }

  private async fetchPlaylist(req: ShieldRequest, url: URL): Promise<FetchedPlaylist | Failure> {
    const fail = (failure: Failure): Failure => {
      this.playlistFailures.set(req.key, { failure, until: Date.now() + FAILURE_TTL_MS });
      return failure;
    };
    this.originPlaylistRequests++;
    // A blocking LL-HLS reload is held by the origin for up to a few target durations.
    const blocking = BLOCKING_RELOAD.test(req.key);
    const res = await fetchFromOrigin(url, { isAllowed: (u) => isAllowedOriginUrl(u, req.origin), timeoutMs: blocking ? 15_000 : 5_000 });
    if (!res.ok) return fail(res.failure);
    const text = await readTextBounded(res.response, PLAYLIST_MAX_BYTES);
    if (text === null) return fail({ code: "bad_origin_playlist", reason: "playlist larger than 4 MiB" });
    let info: PlaylistInfo;
    let canonical: string;
    try {
      // Rewriting once validates the whole playlist, so a malformed one fails every viewer the same way.
      const result = rewritePlaylist(text, { playlistUrl: res.url.toString(), playlistKey: req.key, origin: req.origin });
      info = result.info;
      canonical = result.text;
    } catch (err) {
      if (err instanceof PlaylistError) return fail({ code: "bad_origin_playlist", reason: err.reason });
      throw err;
    }
    const previous = this.playlists.get(req.key);
    const fetched: FetchedPlaylist = {
      text,
      url: res.url,
      fetchedAt: Date.now(),
      freshMs: playlistFreshMs(info),
      info,
      rewritten: new Map([["{}", canonical]]),
    };
    this.playlists.set(req.key, fetched);
    this.playlistFailures.delete(req.key);
    if (info.kind === "media" && !info.endList) this.prefetch(req.origin, fetched, previous);
    return fetched;
  }

  /** Starts fetching the newest segments (and their init section) so the first viewer already hits. */
  private prefetch(origin: ChannelOrigin, now: FetchedPlaylist, previous: FetchedPlaylist | undefined): void {
    const known = new Set(previous?.info.segments.map((s) => s.uri) ?? []);
    const fresh = now.info.segments.filter((s) => !known.has(s.uri)).slice(-PREFETCH_NEWEST);
    const t = Date.now();
    for (const seg of fresh) {
      if (seg.byterange) continue; // byte-range segments share one file; fetched whole on first request
      const abs = new URL(seg.uri, now.url);
      const key = toPlayKey(abs, origin);
      if (key === null || this.segments.peek(key, t) || this.segments.isLoading(key)) continue;
      void this.segments.read(key, t, () => this.loadSegment(origin, abs)).then((r) => {
        if (r.ok && !r.hit) r.complete.catch(() => {});
      });
    }
  }
}
