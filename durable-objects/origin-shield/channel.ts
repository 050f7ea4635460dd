// One version of one channel as the origin shield serves it: its origins and which serves (Failover), its
// playlists (PlaylistWindow), its segments (PullThroughCache), and every origin fetch. The shield object keeps
// one of these per version of the channel's configuration and gives it storage and the alarm.
import { awaitShared } from "../../workers/shared/cache/await-shared";
import { Coalescer } from "../../workers/shared/cache/coalescer";
import type { Failure } from "../../workers/shared/errors";
import { contentTypeFor, fetchFromOrigin, isPlaylistKey, readTextBounded } from "../../workers/shared/origin-fetch";
import { PullThroughCache, type UpstreamResult } from "../../workers/shared/cache/pull-through-cache";
import { fromPlayKey, isAllowedOriginUrl, MULTIVARIANT_KEY, PlayKeyError, toPlayKey, type ChannelOrigin } from "../../workers/hls/paths";
import { listingKey } from "../../workers/hls/listing";
import { resolvePlayKey } from "../../workers/hls/origins";
import { Failover, type FailoverSaved } from "./failover";
import type { OriginStatus, OriginSwitch } from "./origin-health";
import { PlaylistError, type PlaylistInfo } from "../../workers/hls/rewrite";
import { rewriteAssetList } from "../../workers/hls/asset-list";
import { FAILURE_TTL_MS, isBlockingReload, PlaylistWindow, segmentsToPrefetch, type FetchedPlaylist, type PlaylistVariant } from "./playlist-window";

export type { PlaylistVariant };

export interface ShieldRequest {
  origin: ChannelOrigin;
  /** The channel's backup origins, in order (ChannelOrigin of each: its own host plus origin.allowedHosts). */
  backupOriginUrls?: string[];
  /** Changes whenever the operator edits the channel; a new version empties the window. */
  originVersion: string;
  /** The play key, query included (`720p/seg-1.ts`, `index.m3u8?_HLS_msn=5`). */
  key: string;
  variant?: PlaylistVariant;
}

/** `bandwidth`: the lowest BANDWIDTH of a variant that reaches the resource (0: any viewer); a viewer capped below it is refused. */
export type ShieldReply =
  | { type: "playlist"; kind: PlaylistInfo["kind"]; text: string; ttlMs: number; bandwidth: number }
  /** `fromOrigin`: this request started the origin fetch (not stored, not joined to a fetch already running or prefetched). */
  | { type: "bytes"; contentType: string; length?: number; body: ReadableStream<Uint8Array>; bandwidth: number; fromOrigin?: boolean }
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
/** While every origin fails, viewers get the last live playlist this long (they play what is cached), then the failure. */
const STALE_PLAYLIST_MS = 120_000;

/** A failure that says the origin is down or broken (not that a resource is missing). */
function isOriginFailure(f: Failure): boolean {
  return f.code === "origin_error" || f.code === "origin_timeout" || f.code === "bad_origin_playlist";
}

function isFailure(x: FetchedPlaylist | Failure): x is Failure {
  return "code" in x;
}

/** The serving origin, every switch, and each origin's state, for the operator. */
export interface OriginsSnapshot {
  serving: number;
  switches: OriginSwitch[];
  status: OriginStatus[];
}


export interface ShieldFigures {
  originRequests: number;
  segmentFetches: number;
  playlistFetches: number;
  hits: number;
  misses: number;
  storedBytes: number;
  origins: OriginsSnapshot;
}

/** What the shield object gives a channel: saving the failover state, and arming its alarm. */
export interface ChannelHost {
  save(saved: FailoverSaved): Promise<void>;
  armPolling(): Promise<void>;
  /** Names the channel in logs. */
  readonly name: string;
}

export class ShieldChannel {
  readonly window = new PlaylistWindow();
  readonly failover: Failover;
  private readonly segments: PullThroughCache;
  private readonly playlistFetches = new Coalescer<FetchedPlaylist | Failure>();
  private readonly assetListFetches = new Coalescer<ShieldReply>();
  private originPlaylistRequests = 0;
  /** A read of the channel's playlists for keys they did not list (yet), shared by every such request meanwhile. */
  private listingRead: Promise<void> | null = null;
  /** Why the last listing read could not read the channel's entry, answered to unlisted keys until the next. */
  private listingFailure: Failure | null = null;

