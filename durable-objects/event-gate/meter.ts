// The event's egress: each reporter's rate over its last report period (edges and stadium nodes that name
// themselves), bytes of anonymous reports over a sliding window, plus the estimated cost of sessions granted
// too recently for their bytes to show yet.

export type EgressSource = "edge" | "node";

/** Who sent a report and what span it covers: its bytes become a rate that stands until its next report is due. */
export interface ReportSpan {
  /** The edge isolate's or stadium node's id: its next report replaces this one's rate. */
  reporter: string;
  /** Milliseconds the report's bytes were served over (since the reporter's previous report). */
  periodMs: number;
  /** Milliseconds until the reporter's next report is due at the latest while it serves. */
  intervalMs: number;
}

/** A report's span when it names its reporter with a sane period and interval, else null (its bytes then go to the window). */
export function reportSpanOf(input: { reporter?: string; periodMs?: number; intervalMs?: number }): ReportSpan | null {
  const { reporter, periodMs, intervalMs } = input;
  if (typeof reporter !== "string" || reporter.length === 0 || reporter.length > 128) return null;
  if (!(typeof periodMs === "number" && periodMs >= 0 && periodMs <= 3_600_000)) return null;
  if (!(typeof intervalMs === "number" && intervalMs > 0 && intervalMs <= 3_600_000)) return null;
  return { reporter, periodMs, intervalMs };
}

/** A report's bytes are spread over at least this long: the first report of an isolate covers one request. */
const MIN_PERIOD_MS = 1_000;
const MAX_REPORTERS = 10_000;

/** A reporter's rate stands for its interval plus this allowance (as a lease does: reportAllowanceMs). */
export function rateHoldMs(intervalMs: number): number {
  return intervalMs + Math.max(5_000, intervalMs / 2);
}

/**
 * Bits per second per source: the sum of each named reporter's rate over its last report period, while its next
 * report is not overdue, plus one-second buckets over the last `windowSeconds` for reports that name no reporter.
 * A fixed window alone reads 0 between reports whenever reports come further apart than the window (edges report
 * once per lease, 60 s by default, against a 30 s window): the rate of the last period does not.
 */
export class EgressMeter {
  private readonly bytes: Record<EgressSource, Float64Array>;
  private readonly secs: Record<EgressSource, Float64Array>;
  private readonly rates = new Map<string, { source: EgressSource; bps: number; until: number }>();

  constructor(readonly windowSeconds: number) {
    this.bytes = { edge: new Float64Array(windowSeconds), node: new Float64Array(windowSeconds) };
    this.secs = { edge: new Float64Array(windowSeconds).fill(-1), node: new Float64Array(windowSeconds).fill(-1) };
  }

  /** Counts `bytes` (served since the reporter's previous report): as the reporter's rate over `span`, else in the second of `now`. */
  add(source: EgressSource, bytes: number, now: number, span?: ReportSpan): void {
    if (span) {
      const key = `${source}:${span.reporter}`;
      if (this.rates.size >= MAX_REPORTERS && !this.rates.has(key)) this.prune(now);
      if (this.rates.size >= MAX_REPORTERS && !this.rates.has(key)) return;
      const bps = (bytes * 8 * 1000) / Math.max(MIN_PERIOD_MS, span.periodMs);
      this.rates.set(key, { source, bps, until: now + rateHoldMs(span.intervalMs) });
      return;
    }
    const sec = Math.floor(now / 1000);
    const i = sec % this.windowSeconds;
    const secs = this.secs[source];
    const buckets = this.bytes[source];
    if (secs[i] !== sec) {
      secs[i] = sec;
      buckets[i] = 0;
    }
    buckets[i]! += bytes;
  }

  /** Bits per second at `now`: named reporters' standing rates plus the anonymous window's average. */
  bps(source: EgressSource, now: number): number {
    const sec = Math.floor(now / 1000);
    const secs = this.secs[source];
    const buckets = this.bytes[source];
    let total = 0;
    for (let i = 0; i < this.windowSeconds; i++) {
      const s = secs[i]!;
      if (s > sec - this.windowSeconds && s <= sec) total += buckets[i]!;
    }
    let rate = 0;
    for (const [k, r] of this.rates) {
      if (r.until <= now) this.rates.delete(k);
      else if (r.source === source) rate += r.bps;
    }
    return rate + (total * 8) / this.windowSeconds;
  }

  private prune(now: number): void {
    for (const [k, r] of this.rates) if (r.until <= now) this.rates.delete(k);
  }
}

/**
 * Estimated egress of sessions granted within the last window: each counts its estimated bits/s,
 * fading linearly to zero over the window while its measured bytes fill the window in its place.
 * Kept as two running sums so reading it is O(1) however many sessions were just granted.
 */
export class RampReservation {
  private readonly items: { t: number; cost: number }[] = [];
  private head = 0;
  private epoch = 0;
  private sum = 0;
  private sumT = 0;

  constructor(private readonly windowMs: number) {}

  add(now: number, costBps: number): void {
    if (!(costBps > 0)) return;
    if (this.head === this.items.length) this.epoch = now;
    this.items.push({ t: now, cost: costBps });
    this.sum += costBps;
    this.sumT += costBps * (now - this.epoch);
  }

  /** Bits per second still reserved at `now`. */
  value(now: number): number {
    while (this.head < this.items.length && now - this.items[this.head]!.t >= this.windowMs) {
      const it = this.items[this.head++]!;
      this.sum -= it.cost;
      this.sumT -= it.cost * (it.t - this.epoch);
    }
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
      this.sum = 0;
      this.sumT = 0;
      return 0;
    }
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    // Σ cost·(1 − age/W) = sum − (now·sum − Σ cost·t) / W, with t measured from `epoch`.
    return Math.max(0, this.sum - ((now - this.epoch) * this.sum - this.sumT) / this.windowMs);
  }
}
