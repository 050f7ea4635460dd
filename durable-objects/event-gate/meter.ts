// The event's egress: bytes reported by edges and stadium nodes over a sliding window, plus the
// estimated cost of sessions granted too recently for their bytes to show in that window yet.

export type EgressSource = "edge" | "node";

/** Bytes per one-second bucket over the last `windowSeconds`, kept per source. */
export class EgressMeter {
  private readonly bytes: Record<EgressSource, Float64Array>;
  private readonly secs: Record<EgressSource, Float64Array>;

  constructor(readonly windowSeconds: number) {
    this.bytes = { edge: new Float64Array(windowSeconds), node: new Float64Array(windowSeconds) };
    this.secs = { edge: new Float64Array(windowSeconds).fill(-1), node: new Float64Array(windowSeconds).fill(-1) };
  }

  /** Counts `bytes` (served since the reporter's previous report) in the second of `now`. */
  add(source: EgressSource, bytes: number, now: number): void {
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

  /** Average bits per second over the window that ends at `now`. */
  bps(source: EgressSource, now: number): number {
    const sec = Math.floor(now / 1000);
    const secs = this.secs[source];
    const buckets = this.bytes[source];
    let total = 0;
    for (let i = 0; i < this.windowSeconds; i++) {
      const s = secs[i]!;
      if (s > sec - this.windowSeconds && s <= sec) total += buckets[i]!;
    }
    return (total * 8) / this.windowSeconds;
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
