// Counts requests by path so tests and benchmarks can see how much load reached the origin.
//
// The counters live in this isolate's memory. That is enough here: locally the demo origin runs as a
// single workerd process with one isolate; a deployed copy would count per isolate (per machine).

export interface StatsSnapshot {
  total: number;
  byPath: Record<string, number>;
}

export class RequestStats {
  #total = 0;
  #byPath = new Map<string, number>();

  /** Counts one request for `path` (the URL path, without its query). */
  record(path: string): void {
    this.#total++;
    this.#byPath.set(path, (this.#byPath.get(path) ?? 0) + 1);
  }

  snapshot(): StatsSnapshot {
    return { total: this.#total, byPath: Object.fromEntries(this.#byPath) };
  }

  reset(): void {
    this.#total = 0;
    this.#byPath.clear();
  }
}

/** The one counter of this isolate. */
export const requestStats = new RequestStats();
