// Counts requests by path so tests and benchmarks can see how much load reached the origin.
//
// The counters live in this isolate's memory. That is enough here: locally the demo origin runs as a
// single workerd process with one isolate; a deployed copy would count per isolate (per machine).

export interface StatsSnapshot {
  total: number;
  byPath: Record<string, number>;
  /**
   * LL-HLS blocking reloads answered, by `path?_HLS_msn=N&_HLS_part=P`: how many, when (ms since the epoch)
   * the first could be answered (the part they waited for came to exist, or the request came if it existed), and when the last was answered, so a benchmark can time a
   * cache's fan-out from the origin's answer (and the origin's own, from the part's instant).
   */
  blockingReloads: Record<string, BlockingReloadNote>;
}

export interface BlockingReloadNote {
  answered: number;
  readyAt: number;
  lastAnsweredAt: number;
}

/** Blocking reload keys kept (the oldest goes first): a bound, since every part of a live stream is a new key. */
const MAX_BLOCKING_RELOADS = 512;

export class RequestStats {
  #total = 0;
  #byPath = new Map<string, number>();
  #blockingReloads = new Map<string, BlockingReloadNote>();

  /** Counts one request for `path` (the URL path, without its query). */
  record(path: string): void {
    this.#total++;
    this.#byPath.set(path, (this.#byPath.get(path) ?? 0) + 1);
  }

  /** Notes that a blocking reload of `path` for part `part` of segment `msn`, which existed from `readyAt`, was answered now. */
  answeredBlockingReload(path: string, msn: number, part: number | undefined, readyAt: number): void {
    const key = `${path}?_HLS_msn=${msn}${part === undefined ? "" : `&_HLS_part=${part}`}`;
    const seen = this.#blockingReloads.get(key);
    this.#blockingReloads.delete(key);
    this.#blockingReloads.set(key, { answered: (seen?.answered ?? 0) + 1, readyAt: Math.min(seen?.readyAt ?? readyAt, readyAt), lastAnsweredAt: Date.now() });
    if (this.#blockingReloads.size > MAX_BLOCKING_RELOADS) this.#blockingReloads.delete(this.#blockingReloads.keys().next().value!);
  }

  snapshot(): StatsSnapshot {
    return { total: this.#total, byPath: Object.fromEntries(this.#byPath), blockingReloads: Object.fromEntries(this.#blockingReloads) };
  }

  reset(): void {
    this.#total = 0;
    this.#byPath.clear();
    this.#blockingReloads.clear();
  }
}

/** The one counter of this isolate. */
export const requestStats = new RequestStats();