  constructor(req: Pick<ShieldRequest, "origin" | "backupOriginUrls" | "originVersion">, saved: FailoverSaved | undefined, segmentBytes: number, private readonly host: ChannelHost) {
    this.failover = new Failover(req.originVersion, req.origin, req.backupOriginUrls, saved);
    this.segments = new PullThroughCache({ maxBytes: segmentBytes, maxObjectBytes: SEGMENT_MAX_BYTES });
  }

  /** Serves one resource of the channel: a rewritten playlist or a segment's bytes. */
  async get(req: ShieldRequest): Promise<ShieldReply> {
    let oi: number;
    let url: URL;
    try {
      ({ index: oi, url } = resolvePlayKey(req.key, this.failover.origins));
    } catch (err) {
      if (err instanceof PlayKeyError) return NOT_FOUND;
      throw err;
    }
    // A token opens only what its channel's playlists list: anything else is 404, fetched from nowhere.
    const listed = await this.lists(req.key);
    if (listed !== true) return listed;
    if (isPlaylistKey(req.key)) return this.playlist(req.key, req.variant, true);
    if (this.window.isAssetList(req.key)) return this.assetListFetches.run(req.key, () => this.assetList(req.key, oi, url));
    let fromOrigin = false;
    const read = await this.segments.read(req.key, Date.now(), () => {
      fromOrigin = true;
      return this.loadSegment(oi, url);
    });
    if (!read.ok) return { type: "error", failure: read.failure };
    return { type: "bytes", contentType: read.contentType, length: read.length, body: read.stream(), bandwidth: this.window.bandwidth(req.key), fromOrigin };
  }

  /** The BANDWIDTH of each variant of the channel's multivariant playlist, lowest first (empty for a lone media playlist), for the egress budget. */
  async ladder(): Promise<number[] | null> {
    const reply = await this.playlist(MULTIVARIANT_KEY, undefined, false);
    return reply.type === "playlist" ? this.window.ladder(MULTIVARIANT_KEY) : null;
  }

  /** Figures for the operator: what reached the origin, how the window is doing, which origin serves. */
  figures(): ShieldFigures {
    const s = this.segments;
    const f = this.failover;
    return {
      originRequests: s.loads + this.originPlaylistRequests,
      segmentFetches: s.loads,
      playlistFetches: this.originPlaylistRequests,
      hits: s.hits,
      misses: s.misses,
      storedBytes: s.storedBytes,
      origins: { serving: f.health.serving(), switches: f.switches(), status: f.health.status(Date.now()) },
    };
  }

  /** The alarm's work: polls every watched live playlist that is due and probes an earlier origin. Safe to run twice. */
  async poll(now: number): Promise<void> {
    const polls: Promise<unknown>[] = this.window.due(now).map((t) => this.playlist(t.key, undefined, false));
    const probe = this.failover.health.probeDue(now);
    const watched = this.window.watchedKeys()[0];
    if (probe !== null && watched !== undefined) polls.push(this.probe(watched, probe));
    await Promise.allSettled(polls);
  }

  /** Runs the failover decision after an origin answered (or did not); saves what a restart must keep. */
  private async decide(): Promise<void> {
    const moved = this.failover.decide(Date.now());
    if (moved) console.log(JSON.stringify({ event: "origin_switch", ...moved, channel: this.host.name }));
    if (!this.failover.dirty) return;
    this.failover.dirty = false;
    await this.host.save(this.failover.saved());
  }

  /** One origin fetch of a playlist of origin `i`, shared by everyone who needs it meanwhile. */
  private refresh(key: string, i: number): Promise<FetchedPlaylist | Failure> {
    return this.playlistFetches.run(key, () => this.fetchPlaylist(key, i));
  }

  /** The playlist under `key` of origin `i`: fresh from the window, its remembered failure, or one (shared) origin fetch if the origin may be asked. */
  private async fetched(key: string, i: number): Promise<FetchedPlaylist | Failure> {
    const now = Date.now();
    const kept = this.window.fresh(key, now) ?? this.window.failure(key, now) ?? this.window.answering(key);
    if (kept) return kept;
    if (!this.failover.health.mayRequest(i, now)) return { code: "origin_error", detail: "the origin is down; it is asked again once a second" };
    return awaitShared(this.refresh(key, i));
  }

