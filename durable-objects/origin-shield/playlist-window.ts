// The origin shield's memory of one channel's playlists, as decisions over `now`: what was fetched and
// whether it is still fresh, which failures are remembered, which renderings (rewrites) are kept, which live
// playlists are polled and when, which new segments to prefetch. Pure: the object does the fetching and the alarm.
import { blockingReloadOf, satisfiesReload } from "../../workers/hls/delivery";
import { listedEntries, listedKeys, listingKey, resolveListed } from "../../workers/hls/listing";
import { MULTIVARIANT_KEY, type ChannelOrigin } from "../../workers/hls/paths";
import { unprefixedKey } from "../../workers/hls/origins";
import { NoVariantFitsError, PlaylistError, rewritePlaylist, type PlaylistInfo } from "../../workers/hls/rewrite";
import type { Failure } from "../../workers/shared/errors";
import { isPlaylistKey } from "../../workers/shared/origin-fetch";

/** Options that make one multivariant playlist differ from another (capped ladder, steering). */
export interface PlaylistVariant {
  maxBandwidth?: number;
  steering?: { serverUri: string; pathwayId: string };
}

/** A playlist as the origin sent it, with what was made of it. */
export interface FetchedPlaylist {
  readonly text: string;
  /** Where it came from, after redirects: its relative links resolve against this. */
  readonly url: URL;
  readonly fetchedAt: number;
  readonly freshMs: number;
  readonly info: PlaylistInfo;
  /** Rewritten text by variant key (see variantKey); "{}" is the canonical rewrite. */
  readonly rendered: Map<string, string>;
}

/** What the alarm needs to fetch a watched playlist again. */
export interface PollTarget {
  readonly key: string;
  readonly origin: ChannelOrigin;
  readonly url: URL;
}

/**
 * Bounds on what one channel's window holds, so that a flood of distinct keys (unknown paths, made-up
 * queries) cannot grow memory without limit. A channel in normal use has a multivariant playlist and a
 * few dozen media playlists at most, well inside these; past a bound the least recently used entry goes.
 */
export const MAX_PLAYLISTS = 256;
export const MAX_FAILURES = 256;
export const MAX_WATCHES = 64;
export const MAX_RENDERINGS = 32;
/** Play keys remembered as listed by the channel's playlists: a long live window of every rendition, parts included. */
export const MAX_LISTED_KEYS = 50_000;
/** Interstitial asset lists (X-ASSET-LIST) remembered as such, so that they are rewritten, not passed through. */
export const MAX_ASSET_LISTS = 256;
/** An unlisted key makes the listing be read again from the origin at most this often, so junk keys cost it nothing. */
export const LISTING_RECHECK_MS = 2_000;

/** A failed playlist fetch is answered from memory this long, so a crowd does not retry the origin at once. */
export const FAILURE_TTL_MS = 1_000;
/** Newest new segments of a live playlist fetched ahead of the first viewer. */
export const PREFETCH_NEWEST = 2;
/** A live playlist stays polled this many target durations after its last request (players reload every one). */
export const WATCH_TARGET_DURATIONS = 2.5;
/** When a watched playlist has not been fetched yet, the alarm comes back this soon. */
const UNFETCHED_POLL_MS = 500;
/** The alarm is never set closer than this to now. */
const MIN_ALARM_DELAY_MS = 50;
/** LL-HLS blocking reloads are held by the origin; they are coalesced, never polled. */
const BLOCKING_RELOAD = /[?&]_HLS_msn=/;

/** Whether a playlist key is an LL-HLS blocking reload (`?_HLS_msn=`), which the origin holds until it can answer. */
export function isBlockingReload(key: string): boolean {
  return BLOCKING_RELOAD.test(key);
}

/**
 * How long a fetched playlist may be served before the origin is asked again. An LL-HLS playlist gains a part
 * every part target: kept longer, a player's plain reload (its first) starts parts behind the live edge.
 */
export function playlistFreshMs(info: PlaylistInfo): number {
  if (info.kind === "multivariant") return 10_000;
  if (info.endList) return 60_000;
  if (info.partTargetDuration !== null) return Math.max(200, info.partTargetDuration * 1000);
  return Math.max(500, ((info.targetDuration ?? 2) * 1000) / 2);
}

/** The key a rendering is kept under: one per distinct set of variant options. */
export function variantKey(variant: PlaylistVariant | undefined): string {
  return JSON.stringify(variant ?? {});
}

