// Constant-time comparison of secrets, so response timing does not reveal how much of a guess was right.

const encoder = new TextEncoder();

/** True when both strings are equal; takes the same time wherever they differ. */
export async function timingSafeEqualText(a: string, b: string): Promise<boolean> {
  // Hashing first gives equal-length inputs, so the comparison does not leak the secret's length either.
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  const x = new Uint8Array(ha);
  const y = new Uint8Array(hb);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}
