// Redemption codes of goods: 9 random characters and a check character from an alphabet without 0/O/1/I/L,
// so a code read aloud or typed from a phone screen cannot be mistaken, and a mistyped one is refused unread.

/** 31 characters: digits 2-9 and the letters without I, L and O. 31 is prime, which the check character needs. */
export const CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const BASE = CODE_ALPHABET.length;
/** Random characters per code: 31^9 ≈ 2.6·10^13 codes (44.6 bits); see README, Security model. */
export const CODE_RANDOM_LENGTH = 9;
export const CODE_LENGTH = CODE_RANDOM_LENGTH + 1;
// The largest multiple of 31 below 256: bytes at or above it are drawn again, so every character is equally likely.
const UNBIASED_LIMIT = BASE * Math.floor(256 / BASE);

function valueOf(ch: string): number {
  return CODE_ALPHABET.indexOf(ch);
}

/**
 * The check character of `body`: weights 1, 2, 3, … modulo the prime 31, chosen so that the weighted sum with the
 * check character (weight `body.length + 1`) is 0. Any single wrong character or any two characters swapped changes
 * the sum by a non-zero multiple of a weight difference below 31, so it is always caught.
 */
function checkCharacter(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum += (i + 1) * valueOf(body[i]!);
  const w = body.length + 1;
  // Solve w·c ≡ −sum (mod 31): the inverse of w by Fermat (w^29 mod 31), small enough to loop.
  let inverse = 1;
  for (let k = 0; k < BASE - 2; k++) inverse = (inverse * w) % BASE;
  const c = (((BASE - (sum % BASE)) % BASE) * inverse) % BASE;
  return CODE_ALPHABET[c]!;
}

/** A fresh code from the runtime's cryptographic randomness, without separators ("7KQ2M9XRTD"). */
export function generateGoodsCode(): string {
  let body = "";
  while (body.length < CODE_RANDOM_LENGTH) {
    for (const b of crypto.getRandomValues(new Uint8Array(16))) {
      if (b >= UNBIASED_LIMIT) continue;
      body += CODE_ALPHABET[b % BASE];
      if (body.length === CODE_RANDOM_LENGTH) break;
    }
  }
  return body + checkCharacter(body);
}

export type ParsedCode = { ok: true; code: string } | { ok: false; reason: "length" | "character" | "check" };

/**
 * Reads a code as a person typed or a scanner sent it: case, spaces and hyphens do not matter. Refuses a wrong length,
 * a character outside the alphabet, or a failed check character, so a mistyped code is never looked up.
 */
export function parseGoodsCode(input: string): ParsedCode {
  const code = input.toUpperCase().replace(/[\s-]/g, "");
  if (code.length !== CODE_LENGTH) return { ok: false, reason: "length" };
  for (const ch of code) if (valueOf(ch) < 0) return { ok: false, reason: "character" };
  const body = code.slice(0, CODE_RANDOM_LENGTH);
  if (checkCharacter(body) !== code[CODE_RANDOM_LENGTH]) return { ok: false, reason: "check" };
  return { ok: true, code };
}

/** A code as people read it, in two groups of five: "7KQ2M-9XRTD". */
export function formatGoodsCode(code: string): string {
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}
