// Goods-code guessing throttle: at most 20 lookups of codes that do not exist per kiosk and per client address in
// 10 minutes. Codes that exist are forgiven, so a busy kiosk is never slowed; a mistyped code (failed check
// character) is refused before this and costs nothing.
import { attemptAll, codeLookupLimiter } from "../../../durable-objects/attempt-limiter/client";

export const CODE_LOOKUP_MAX_MISSES = 20;
export const CODE_LOOKUP_WINDOW_MS = 10 * 60_000;

export type CodeLookup = { allowed: true; found(): Promise<void> } | { allowed: false; retryAfterSeconds: number };

/** Counts a lookup against the kiosk and the address before the code is looked up; call `found()` when it existed. */
export async function beginCodeLookup(env: Env, kioskId: string, addressKey: string, now: number): Promise<CodeLookup> {
  const attempt = await attemptAll([codeLookupLimiter(env, `kiosk:${kioskId}`), codeLookupLimiter(env, `addr:${addressKey}`)], now, CODE_LOOKUP_MAX_MISSES, CODE_LOOKUP_WINDOW_MS);
  return attempt.allowed ? { allowed: true, found: attempt.forgive } : attempt;
}
