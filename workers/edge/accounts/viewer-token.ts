// Viewer tokens: HMAC-SHA256-signed claims `<payload>.<signature>` (base64url) that say who is signed in and until when.
//
// HMAC rather than the playback Ed25519 key: only this platform ever checks a viewer token (stadium
// nodes never see one), so a shared secret is enough, verification costs a hash instead of a curve
// operation, and the two keys stay separate: a leak of one cannot mint the other kind of token.
import { z } from "zod";
import { decodeBase64Url, encodeBase64Url } from "../../shared/base64url";

export const VIEWER_TOKEN_VERSION = 1;

/** What a viewer token says. Short names keep the header short. */
export const ViewerClaimsSchema = z.object({
  v: z.literal(VIEWER_TOKEN_VERSION),
  t: z.literal("viewer"),
  u: z.string().min(1).max(64), // user id
  l: z.string().min(1).max(256), // login, as registered
  j: z.string().min(16).max(64), // token id, the key of its revocation record
  x: z.number().int().positive(), // expiry, unix seconds
});
export type ViewerClaims = z.infer<typeof ViewerClaimsSchema>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    keys.set(secret, key);
  }
  return key;
}

/** A fresh random token id (128 bits). */
export function newTokenId(): string {
  return encodeBase64Url(crypto.getRandomValues(new Uint8Array(16)));
}

/** Signs claims into a viewer token. */
export async function signViewerToken(claims: Omit<ViewerClaims, "v" | "t">, secret: string): Promise<string> {
  const full: ViewerClaims = { v: VIEWER_TOKEN_VERSION, t: "viewer", ...claims };
  const payload = encodeBase64Url(encoder.encode(JSON.stringify(full)));
  const sig = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(payload));
  return `${payload}.${encodeBase64Url(new Uint8Array(sig))}`;
}

export type ViewerTokenResult = { ok: true; claims: ViewerClaims } | { ok: false; reason: string };

/**
 * Checks a viewer token's signature (constant time, by WebCrypto) and expiry at `nowSeconds`.
 * Revocation is the caller's business. Never throws: anything in a header gives `{ ok: false }`.
 */
export async function verifyViewerToken(token: string, secret: string, nowSeconds: number): Promise<ViewerTokenResult> {
  if (token.length > 2048) return { ok: false, reason: "too long" };
  const dot = token.indexOf(".");
  if (dot <= 0 || dot !== token.lastIndexOf(".")) return { ok: false, reason: "malformed" };
  const payloadPart = token.slice(0, dot);
  const payload = decodeBase64Url(payloadPart);
  const sig = decodeBase64Url(token.slice(dot + 1));
  if (!payload || !sig || sig.length !== 32) return { ok: false, reason: "malformed" };
  const valid = await crypto.subtle.verify("HMAC", await hmacKey(secret), sig, encoder.encode(payloadPart));
  if (!valid) return { ok: false, reason: "bad signature" };
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(payload));
  } catch {
    return { ok: false, reason: "malformed" };
  }
  const parsed = ViewerClaimsSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: "malformed claims" };
  if (parsed.data.x <= nowSeconds) return { ok: false, reason: "expired" };
  return { ok: true, claims: parsed.data };
}
