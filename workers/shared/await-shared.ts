// Waiting for work that another request started (a coalesced fetch), the way workerd allows it.
//
// workerd gives each request its own I/O context. A request that awaits a promise another request
// will resolve is cancelled as hung ("your Worker's code had hung") when it has no I/O of its own
// pending, and a continuation run by another request's resolution touches this request's streams
// from the wrong context. Both turned coalesced viewers into empty 200s. So waiters never await
// the shared promise itself: they look at a flag on timers of their own, backing off to MAX_MS.

const FIRST_MS = 2;
const MAX_MS = 20;

/** Sleeps on this request's own timer. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A wait that backs off from 2 ms to 20 ms, for polling something another request updates. */
export class Backoff {
  private ms = FIRST_MS;
  async wait(): Promise<void> {
    await sleep(this.ms);
    this.ms = Math.min(MAX_MS, this.ms * 2);
  }
  reset(): void {
    this.ms = FIRST_MS;
  }
}

const settledFlags = new WeakMap<Promise<unknown>, { settled: boolean }>();

/** Resolves like `shared`, polling on this request's timers instead of awaiting another request's promise. */
export async function awaitShared<T>(shared: Promise<T>): Promise<T> {
  let flag = settledFlags.get(shared);
  if (!flag) {
    const f = { settled: false };
    flag = f;
    settledFlags.set(shared, f);
    shared.then(
      () => (f.settled = true),
      () => (f.settled = true),
    );
  }
  const backoff = new Backoff();
  while (!flag.settled) await backoff.wait();
  // Already settled: awaiting it now continues in this request's own context.
  return shared;
}
