// Per-channel origin shield: the only thing that talks to a channel's origin. Each segment is fetched once
// and streamed to every waiting edge; live playlists are polled ahead of viewers while anyone asks for them.
// What to keep, poll and prefetch is decided by PlaylistWindow; this object does the fetching and the alarm.
import { DurableObject } from "cloudflare:workers";
import { awaitShared } from "../../workers/shared/cache/await-shared";
import { Coalescer } from "../../workers/shared/cache/coalescer";
import type { Failure } from "../../workers/shared/errors";
import { contentTypeFor, fetchFromOrigin, isPlaylistKey, readTextBounded } from "../../workers/shared/origin-fetch";
import { PullThroughCache, type UpstreamResult } from "../../workers/shared/cache/pull-through-cache";
import { fromPlayKey, isAllowedOriginUrl, MULTIVARIANT_KEY, PlayKeyError, toPlayKey, type ChannelOrigin } from "../../workers/hls/paths";
import { PlaylistError, type PlaylistInfo } from "../../workers/hls/rewrite";
import { rewriteAssetList } from "../../workers/hls/asset-list";
import { FAILURE_TTL_MS, isBlockingReload, PlaylistWindow, segmentsToPrefetch, type FetchedPlaylist, type PlaylistVariant } from "./playlist-window";

export type { PlaylistVariant };

export interface ShieldRequest {
  origin: ChannelOrigin;
  /** Changes whenever the operator edits the channel; a new version empties the window. */
  originVersion: string;
  /** The play key, query included (`720p/seg-1.ts`, `index.m3u8?_HLS_msn=5`). */
  key: string;
  variant?: PlaylistVariant;
}

/** `bandwidth`: the lowest BANDWIDTH of a variant that reaches the resource (0: any viewer); a viewer capped below it is refused. */
export type ShieldReply =
  | { type: "playlist"; kind: PlaylistInfo["kind"]; text: string; ttlMs: number; bandwidth: number }
  | { type: "bytes"; contentType: string; length?: number; body: ReadableStream<Uint8Array>; bandwidth: number }
  /** An interstitial asset list, rewritten: kept by the edge for `ttlMs`, never in its segment cache. */
  | { type: "document"; contentType: string; text: string; ttlMs: number; bandwidth: number }
  | { type: "error"; failure: Failure };

const PLAYLIST_MAX_BYTES = 4 * 1024 * 1024;
const ASSET_LIST_MAX_BYTES = 1024 * 1024;
/** An asset list is fetched again after this long: ad decisions change, and the edge keeps it as long. */
const ASSET_LIST_TTL_MS = 2_000;
const SEGMENT_MAX_BYTES = 64 * 1024 * 1024;
const SEGMENT_TTL_MS = 10 * 60_000;
const NOT_FOUND: ShieldReply = { type: "error", failure: { code: "not_found", message: "No such resource." } };

