// Playback tokens: Ed25519-signed claims carried in the /play/<token>/ path. The platform signs;
// edges and stadium nodes verify with public keys only.
import { z } from "zod";
import { decodeBase64Url, encodeBase64Url } from "../base64url";

export const TOKEN_VERSION = 1;

/** What a playback token says. Short field names keep the URL short. */
export const PlaybackClaimsSchema = z.object({
  v: z.literal(TOKEN_VERSION),
  k: z.string().min(1).max(32), // key id
  s: z.string().min(1).max(64), // session id
  e: z.string().min(1).max(64), // event id
  c: z.string().min(1).max(64), // channel id
  x: z.number().int().positive(), // expiry, unix seconds
  b: z.number().int().positive().optional(), // bandwidth cap of the quality ladder, bits/s
});
export type PlaybackClaims = z.infer<typeof PlaybackClaimsSchema>;

const PublicKeySchema = z.object({ kid: z.string().min(1).max(32), x: z.string().min(40).max(50) });
const PrivateKeySchema = PublicKeySchema.extend({ d: z.string().min(40).max(50) });
export const VerifyKeysSchema = z.array(PublicKeySchema).max(16);
export type VerifyKey = z.infer<typeof PublicKeySchema>;
export type SigningKey = z.infer<typeof PrivateKeySchema>;

/** Parses the `PLAYBACK_VERIFY_KEYS` setting; a malformed setting is a deployment error, so it throws. */
export function parseVerifyKeys(json: string): VerifyKey[] {
  return VerifyKeysSchema.parse(JSON.parse(json));
}

/** Parses the `PLAYBACK_SIGNING_KEY` secret. */
export function parseSigningKey(json: string): SigningKey {
  return PrivateKeySchema.parse(JSON.parse(json));
}

const encoder = new TextEncoder();
const importedKeys = new Map<string, Promise<CryptoKey>>();

function importKey(jwk: { x: string; d?: string }): Promise<CryptoKey> {
  const cacheKey = `${jwk.x}|${jwk.d ?? ""}`;
  let key = importedKeys.get(cacheKey);
  if (!key) {
    key = crypto.subtle.importKey(
      "jwk",
      { kty: "OKP", crv: "Ed25519", x: jwk.x, ...(jwk.d ? { d: jwk.d } : {}) },
      { name: "Ed25519" },
      false,
      jwk.d ? ["sign"] : ["verify"],
    ) as Promise<CryptoKey>;
    importedKeys.set(cacheKey, key);
  }
  return key;
}

/** Signs claims into a token `<payload>.<signature>` (both base64url). */
export async function signPlaybackToken(
  claims: Omit<PlaybackClaims, "v" | "k">,
  signingKey: SigningKey,
): Promise<string> {
  const full: PlaybackClaims = { v: TOKEN_VERSION, k: signingKey.kid, ...claims };
  const payload = encodeBase64Url(encoder.encode(JSON.stringify(full)));
  const key = await importKey(signingKey);
  const sig = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key, encoder.encode(payload)));
  return `${payload}.${encodeBase64Url(sig)}`;
}

export type VerifyResult = { ok: true; claims: PlaybackClaims } | { ok: false; reason: string };

/**
 * Verifies a token's signature against the public keys and checks expiry at `nowSeconds`.
 * Never throws: anything a client can put in a URL gives `{ ok: false }`.
 */
export async function verifyPlaybackToken(
  token: string,
  keys: readonly VerifyKey[],
  nowSeconds: number,
): Promise<VerifyResult> {
  if (token.length > 1024) return { ok: false, reason: "too long" };
  const dot = token.indexOf(".");
  if (dot <= 0 || dot !== token.lastIndexOf(".")) return { ok: false, reason: "malformed" };
  const payloadPart = token.slice(0, dot);
  const payloadBytes = decodeBase64Url(payloadPart);
  const sig = decodeBase64Url(token.slice(dot + 1));
  if (!payloadBytes || !sig || sig.length !== 64) return { ok: false, reason: "malformed" };
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(payloadBytes));
  } catch {
    return { ok: false, reason: "malformed" };
  }
  const parsed = PlaybackClaimsSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: "malformed claims" };
  const claims = parsed.data;
  const jwk = keys.find((k) => k.kid === claims.k);
  if (!jwk) return { ok: false, reason: "unknown key" };
  let valid = false;
  try {
    valid = await crypto.subtle.verify({ name: "Ed25519" }, await importKey(jwk), sig, encoder.encode(payloadPart));
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, reason: "bad signature" };
  if (claims.x <= nowSeconds) return { ok: false, reason: "expired" };
  return { ok: true, claims };
}

/**
 * An isolate-local cache of verified tokens, so the segment hit path pays for Ed25519 once per
 * token rather than once per request. Only successes are cached, and only until their expiry.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, PlaybackClaims>();
  constructor(private readonly maxEntries = 20_000) {}

  async verify(token: string, keys: readonly VerifyKey[], nowSeconds: number): Promise<VerifyResult> {
    const hit = this.entries.get(token);
    if (hit && hit.x > nowSeconds) return { ok: true, claims: hit };
    const result = await verifyPlaybackToken(token, keys, nowSeconds);
    if (result.ok) {
      // Dropping everything when full is crude but bounded; the next requests re-verify.
      if (this.entries.size >= this.maxEntries) this.entries.clear();
      this.entries.set(token, result.claims);
    }
    return result;
  }
}