/**
 * The newest segments of a live media playlist that the previous fetch of it did not list (at most
 * PREFETCH_NEWEST), as absolute URLs. Byte-range segments share one file, fetched whole on first request.
 */
export function segmentsToPrefetch(current: FetchedPlaylist, previous: FetchedPlaylist | undefined): URL[] {
  if (!isLive(current.info)) return [];
  const known = new Set(previous?.info.segments.map((s) => s.uri) ?? []);
  return current.info.segments
    .filter((s) => !known.has(s.uri))
    .slice(-PREFETCH_NEWEST)
    .filter((s) => s.byterange === null)
    .map((s) => new URL(s.uri, current.url));
}

function isLive(info: PlaylistInfo): boolean {
  return info.kind === "media" && !info.endList;
}

function isFresh(fetched: FetchedPlaylist, now: number): boolean {
  return now - fetched.fetchedAt < fetched.freshMs;
}

const mediaPlaylistsOf = new WeakMap<FetchedPlaylist, string[]>();

/**
 * The media playlist keys a stored multivariant playlist (fetched under `entryKey`) lists, in the order it
 * lists them (none for a media playlist); worked out once per fetched copy.
 */
export function mediaPlaylistKeys(entry: FetchedPlaylist, entryKey: string): string[] {
  if (entry.info.kind !== "multivariant") return [];
  let keys = mediaPlaylistsOf.get(entry);
  if (keys === undefined) {
    keys = [...new Set(listedKeys(entry.rendered.get(variantKey(undefined)) ?? "", entryKey).filter(isPlaylistKey))];
    mediaPlaylistsOf.set(entry, keys);
  }
  return keys;
}

/** Sets `key` as the most recently used entry of `map`, dropping the least recently used past `max`. */
function setBounded<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) map.delete(map.keys().next().value!);
}

interface Watch {
  readonly target: PollTarget;
  readonly lastRequested: number;
}

/** One channel's playlists, failures and watch list, for one version of its origin. */
export class PlaylistWindow {
  private readonly playlists = new Map<string, FetchedPlaylist>();
  private readonly failures = new Map<string, { failure: Failure; until: number }>();
  private readonly watches = new Map<string, Watch>();
  /**
   * Every play key the channel's playlists listed, the only keys a token of the channel opens, with the
   * lowest BANDWIDTH of a variant that reaches it (0: every viewer, such as renditions and the entry).
   */
  private readonly listed = new Map<string, number>();
  /** Per media playlist (its key without _HLS_ directives), the last whole copy a blocking reload brought. */
  private readonly lastReloaded = new Map<string, FetchedPlaylist>();
  /** Listed keys that an X-ASSET-LIST named. */
  private readonly assetLists = new Map<string, true>();
  private listingCheckedAt = Number.NEGATIVE_INFINITY;

  /** The playlist stored under `key`, fresh or not. */
  stored(key: string): FetchedPlaylist | undefined {
    return this.playlists.get(key);
  }

  /**
   * For a blocking reload (not a delta update), a copy this window already has that answers it: the
   * playlist's own (polled) copy or the last whole copy another reload of it brought. A player a part behind
   * the crowd, or one asking for a part the last poll already listed, is then answered without the origin.
   */
  answering(key: string): FetchedPlaylist | undefined {
    const reload = blockingReloadOf(key);
    if (!reload || reload.skip) return undefined;
    const slot = listingKey(key);
    let newest: FetchedPlaylist | undefined;
    for (const copy of [this.lastReloaded.get(slot), this.playlists.get(slot)]) {
      if (copy && (!newest || copy.fetchedAt > newest.fetchedAt) && satisfiesReload(copy.info, reload)) newest = copy;
    }
    return newest;
  }

  /** The playlist stored under `key` if it may still be served at `now`. */
  fresh(key: string, now: number): FetchedPlaylist | undefined {
    const fetched = this.playlists.get(key);
    if (!fetched || !isFresh(fetched, now)) return undefined;
    setBounded(this.playlists, key, fetched, MAX_PLAYLISTS);
    return fetched;
  }

