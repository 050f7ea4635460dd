// Password hashing: PBKDF2-SHA256 through WebCrypto with a random salt per account, compared in constant time.
import { decodeBase64Url, encodeBase64Url } from "../../shared/base64url";
import { timingSafeEqualText } from "../../shared/timing-safe";

/** 100,000 is the most iterations the Workers runtime allows for PBKDF2. */
export const PBKDF2_ITERATIONS = 100_000;
const SALT_BYTES = 16;
const HASH_BITS = 256;

export interface PasswordHash {
  alg: "pbkdf2-sha256";
  iterations: number;
  salt: string; // base64url
  hash: string; // base64url
}

const encoder = new TextEncoder();

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, HASH_BITS);
  return encodeBase64Url(new Uint8Array(bits));
}

/** Hashes a new password with a fresh random salt. */
export async function hashPassword(password: string): Promise<PasswordHash> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  return { alg: "pbkdf2-sha256", iterations: PBKDF2_ITERATIONS, salt: encodeBase64Url(salt), hash: await derive(password, salt, PBKDF2_ITERATIONS) };
}

// Used when the login does not exist, so an unknown login costs the same time as a wrong password
// and response timing does not tell a guesser which logins are registered.
const DUMMY: PasswordHash = { alg: "pbkdf2-sha256", iterations: PBKDF2_ITERATIONS, salt: "AAAAAAAAAAAAAAAAAAAAAA", hash: "" };

/** True when `password` matches `stored`; with `stored` null it spends the same time and returns false. */
export async function verifyPassword(password: string, stored: PasswordHash | null): Promise<boolean> {
  const target = stored ?? DUMMY;
  const salt = decodeBase64Url(target.salt);
  // A record whose salt does not decode cannot match anything; still spend the time.
  const derived = await derive(password, salt ?? new Uint8Array(SALT_BYTES), Math.min(target.iterations, PBKDF2_ITERATIONS));
  const equal = await timingSafeEqualText(derived, target.hash);
  return stored !== null && salt !== null && equal;
}