export class OriginShield extends DurableObject<Env> {
  private version = "";
  private window = new PlaylistWindow();
  private readonly segments: PullThroughCache;
  private readonly playlistFetches = new Coalescer<FetchedPlaylist | Failure>();
  private readonly assetListFetches = new Coalescer<ShieldReply>();
  private originPlaylistRequests = 0;
  /** A read of the channel's playlists for keys they did not list (yet), shared by every such request meanwhile. */
  private listingRead: Promise<void> | null = null;
  /** Why the last listing read could not read the channel's entry, answered to unlisted keys until the next. */
  private listingFailure: Failure | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const mb = Number(env.SHIELD_WINDOW_MB ?? "64");
    this.segments = new PullThroughCache({ maxBytes: (Number.isFinite(mb) && mb > 0 ? mb : 64) * 1024 * 1024, maxObjectBytes: SEGMENT_MAX_BYTES });
  }

  /** Serves one resource of the channel: a rewritten playlist or a segment's bytes. */
  async get(req: ShieldRequest): Promise<ShieldReply> {
    if (req.originVersion !== this.version) {
      this.version = req.originVersion;
      this.window = new PlaylistWindow();
      this.segments.clear();
    }
    let url: URL;
    try {
      url = fromPlayKey(req.key, req.origin);
    } catch (err) {
      if (err instanceof PlayKeyError) return NOT_FOUND;
      throw err;
    }
    // A token opens only what its channel's playlists list: anything else is 404, fetched from nowhere.
    const listed = await this.lists(req);
    if (listed !== true) return listed;
    if (isPlaylistKey(req.key)) return this.playlist(req, url);
    if (this.window.isAssetList(req.key)) return this.assetListFetches.run(req.key, () => this.assetList(req, url));
    const read = await this.segments.read(req.key, Date.now(), () => this.loadSegment(req.origin, url));
    if (!read.ok) return { type: "error", failure: read.failure };
    return { type: "bytes", contentType: read.contentType, length: read.length, body: read.stream(), bandwidth: this.window.bandwidth(req.key) };
  }

  /** The BANDWIDTH of each variant of the channel's multivariant playlist, lowest first (empty for a lone media playlist), for the egress budget. */
  async ladder(req: Omit<ShieldRequest, "key" | "variant">): Promise<number[] | null> {
    const reply = await this.get({ ...req, key: MULTIVARIANT_KEY });
    return reply.type === "playlist" ? this.window.ladder(MULTIVARIANT_KEY) : null;
  }

  /** Figures for the operator: what reached the origin, and how the window is doing. */
  async snapshot(): Promise<{ originRequests: number; segmentFetches: number; playlistFetches: number; hits: number; misses: number; storedBytes: number }> {
    const s = this.segments;
    return { originRequests: s.loads + this.originPlaylistRequests, segmentFetches: s.loads, playlistFetches: this.originPlaylistRequests, hits: s.hits, misses: s.misses, storedBytes: s.storedBytes };
  }

  /** Polls every watched live playlist that is due, whatever the number of viewers. Safe to run twice: a fresh playlist is not fetched again. */
  override async alarm(): Promise<void> {
    await Promise.allSettled(this.window.due(Date.now()).map((t) => this.refresh(t.key, t.origin, t.url)));
    await this.armPolling();
  }

  private async armPolling(): Promise<void> {
    const at = this.window.alarmAt(Date.now(), await this.ctx.storage.getAlarm());
    if (at !== null) await this.ctx.storage.setAlarm(at);
  }

  /** One origin fetch of a playlist, shared by everyone who needs it meanwhile. */
  private refresh(key: string, origin: ChannelOrigin, url: URL): Promise<FetchedPlaylist | Failure> {
    return this.playlistFetches.run(key, () => this.fetchPlaylist(key, origin, url));
  }

  private async loadSegment(origin: ChannelOrigin, url: URL): Promise<UpstreamResult> {
    const res = await fetchFromOrigin(url, { isAllowed: (u) => isAllowedOriginUrl(u, origin), timeoutMs: 10_000 });
    if (!res.ok) return { ok: false, failure: res.failure, ttlMs: FAILURE_TTL_MS };
    const length = Number(res.response.headers.get("content-length") ?? "NaN");
    if (length > SEGMENT_MAX_BYTES) {
      await res.response.body?.cancel();
      return { ok: false, failure: { code: "origin_error", detail: "segment too large" }, ttlMs: FAILURE_TTL_MS };
    }
    const body = res.response.body ?? new ReadableStream({ start: (c) => c.close() });
    const contentType = contentTypeFor(url.pathname, res.response.headers.get("content-type"));
    return { ok: true, contentType, body, length: Number.isFinite(length) ? length : undefined, ttlMs: SEGMENT_TTL_MS };
  }

  /**
   * Whether the channel's playlists list `req.key`. A key they do not list makes them be read again (the
   * entry and, for a multivariant, its media playlists) at most once per LISTING_RECHECK_MS, so a shield
   * that restarted still serves what viewers' playlists list while junk keys cost the origin nothing.
   */
  private async lists(req: ShieldRequest): Promise<true | ShieldReply> {
    if (this.window.isListed(req.key)) return true;
    if (!this.listingRead && this.window.recheckListing(Date.now())) {
      this.listingRead = this.readListing(req.origin)
        .catch(() => {})
        .finally(() => (this.listingRead = null));
    }
    if (this.listingRead) await awaitShared(this.listingRead);
    if (this.window.isListed(req.key)) return true;
    // An origin that cannot be read is the origin's failure, not a key nobody listed.
    return this.listingFailure ? { type: "error", failure: this.listingFailure } : NOT_FOUND;
  }

  private async readListing(origin: ChannelOrigin): Promise<void> {
    const entry = await this.fetched(MULTIVARIANT_KEY, origin, fromPlayKey(MULTIVARIANT_KEY, origin));
    this.listingFailure = "code" in entry ? entry : null;
    if ("code" in entry) return;
    await Promise.allSettled(this.window.listedPlaylists().map(async (key) => this.fetched(key, origin, fromPlayKey(key, origin))));
  }

  /** The playlist under `key`: fresh from the window, its remembered failure, or one (shared) origin fetch. */
  private async fetched(key: string, origin: ChannelOrigin, url: URL): Promise<FetchedPlaylist | Failure> {
    const now = Date.now();
    return this.window.fresh(key, now) ?? this.window.failure(key, now) ?? (await awaitShared(this.refresh(key, origin, url)));
  }

  private async playlist(req: ShieldRequest, url: URL): Promise<ShieldReply> {
    const now = Date.now();
    const fetched = await this.fetched(req.key, req.origin, url);
    if ("code" in fetched) return { type: "error", failure: fetched };
    if (this.window.watch({ key: req.key, origin: req.origin, url }, fetched, now)) await this.armPolling();
    const text = this.window.rendering(fetched, req);
    if (typeof text !== "string") return { type: "error", failure: text };
    const ttlMs = Math.max(0, fetched.fetchedAt + fetched.freshMs - Date.now());
    return { type: "playlist", kind: fetched.info.kind, text, ttlMs, bandwidth: this.window.bandwidth(req.key) };
  }

  /** An interstitial asset list, fetched for everyone asking meanwhile, rewritten, and its assets listed. */
  private async assetList(req: ShieldRequest, url: URL): Promise<ShieldReply> {
    this.originPlaylistRequests++;
    const res = await fetchFromOrigin(url, { isAllowed: (u) => isAllowedOriginUrl(u, req.origin), timeoutMs: 5_000 });
    if (!res.ok) return { type: "error", failure: res.failure };
    const text = await readTextBounded(res.response, ASSET_LIST_MAX_BYTES);
    if (text === null) return { type: "error", failure: { code: "bad_origin_playlist", reason: "asset list larger than 1 MiB" } };
    let rewritten: { text: string; uris: string[] };
    try {
      rewritten = rewriteAssetList(text, { playlistUrl: res.url.toString(), playlistKey: req.key, origin: req.origin });
    } catch (err) {
      if (err instanceof PlaylistError) return { type: "error", failure: { code: "bad_origin_playlist", reason: err.reason } };
      throw err;
    }
    this.window.listAssets(req.key, rewritten.uris);
    return { type: "document", contentType: "application/json", text: rewritten.text, ttlMs: ASSET_LIST_TTL_MS, bandwidth: this.window.bandwidth(req.key) };
  }

  private async fetchPlaylist(key: string, origin: ChannelOrigin, url: URL): Promise<FetchedPlaylist | Failure> {
    this.originPlaylistRequests++;
    // A blocking LL-HLS reload is held by the origin for up to a few target durations.
    const res = await fetchFromOrigin(url, { isAllowed: (u) => isAllowedOriginUrl(u, origin), timeoutMs: isBlockingReload(key) ? 15_000 : 5_000 });
    if (!res.ok) return this.window.fail(key, res.failure, Date.now());
    const text = await readTextBounded(res.response, PLAYLIST_MAX_BYTES);
    if (text === null) return this.window.fail(key, { code: "bad_origin_playlist", reason: "playlist larger than 4 MiB" }, Date.now());
    const kept = this.window.store(key, origin, { text, url: res.url }, Date.now());
    if ("code" in kept) return kept;
    this.prefetch(origin, segmentsToPrefetch(kept.stored, kept.previous));
    return kept.stored;
  }

  /** Starts fetching the newest segments of a live playlist so that the first viewer of each already hits. */
  private prefetch(origin: ChannelOrigin, urls: URL[]): void {
    const now = Date.now();
    for (const url of urls) {
      const key = toPlayKey(url, origin);
      if (key === null || this.segments.peek(key, now) || this.segments.isLoading(key)) continue;
      void this.segments.read(key, now, () => this.loadSegment(origin, url)).then((r) => {
        if (r.ok && !r.hit) r.complete.catch(() => {});
      });
    }
  }
}
