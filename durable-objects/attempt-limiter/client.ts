// Caller-side helper for attempt limiters: builds the ids (one object per login and one per client address for
// login attempts, one per client address for registrations).

/** The limiter of one normalised login. */
export function loginAttemptLimiter(env: Env, loginKey: string) {
  return env.ATTEMPT_LIMITER.get(env.ATTEMPT_LIMITER.idFromName(`login:${loginKey}`));
}

/** The limiter of one client address (already reduced to its throttle key, see client-address.ts). */
export function addressAttemptLimiter(env: Env, addressKey: string) {
  return env.ATTEMPT_LIMITER.get(env.ATTEMPT_LIMITER.idFromName(`addr:${addressKey}`));
}

/** The registration limiter of one client address (already reduced to its throttle key). */
export function registrationAttemptLimiter(env: Env, addressKey: string) {
  return env.ATTEMPT_LIMITER.get(env.ATTEMPT_LIMITER.idFromName(`register:${addressKey}`));
}

/** The goods-code lookup limiter of one kiosk (`kiosk:<id>`) or one client address (`addr:<key>`). */
export function codeLookupLimiter(env: Env, key: string) {
  return env.ATTEMPT_LIMITER.get(env.ATTEMPT_LIMITER.idFromName(`code:${key}`));
}

/** What counting one attempt against several limiters decided: go on (and `forgive()` it if it turns out good), or wait. */
export type Attempt = { allowed: true; forgive(): Promise<void> } | { allowed: false; retryAfterSeconds: number };

/**
 * Counts one attempt against every limiter (a login and an address, a kiosk and an address): refused when any
 * is used up, and then the others' attempts, never made, are taken back. Allowed, `forgive()` takes it back from all.
 */
export async function attemptAll(limiters: ReturnType<typeof addressAttemptLimiter>[], now: number, max: number, windowMs: number): Promise<Attempt> {
  const decisions = await Promise.all(limiters.map((l) => l.attempt(now, max, windowMs)));
  const forgive = () =>
    Promise.all(decisions.map((d, i) => (d.allowed ? limiters[i]!.forgive(d.attemptId) : undefined))).then(() => undefined);
  const refused = decisions.filter((d) => !d.allowed);
  if (refused.length > 0) {
    await forgive();
    return { allowed: false, retryAfterSeconds: Math.max(...refused.map((d) => d.retryAfterSeconds)) };
  }
  return { allowed: true, forgive };
}

// The types callers name, so that no caller imports the object's own modules.
export type { AttemptDecision } from "./attempt-limiter";
