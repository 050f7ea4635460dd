// Registration throttling: at most 30 registrations per client address in 10 minutes. Each one costs a
// PBKDF2 hash (100,000 rounds) and can create an account, so an address must not be able to ask for them
// at will; but a stadium's viewers reach us through a few NAT addresses (carrier-grade NAT, the venue's
// Wi-Fi) and many register in the minutes before kick-off, so the limit is loose: 30 in 10 minutes still
// caps one address's cost to us at three hashes a minute, and a viewer refused is told when to try again.
import { registrationAttemptLimiter } from "../../../durable-objects/attempt-limiter/client";

export const REGISTRATIONS_PER_ADDRESS = 30;
export const REGISTRATION_WINDOW_MS = 10 * 60_000;

export type RegistrationAttempt = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * Counts a registration against the client address before any work is done. Every registration counts,
 * whatever its outcome: a taken login costs the same hash, and checking logins this way must be throttled too.
 */
export async function beginRegistration(env: Env, addressKey: string, now: number): Promise<RegistrationAttempt> {
  const decision = await registrationAttemptLimiter(env, addressKey).attempt(now, REGISTRATIONS_PER_ADDRESS, REGISTRATION_WINDOW_MS);
  return decision.allowed ? { allowed: true } : { allowed: false, retryAfterSeconds: decision.retryAfterSeconds };
}