  /**
   * Keeps the playlist the origin sent for `key` at `now` and forgets the key's failure; returns it with
   * the one it replaces. It is rewritten once here to check it whole, so a malformed playlist fails every
   * viewer the same way: then that failure is remembered and returned instead.
   */
  store(key: string, origin: ChannelOrigin, fetched: { text: string; url: URL }, now: number): { stored: FetchedPlaylist; previous?: FetchedPlaylist } | Failure {
    let canonical: { text: string; info: PlaylistInfo };
    try {
      canonical = rewritePlaylist(fetched.text, { playlistUrl: fetched.url.toString(), playlistKey: key, origin });
    } catch (err) {
      if (err instanceof PlaylistError) return this.fail(key, { code: "bad_origin_playlist", reason: err.reason }, now);
      throw err;
    }
    const previous = this.playlists.get(key);
    const { info } = canonical;
    const stored: FetchedPlaylist = { ...fetched, fetchedAt: now, freshMs: playlistFreshMs(info), info, rendered: new Map([[variantKey(undefined), canonical.text]]) };
    setBounded(this.playlists, key, stored, MAX_PLAYLISTS);
    const reload = blockingReloadOf(key);
    if (reload && !reload.skip) setBounded(this.lastReloaded, listingKey(key), stored, MAX_PLAYLISTS);
    this.list(canonical.text, key, info);
    this.failures.delete(key);
    return previous ? { stored, previous } : { stored };
  }

  /**
   * Notes what a stored playlist lists. A multivariant gives each media playlist its variant's BANDWIDTH (a
   * playlist two variants share, the lower); a media playlist gives its own to its segments, parts, keys and
   * init sections. Its rendition reports name other playlists, which keep what the multivariant gave them:
   * a 360p playlist reporting on 1080p must not open 1080p to a viewer capped at 360p.
   */
  private list(emitted: string, key: string, info: PlaylistInfo): void {
    // Only the channel's own ladder is capped: an interstitial's multivariant (an ad) plays whole. The entry
    // asked with LL-HLS parameters is the channel's own ladder too: it must not open the top to a capped viewer.
    const ladder = info.kind === "multivariant" && unprefixedKey(listingKey(key)) === MULTIVARIANT_KEY;
    const own = info.kind === "media" ? this.bandwidth(key) : 0;
    for (const e of listedEntries(emitted, key)) {
      const known = this.listed.get(e.key);
      const bandwidth = ladder ? (e.bandwidth ?? 0) : info.kind === "multivariant" ? 0 : known !== undefined && isPlaylistKey(e.key) ? known : own;
      this.note(e.key, bandwidth);
      if (e.assetList) setBounded(this.assetLists, e.key, true, MAX_ASSET_LISTS);
    }
  }

  /** Notes `key` as listed, reachable at `bandwidth` (the lower of two listings). */
  private note(key: string, bandwidth: number): void {
    const known = this.listed.get(key);
    setBounded(this.listed, key, known === undefined ? bandwidth : Math.min(known, bandwidth), MAX_LISTED_KEYS);
  }

  /** Whether `key` is an interstitial asset list (see rewriteAssetList), which the shield rewrites. */
  isAssetList(key: string): boolean {
    return this.assetLists.has(listingKey(key));
  }

  /** Notes the URIs a rewritten asset list served under `key` names: the assets' playlists, at the list's bandwidth. */
  listAssets(key: string, uris: readonly string[]): void {
    const own = this.bandwidth(key);
    for (const uri of uris) {
      const asset = resolveListed(uri, key);
      if (asset !== null) this.note(asset, own);
    }
  }

  /** The lowest BANDWIDTH of a variant that reaches `key` (0 when every viewer may open it): a viewer capped below it is refused. */
  bandwidth(key: string): number {
    return this.listed.get(listingKey(key)) ?? 0;
  }

  /**
   * Whether a token of this channel may open `key`: the channel's entry (index.m3u8) always, anything else
   * only once one of its playlists listed it (LL-HLS and steering query parameters aside).
   */
  isListed(key: string): boolean {
    const k = listingKey(key);
    return k === MULTIVARIANT_KEY || this.listed.has(k);
  }

  /** Whether an unlisted key may make the listing be read again at `now`; if so, the check counts as made now. */
  recheckListing(now: number): boolean {
    if (now - this.listingCheckedAt < LISTING_RECHECK_MS) return false;
    this.listingCheckedAt = now;
    return true;
  }

  /** The playlist keys the stored entry lists (a multivariant's media playlists), for a listing check. */
  listedPlaylists(): string[] {
    const entry = this.playlists.get(MULTIVARIANT_KEY);
    return entry ? mediaPlaylistKeys(entry, MULTIVARIANT_KEY) : [];
  }

