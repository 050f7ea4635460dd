// Waiting for work that another request started (a coalesced fetch), the way workerd allows it.
//
// workerd gives each request its own I/O context, and two rules shape how one request waits for another:
// - A request with no I/O of its own pending is cancelled as hung ("your Worker's code had hung"), even
//   if another request is about to settle what it awaits. A waiter therefore keeps a timer of its own
//   pending (keepAlive) for as long as it waits.
// - A continuation must run in its own request's context, or it touches that request's streams from the
//   wrong one. workerd runs a promise's continuations in the context that created the promise when
//   another request resolves it (compatibility flag handle_cross_request_promise_resolution, on at the
//   edge's compatibility date). So a waiter never awaits the shared promise itself, whose reactions
//   would run in the resolving request: it awaits a promise it created, which the shared work settles.
// Waiters are woken, never polling: 500 viewers of one new segment polling on timers of their own would
// spend the worker's one thread on timers while the body waited to go out.

/** How often a waiter's own keep-alive timer fires: rare, it only has to be pending. */
const KEEP_ALIVE_MS = 1_000;

/** Keeps a timer of this request's own pending until the returned function is called (see the header). */
export function keepAlive(): () => void {
  let timer = setTimeout(rearm, KEEP_ALIVE_MS);
  function rearm() {
    timer = setTimeout(rearm, KEEP_ALIVE_MS);
  }
  return () => clearTimeout(timer);
}

/**
 * Wakes every request waiting on it. Each waiter gets a promise of its own (created in its own request),
 * so its continuation runs in its own context whichever request fires.
 */
export class Signal {
  private waiters: (() => void)[] = [];

  /** Resolves at the next fire(). The caller keeps I/O of its own pending meanwhile (keepAlive). */
  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  fire(): void {
    const waiting = this.waiters;
    if (waiting.length === 0) return;
    this.waiters = [];
    for (const resolve of waiting) resolve();
  }
}

const settledFlags = new WeakMap<Promise<unknown>, { settled: boolean }>();

/** A flag that turns true when `shared` settles (set from whichever request settles it; read by any). */
function flagOf(shared: Promise<unknown>): { settled: boolean } {
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
  return flag;
}

/**
 * Resolves like `shared`, in this request's own context, with a timer of its own pending while it waits.
 * Already settled (the common case: an isolate copy read by every request), it costs no timer and no promise.
 */
export async function awaitShared<T>(shared: Promise<T>): Promise<T> {
  if (!flagOf(shared).settled) {
    const stop = keepAlive();
    try {
      await new Promise<void>((resolve) => {
        shared.then(
          () => resolve(),
          () => resolve(),
        );
      });
    } finally {
      stop();
    }
  }
  // Settled now: awaiting it continues in this request's context.
  return shared;
}
