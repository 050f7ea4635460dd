// One run of a piece of work per key at a time: everyone who asks while it runs shares its promise.

/**
 * Coalesces concurrent work by key: while a task for a key is running, callers for the same key get
 * the same promise instead of starting another. Once it settles, the next caller starts a new one.
 */
export class Coalescer<T> {
  private readonly inflight = new Map<string, Promise<T>>();

  /** The running task for `key`, or `task()` started now and shared until it settles. */
  run(key: string, task: () => Promise<T>): Promise<T> {
    const running = this.inflight.get(key);
    if (running) return running;
    const p = task().finally(() => {
      if (this.inflight.get(key) === p) this.inflight.delete(key);
    });
    this.inflight.set(key, p);
    return p;
  }

  /** The task running for `key`, if any. */
  running(key: string): Promise<T> | undefined {
    return this.inflight.get(key);
  }
}
