// A channel's origins as the shield sees them: which serves now (OriginHealth), which playlist of the serving
// origin stands in for a playlist key of another (same position in the two multivariant playlists, or the
// entry for the entry), and each live playlist key's stitched timeline, which keeps its numbers rising across
// switches. What must survive a restart of the shield (the serving origin, the timelines' offsets, the
// switches) is given out by saved() and taken back by the constructor.
import { listingKey } from "../../workers/hls/listing";
import { channelOrigins, originIndexOfKey } from "../../workers/hls/origins";
import { MULTIVARIANT_KEY, type ChannelOrigin } from "../../workers/hls/paths";
import { StitchedTimeline, type TimelineState } from "../../workers/hls/stitch";
import { OriginHealth, type OriginSwitch } from "./origin-health";
import { mediaPlaylistKeys, type FetchedPlaylist } from "./playlist-window";

export interface FailoverSaved {
  readonly version: string;
  readonly serving: number;
  readonly timelines: Record<string, TimelineState>;
  readonly switches: readonly OriginSwitch[];
}

/** Stitched timelines kept (one per live playlist key viewers ask for). */
const MAX_TIMELINES = 64;

export class Failover {
  readonly origins: ChannelOrigin[];
  readonly health: OriginHealth;
  private readonly timelines = new Map<string, StitchedTimeline>();
  private readonly restored = new Map<string, TimelineState>();
  private readonly earlierSwitches: OriginSwitch[];
  /** Set when something saved() returns changed. */
  dirty = false;

  constructor(
    readonly version: string,
    origin: ChannelOrigin,
    backupOriginUrls: readonly string[] = [],
    saved?: FailoverSaved,
  ) {
    this.origins = channelOrigins(origin.originUrl, origin.allowedHosts, backupOriginUrls);
    const ok = saved !== undefined && saved.version === version;
    this.health = new OriginHealth(this.origins.length, ok ? saved.serving : 0);
    this.earlierSwitches = ok ? saved.switches.slice() : [];
    if (ok) for (const [key, state] of Object.entries(saved.timelines)) this.restored.set(key, state);
  }

  /** The index of the origin a key belongs to, or null for a backup the channel does not have. */
  originOf(key: string): number | null {
    return originIndexOfKey(key, this.origins);
  }

  /** The prefix of origin `i`'s keys. */
  prefix(i: number): string {
    return this.origins[i]?.keyPrefix ?? "";
  }

  /** Whether `key` (any query aside) is its origin's entry playlist. */
  isEntry(key: string): boolean {
    const i = this.originOf(key);
    return i !== null && listingKey(key) === this.prefix(i) + MULTIVARIANT_KEY;
  }

  /**
   * The key of origin `to`'s playlist that stands in for playlist `key` of another origin: the entry for
   * the entry; for a media playlist, the one at the same position in origin `to`'s multivariant (both
   * entries given). Null when there is none (the backup's ladder is shorter, or its entry is unknown).
   */
  standIn(key: string, to: number, entries: { from?: FetchedPlaylist; to?: FetchedPlaylist }): string | null {
    const from = this.originOf(key);
    if (from === null) return null;
    if (from === to) return key;
    if (this.isEntry(key)) return this.prefix(to) + MULTIVARIANT_KEY;
    if (!entries.from || !entries.to) return null;
    const position = mediaPlaylistKeys(entries.from, this.prefix(from) + MULTIVARIANT_KEY).indexOf(listingKey(key));
    if (position < 0) return null;
    return mediaPlaylistKeys(entries.to, this.prefix(to) + MULTIVARIANT_KEY)[position] ?? null;
  }

  /** The stitched timeline of live playlist key `key` (queries aside). */
  timeline(key: string): StitchedTimeline {
    const k = listingKey(key);
    let t = this.timelines.get(k);
    if (t === undefined) {
      t = new StitchedTimeline(this.originOf(k) ?? 0, this.restored.get(k));
      while (this.timelines.size >= MAX_TIMELINES) this.timelines.delete(this.timelines.keys().next().value!);
    } else this.timelines.delete(k);
    this.timelines.set(k, t);
    return t;
  }

  /** Runs the health decision at `now`; a switch marks the state to be saved. */
  decide(now: number): OriginSwitch | null {
    const s = this.health.decide(now);
    if (s !== null) this.dirty = true;
    return s;
  }

  switches(): OriginSwitch[] {
    return [...this.earlierSwitches, ...this.health.history()].slice(-20);
  }

  saved(): FailoverSaved {
    const timelines: Record<string, TimelineState> = Object.fromEntries(this.restored);
    for (const [key, t] of this.timelines) {
      const p = t.persisted();
      if (p !== null) timelines[key] = p;
      else delete timelines[key];
    }
    return { version: this.version, serving: this.health.serving(), timelines, switches: this.switches() };
  }
}
