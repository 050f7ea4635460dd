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

// The types callers name, so that no caller imports the object's own modules.
export type { AttemptDecision } from "./attempt-limiter";