  /** The failure to answer for `key` at `now`, if its last fetch failed less than FAILURE_TTL_MS ago. */
  failure(key: string, now: number): Failure | undefined {
    const failed = this.failures.get(key);
    if (!failed) return undefined;
    if (failed.until > now) return failed.failure;
    this.failures.delete(key);
    return undefined;
  }

  /** Remembers that fetching `key` failed at `now`, and returns the failure. */
  fail(key: string, failure: Failure, now: number): Failure {
    setBounded(this.failures, key, { failure, until: now + FAILURE_TTL_MS }, MAX_FAILURES);
    return failure;
  }

  /**
   * The text served for `fetched` under `key` with `variant`, rewritten the first time it is asked for.
   * A ladder capped below every variant, or a rewrite that fails, is a failure for this request only.
   */
  rendering(fetched: FetchedPlaylist, req: { key: string; origin: ChannelOrigin; variant?: PlaylistVariant; servedAs?: string }): string | Failure {
    const vk = variantKey(req.variant) + (req.servedAs === undefined ? "" : ` as ${req.servedAs}`);
    const kept = fetched.rendered.get(vk);
    if (kept !== undefined) return kept;
    const variant = fetched.info.kind === "multivariant" ? req.variant : {};
    let text: string;
    try {
      text = rewritePlaylist(fetched.text, { playlistUrl: fetched.url.toString(), playlistKey: req.key, origin: req.origin, ...variant, ...(req.servedAs === undefined ? {} : { servedAs: req.servedAs }) }).text;
    } catch (err) {
      if (err instanceof NoVariantFitsError) return { code: "unavailable", message: "No quality of this stream fits the event's traffic budget now.", retryAfterSeconds: 5 };
      if (err instanceof PlaylistError) return { code: "bad_origin_playlist", reason: err.reason };
      throw err;
    }
    setBounded(fetched.rendered, vk, text, MAX_RENDERINGS);
    return text;
  }

  /** The BANDWIDTH of each variant of the stored playlist under `key`, lowest first. */
  ladder(key: string): number[] {
    return (this.playlists.get(key)?.info.variants ?? []).map((v) => v.bandwidth).sort((a, b) => a - b);
  }

  /**
   * Notes that `target.key` was requested at `now`. A live media playlist, other than a blocking reload,
   * is then watched: polled by the alarm until nobody asks for it. True if it was not watched before, so
   * the alarm must be armed.
   */
  watch(target: PollTarget, fetched: FetchedPlaylist, now: number): boolean {
    if (!isLive(fetched.info) || isBlockingReload(target.key)) return false;
    const known = this.watches.has(target.key);
    setBounded(this.watches, target.key, { target, lastRequested: now }, MAX_WATCHES);
    return !known;
  }

  /** The playlist keys watched now, most recently requested last. */
  watchedKeys(): string[] {
    return [...this.watches.keys()];
  }

  /**
   * The watched playlists to fetch at `now`: those not fetched yet or no longer fresh. Watches nobody
   * renewed for WATCH_TARGET_DURATIONS target durations lapse here and are forgotten.
   */
  due(now: number): PollTarget[] {
    const due: PollTarget[] = [];
    for (const [key, w] of this.watches) {
      const fetched = this.playlists.get(key);
      const targetMs = (fetched?.info.targetDuration ?? 2) * 1000;
      if (now - w.lastRequested > WATCH_TARGET_DURATIONS * targetMs) {
        this.watches.delete(key);
        continue;
      }
      if (!fetched || !isFresh(fetched, now)) due.push(w.target);
    }
    return due;
  }

  /**
   * When the alarm should fire, given the one already set (`current`): the moment the first watched
   * playlist goes stale. Null to leave the alarm as it is: nothing is watched, or it fires soon enough.
   */
  alarmAt(now: number, current: number | null): number | null {
    let next = Number.POSITIVE_INFINITY;
    for (const key of this.watches.keys()) {
      const fetched = this.playlists.get(key);
      next = Math.min(next, fetched ? fetched.fetchedAt + fetched.freshMs : now + UNFETCHED_POLL_MS);
    }
    if (next === Number.POSITIVE_INFINITY || (current !== null && current <= next)) return null;
    return Math.max(next, now + MIN_ALARM_DELAY_MS);
  }
}
