// Login brute-force throttling: at most 5 attempts that did not succeed per login and per client address in 5 minutes.
import { addressAttemptLimiter, attemptAll, loginAttemptLimiter } from "../../../durable-objects/attempt-limiter/client";

export const LOGIN_MAX_FAILURES = 5;
export const LOGIN_WINDOW_MS = 5 * 60_000;

export type LoginAttempt = { allowed: true; succeeded(): Promise<void> } | { allowed: false; retryAfterSeconds: number };

/**
 * Counts a login attempt against the login and the client address before the password is checked.
 * Refused when either key is used up; call `succeeded()` when the password was right, and the attempt
 * stops counting.
 */
export async function beginLoginAttempt(env: Env, loginKey: string, addressKey: string, now: number): Promise<LoginAttempt> {
  const attempt = await attemptAll([loginAttemptLimiter(env, loginKey), addressAttemptLimiter(env, addressKey)], now, LOGIN_MAX_FAILURES, LOGIN_WINDOW_MS);
  return attempt.allowed ? { allowed: true, succeeded: attempt.forgive } : attempt;
}
