// Which of a channel's origins serves it, as decisions over `now`: an origin that fails (errors, time-outs)
// or goes stale (its live playlist stops advancing for 1.5 target durations) hands the channel to the next
// healthy one in order, and the channel goes back to an earlier origin once that has been healthy for
// FAILBACK_AFTER_MS. A failing origin is asked at most once per PROBE_INTERVAL_MS (whatever the number of
// viewers and keys), so an origin that is down is not hammered while it restarts. Pure: the shield fetches.

/** A failing origin gets one request (a probe) per this long, for the whole channel. */
export const PROBE_INTERVAL_MS = 1_000;
/** An earlier origin must be healthy this long before the channel goes back to it. */
export const FAILBACK_AFTER_MS = 10_000;
/** A live playlist that does not advance for this many target durations makes its origin stale. */
export const STALE_TARGET_DURATIONS = 1.5;
/** Switches remembered for the operator. */
const MAX_SWITCHES = 20;
/** Playlists whose advance is tracked per origin. */
const MAX_TRACKED = 64;

export type SwitchReason = "failed" | "stale" | "recovered";

export interface OriginSwitch {
  readonly at: number;
  readonly from: number;
  readonly to: number;
  readonly reason: SwitchReason;
}

interface Health {
  /** The last request to it failed (until one succeeds). */
  failing: boolean;
  lastFailure: string | null;
  /** When it was last asked while failing: the next probe waits PROBE_INTERVAL_MS. */
  probedAt: number;
  lastSuccessAt: number;
  /** Last moment it was failing or stale: it is healthy for now − this. */
  badAt: number;
  /** Per live playlist: the newest media sequence number seen and when it last advanced. */
  advance: Map<string, { msn: number; at: number; staleMs: number }>;
}

export interface OriginStatus {
  readonly index: number;
  readonly failing: boolean;
  readonly stale: boolean;
  readonly lastFailure: string | null;
}

export class OriginHealth {
  private readonly origins: Health[];
  private current = 0;
  private readonly switches: OriginSwitch[] = [];

  constructor(count: number, serving = 0) {
    this.origins = Array.from({ length: Math.max(1, count) }, () => ({
      failing: false,
      lastFailure: null,
      probedAt: Number.NEGATIVE_INFINITY,
      lastSuccessAt: Number.NEGATIVE_INFINITY,
      badAt: Number.NEGATIVE_INFINITY,
      advance: new Map(),
    }));
    this.current = serving < this.origins.length ? serving : 0;
  }

  /** The origin serving the channel now. */
  serving(): number {
    return this.current;
  }

  /** Every switch so far, newest last. */
  history(): readonly OriginSwitch[] {
    return this.switches;
  }

  status(now: number): OriginStatus[] {
    return this.origins.map((h, index) => ({ index, failing: h.failing, stale: this.isStale(h, now), lastFailure: h.lastFailure }));
  }

  /**
   * Whether a request to origin `i` may go out at `now`. A healthy origin: always. A failing one: once per
   * PROBE_INTERVAL_MS (the call that gets true is the probe); everyone else is answered from memory.
   */
  mayRequest(i: number, now: number): boolean {
    const h = this.origins[i];
    if (h === undefined) return false;
    if (!h.failing) return true;
    if (now - h.probedAt < PROBE_INTERVAL_MS) return false;
    h.probedAt = now;
    return true;
  }

  /** The origin answered (a 404 counts: the origin is up). */
  succeeded(i: number, now: number): void {
    const h = this.origins[i];
    if (h === undefined) return;
    if (h.failing) h.badAt = now;
    h.failing = false;
    h.lastSuccessAt = now;
  }

  /** The origin failed: an error, a time-out, a 5xx. */
  failed(i: number, now: number, why: string): void {
    const h = this.origins[i];
    if (h === undefined) return;
    if (!h.failing) h.probedAt = now;
    h.failing = true;
    h.lastFailure = why;
    h.badAt = now;
  }

  /**
   * Origin `i` sent live playlist `key` whose newest segment is `msn`, with EXT-X-TARGETDURATION
   * `targetSeconds`. Tracks whether it advances.
   */
  observed(i: number, key: string, msn: number, targetSeconds: number, now: number): void {
    const h = this.origins[i];
    if (h === undefined) return;
    const staleMs = STALE_TARGET_DURATIONS * Math.max(0.5, targetSeconds) * 1000;
    const seen = h.advance.get(key);
    h.advance.delete(key);
    if (seen === undefined || msn > seen.msn) h.advance.set(key, { msn, at: now, staleMs });
    else {
      h.advance.set(key, { ...seen, staleMs });
      if (now - seen.at > staleMs) h.badAt = now;
    }
    while (h.advance.size > MAX_TRACKED) h.advance.delete(h.advance.keys().next().value!);
  }

  /** The origin whose playlists a live key is checked on, ever since it last advanced. */
  private isStale(h: Health, now: number): boolean {
    for (const a of h.advance.values()) if (now - a.at > a.staleMs) return true;
    return false;
  }

  private usable(i: number, now: number): boolean {
    const h = this.origins[i]!;
    return !h.failing && !this.isStale(h, now);
  }

  /**
   * Moves the channel when it should at `now`: away from a serving origin that fails or is stale, to the
   * first usable origin in order; back to an earlier origin healthy for FAILBACK_AFTER_MS. Returns the
   * switch made, if any.
   */
  decide(now: number): OriginSwitch | null {
    const cur = this.origins[this.current]!;
    if (!this.usable(this.current, now)) {
      for (let i = 0; i < this.origins.length; i++) {
        if (i === this.current || !this.usable(i, now)) continue;
        return this.move(i, now, cur.failing ? "failed" : "stale");
      }
      return null;
    }
    for (let i = 0; i < this.current; i++) {
      const h = this.origins[i]!;
      if (this.usable(i, now) && now - h.badAt >= FAILBACK_AFTER_MS && now - h.lastSuccessAt < FAILBACK_AFTER_MS) return this.move(i, now, "recovered");
    }
    return null;
  }

  /** An earlier origin the shield should ask now to learn whether it recovered (one per PROBE_INTERVAL_MS), or null. */
  probeDue(now: number): number | null {
    for (let i = 0; i < this.current; i++) {
      const h = this.origins[i]!;
      if (now - Math.max(h.probedAt, h.lastSuccessAt) >= PROBE_INTERVAL_MS) {
        h.probedAt = now;
        return i;
      }
    }
    return null;
  }

  private move(to: number, now: number, reason: SwitchReason): OriginSwitch {
    const s: OriginSwitch = { at: now, from: this.current, to, reason };
    this.current = to;
    this.switches.push(s);
    if (this.switches.length > MAX_SWITCHES) this.switches.shift();
    return s;
  }
}
