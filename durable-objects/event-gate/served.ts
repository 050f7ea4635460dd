// Which tier answered an event's playback requests, as edges and stadium nodes report them with their bytes:
// the figures behind the all-tier cache hit ratio (definitions in docs/web.md, "What the figures mean").

/**
 * Where a viewer's request was answered: a stadium node's own cache, the edge isolate's memory (L0, coalesced
 * requests included), the edge's Cache API (L1), the origin shield's memory, or the origin (the shield fetched
 * the bytes for this very request). A node's miss is counted once, at the edge tier that answered the node.
 */
export const TIERS = ["node", "memory", "cacheApi", "shield", "origin"] as const;
export type Tier = (typeof TIERS)[number];
export type TierCounts = Record<Tier, number>;

export function noRequests(): TierCounts {
  return { node: 0, memory: 0, cacheApi: 0, shield: 0, origin: 0 };
}

/** Requests answered without asking the origin ÷ all requests answered; null when none were. */
export function hitRatio(c: TierCounts): number | null {
  let all = 0;
  for (const t of TIERS) all += c[t];
  return all > 0 ? (all - c.origin) / all : null;
}

const MAX_REPORTERS = 10_000;

/** Each reporter's counts of its last report period (standing until its next report is due), and totals. */
export class ServedTiers {
  private readonly latest = new Map<string, { counts: TierCounts; until: number }>();
  private readonly totals = noRequests();

  /** Counts one report; `reporter` null (a reporter that does not name itself) counts in the totals only. */
  add(reporter: string | null, counts: Partial<TierCounts>, now: number, holdMs: number): void {
    const clean = noRequests();
    for (const t of TIERS) {
      const n = counts[t];
      // A count from our own code, but a negative or fractional one would make the ratio lie: dropped.
      if (typeof n === "number" && Number.isSafeInteger(n) && n > 0) clean[t] = n;
    }
    for (const t of TIERS) this.totals[t] += clean[t];
    if (reporter === null) return;
    if (this.latest.size >= MAX_REPORTERS && !this.latest.has(reporter)) {
      for (const [k, r] of this.latest) if (r.until <= now) this.latest.delete(k);
      if (this.latest.size >= MAX_REPORTERS) return;
    }
    this.latest.set(reporter, { counts: clean, until: now + holdMs });
  }

  /** The sum of every standing reporter's last period: what the event's viewers are getting now. */
  recent(now: number): TierCounts {
    const sum = noRequests();
    for (const [k, r] of this.latest) {
      if (r.until <= now) {
        this.latest.delete(k);
        continue;
      }
      for (const t of TIERS) sum[t] += r.counts[t];
    }
    return sum;
  }

  /** Every request reported since the object started. */
  total(): TierCounts {
    return { ...this.totals };
  }
}
