// Goods-code guessing throttle: at most 20 lookups of codes that do not exist per kiosk and per client address in
// 10 minutes. Codes that exist are forgiven, so a busy kiosk is never slowed; a mistyped code (failed check
// character) is refused before this and costs nothing.
import { codeLookupLimiter } from "../../../durable-objects/attempt-limiter/client";

export const CODE_LOOKUP_MAX_MISSES = 20;
export const CODE_LOOKUP_WINDOW_MS = 10 * 60_000;

export type CodeLookup = { allowed: true; found(): Promise<void> } | { allowed: false; retryAfterSeconds: number };

/** Counts a lookup against the kiosk and the address before the code is looked up; call `found()` when it existed. */
export async function beginCodeLookup(env: Env, kioskId: string, addressKey: string, now: number): Promise<CodeLookup> {
  const limiters = [codeLookupLimiter(env, `kiosk:${kioskId}`), codeLookupLimiter(env, `addr:${addressKey}`)];
  const decisions = await Promise.all(limiters.map((l) => l.attempt(now, CODE_LOOKUP_MAX_MISSES, CODE_LOOKUP_WINDOW_MS)));
  const forgive = () =>
    Promise.all(decisions.map((d, i) => (d.allowed ? limiters[i]!.forgive(d.attemptId) : undefined))).then(() => undefined);
  const refused = decisions.filter((d) => !d.allowed);
  if (refused.length > 0) {
    // The other key's attempt was never made; it must not count.
    await forgive();
    return { allowed: false, retryAfterSeconds: Math.max(...refused.map((d) => d.retryAfterSeconds)) };
  }
  return { allowed: true, found: forgive };
}