  private async loadSegment(i: number, url: URL): Promise<UpstreamResult> {
    const health = this.failover.health;
    if (!health.mayRequest(i, Date.now())) return { ok: false, failure: { code: "origin_error", detail: "the origin is down" }, ttlMs: FAILURE_TTL_MS };
    const res = await fetchFromOrigin(url, { isAllowed: (u) => isAllowedOriginUrl(u, this.failover.origins[i]!), timeoutMs: 10_000 });
    if (!res.ok && isOriginFailure(res.failure)) health.failed(i, Date.now(), res.failure.code);
    else health.succeeded(i, Date.now());
    await this.decide();
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
   * Whether the channel's playlists list the key asked for. A key they do not list makes them be read again
   * (the entry and, for a multivariant, its media playlists) at most once per LISTING_RECHECK_MS, so a shield
   * that restarted still serves what viewers' playlists list while junk keys cost the origin nothing.
   */
  private async lists(key: string): Promise<true | ShieldReply> {
    if (this.window.isListed(key)) return true;
    if (!this.listingRead && this.window.recheckListing(Date.now())) {
      this.listingRead = this.readListing()
        .catch(() => {})
        .finally(() => (this.listingRead = null));
    }
    if (this.listingRead) await awaitShared(this.listingRead);
    if (this.window.isListed(key)) return true;
    // An origin that cannot be read is the origin's failure, not a key nobody listed.
    return this.listingFailure ? { type: "error", failure: this.listingFailure } : NOT_FOUND;
  }

  private async readListing(): Promise<void> {
    const entry = await this.playlist(MULTIVARIANT_KEY, undefined, false);
    this.listingFailure = entry.type === "error" ? entry.failure : null;
    if (entry.type === "error") return;
    await Promise.allSettled(this.window.listedPlaylists().map((key) => this.playlist(key, undefined, false)));
  }

  /**
   * A playlist for viewers, from whichever origin serves the channel now: when that origin fails during the
   * request and the channel moves to another, the request is answered from the new one.
   */
  private async playlist(key: string, variant: PlaylistVariant | undefined, fromViewer: boolean): Promise<ShieldReply> {
    const serving = this.failover.health.serving();
    const first = await this.servedBy(key, variant, fromViewer, serving);
    if (first.type !== "error" || !isOriginFailure(first.failure) || this.failover.health.serving() === serving) return first;
    return this.servedBy(key, variant, fromViewer, this.failover.health.serving());
  }

  /**
   * `key` as origin `serving` answers it: the key's own playlist when its own origin serves (or it is a
   * multivariant, which does not change), else the serving origin's stand-in rewritten to be served under
   * `key`. A live media playlist goes through its stitched timeline; while origins fail, the last copy.
   */
  private async servedBy(key: string, variant: PlaylistVariant | undefined, fromViewer: boolean, serving: number): Promise<ShieldReply> {
    const f = this.failover;
    const own = f.originOf(key)!;
    const slot = listingKey(key);
    const timeline = f.timeline(slot);
    const storedOwn = this.window.stored(slot);
    const ownServes = serving === own || storedOwn?.info.kind === "multivariant";
    let source: string | null = ownServes ? (timeline.isStitched() ? slot : key) : null;
    let from = ownServes ? own : serving;
    if (source === null) {
      const entries = f.isEntry(slot) ? {} : { from: this.window.stored(f.prefix(own) + MULTIVARIANT_KEY), to: await this.entry(serving) };
      source = f.standIn(slot, serving, entries);
      if (source === null) return { type: "error", failure: { code: "origin_error", detail: `backup origin ${serving} lists no playlist in the place of ${slot}` } };
    }
    let fetched = await this.fetched(source, from);
    if (isFailure(fetched)) {
      // A multivariant playlist does not change: the last copy serves while its origin is down, however old.
      const last = this.window.stored(source) ?? this.window.stored(listingKey(source));
      const usable = last && (last.info.kind === "multivariant" || Date.now() - last.fetchedAt < STALE_PLAYLIST_MS);
      if (!isOriginFailure(fetched) || !last || !usable) return { type: "error", failure: fetched };
      fetched = last;
    }
    const origin = f.origins[from]!;
    const text = this.window.rendering(fetched, { key: source, origin, ...(variant ? { variant } : {}), ...(source !== key ? { servedAs: slot } : {}) });
    if (typeof text !== "string") return { type: "error", failure: text };
    let out = text;
    if (fetched.info.kind === "media" && !fetched.info.endList) {
      const stitched = timeline.update(from, text, slot);
      out = stitched.text;
      if (stitched.switched) {
        f.dirty = true;
        await this.decide();
      }
    }
    if (fromViewer && this.window.watch({ key: slot, origin, url: fetched.url }, fetched, Date.now())) await this.host.armPolling();
    const ttlMs = Math.max(0, fetched.fetchedAt + fetched.freshMs - Date.now());
    return { type: "playlist", kind: fetched.info.kind, text: out, ttlMs, bandwidth: this.window.bandwidth(slot) };
  }

  /** Origin `i`'s entry playlist, fresh or its last copy (for the place of a media playlist in its ladder). */
  private async entry(i: number): Promise<FetchedPlaylist | undefined> {
    const key = this.failover.prefix(i) + MULTIVARIANT_KEY;
    const fetched = await this.fetched(key, i);
    return isFailure(fetched) ? this.window.stored(key) : fetched;
  }

  /** Asks earlier origin `i` for its stand-in of watched playlist `key`, to learn whether it is back. */
  private async probe(key: string, i: number): Promise<void> {
    const f = this.failover;
    const own = f.originOf(key) ?? 0;
    const entries = f.isEntry(key) ? {} : { from: this.window.stored(f.prefix(own) + MULTIVARIANT_KEY), to: await this.entry(i) };
    const source = f.standIn(key, i, entries);
    if (source !== null) await awaitShared(this.refresh(source, i));
  }

  /** An interstitial asset list, fetched for everyone asking meanwhile, rewritten, and its assets listed. */
  private async assetList(key: string, i: number, url: URL): Promise<ShieldReply> {
    this.originPlaylistRequests++;
    const origin = this.failover.origins[i]!;
    const res = await fetchFromOrigin(url, { isAllowed: (u) => isAllowedOriginUrl(u, origin), timeoutMs: 5_000 });
    if (!res.ok) return { type: "error", failure: res.failure };
    const text = await readTextBounded(res.response, ASSET_LIST_MAX_BYTES);
    if (text === null) return { type: "error", failure: { code: "bad_origin_playlist", reason: "asset list larger than 1 MiB" } };
    let rewritten: { text: string; uris: string[] };
    try {
      rewritten = rewriteAssetList(text, { playlistUrl: res.url.toString(), playlistKey: key, origin });
    } catch (err) {
      if (err instanceof PlaylistError) return { type: "error", failure: { code: "bad_origin_playlist", reason: err.reason } };
      throw err;
    }
    this.window.listAssets(key, rewritten.uris);
    return { type: "document", contentType: "application/json", text: rewritten.text, ttlMs: ASSET_LIST_TTL_MS, bandwidth: this.window.bandwidth(key) };
  }

  private async fetchPlaylist(key: string, i: number): Promise<FetchedPlaylist | Failure> {
    this.originPlaylistRequests++;
    const origin = this.failover.origins[i]!;
    const health = this.failover.health;
    // A blocking LL-HLS reload is held by the origin for up to a few target durations.
    const blocking = isBlockingReload(key);
    const res = await fetchFromOrigin(fromPlayKey(key, origin), { isAllowed: (u) => isAllowedOriginUrl(u, origin), timeoutMs: blocking ? 15_000 : 5_000, badRequestIsClients: blocking });
    let result: FetchedPlaylist | Failure;
    // A reload refused as bad (too far ahead) is this request's answer, not remembered: it may be valid a part later.
    if (!res.ok) result = res.failure.code === "invalid_request" ? res.failure : this.window.fail(key, res.failure, Date.now());
    else {
      const text = await readTextBounded(res.response, PLAYLIST_MAX_BYTES);
      const kept = text === null ? this.window.fail(key, { code: "bad_origin_playlist", reason: "playlist larger than 4 MiB" }, Date.now()) : this.window.store(key, origin, { text, url: res.url }, Date.now());
      if ("code" in kept) result = kept;
      else {
        this.prefetch(i, segmentsToPrefetch(kept.stored, kept.previous));
        result = kept.stored;
      }
    }
    const now = Date.now();
    if (isFailure(result)) {
      if (isOriginFailure(result)) health.failed(i, now, result.code);
      else health.succeeded(i, now);
    } else {
      health.succeeded(i, now);
      const info = result.info;
      if (info.kind === "media" && !info.endList && info.segments.length > 0 && !isBlockingReload(key)) {
        health.observed(i, listingKey(key), (info.mediaSequence ?? 0) + info.segments.length - 1, info.targetDuration ?? 2, now);
      }
    }
    await this.decide();
    return result;
  }

  /** Starts fetching the newest segments of a live playlist so that the first viewer of each already hits. */
  private prefetch(i: number, urls: URL[]): void {
    const now = Date.now();
    const origin = this.failover.origins[i]!;
    for (const url of urls) {
      const key = toPlayKey(url, origin);
      if (key === null || this.segments.peek(key, now) || this.segments.isLoading(key)) continue;
      void this.segments.read(key, now, () => this.loadSegment(i, url)).then((r) => {
        if (r.ok && !r.hit) r.complete.catch(() => {});
      });
    }
  }
}
