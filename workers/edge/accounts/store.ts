// The edge's reads and writes of the ACCOUNTS KV namespace: account records, token revocations and the read copy of
// entitlements (key layout and schemas in workers/shared/accounts/records.ts).
import { accountKeys, AccountSchema, EntitlementsMirrorSchema, type Account } from "../../shared/accounts/records";

// KV refuses expirationTtl under 60 seconds.
const KV_MIN_TTL_SECONDS = 60;

/** Reads an account record; a record that does not parse counts as absent. */
export async function readAccount(kv: KVNamespace, loginKey: string): Promise<Account | null> {
  const raw = await kv.get(accountKeys.user(loginKey), "json");
  if (raw === null) return null;
  const parsed = AccountSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

/** The entitlement read copy; null when there is none (never bought anything, or not mirrored yet). */
export async function readEntitlementsMirror(kv: KVNamespace, userId: string): Promise<string[] | null> {
  const raw = await kv.get(accountKeys.entitlements(userId), "json");
  if (raw === null) return null;
  const parsed = EntitlementsMirrorSchema.safeParse(raw);
  return parsed.success ? parsed.data.productIds : null;
}

// Tokens revoked through this isolate: refused here without waiting for KV to show the record.
const locallyRevoked = new Map<string, number>();

/** Records that a token stopped working; the record lives as long as the token would have. */
export async function revokeToken(kv: KVNamespace, tokenId: string, userId: string, expiresAtSeconds: number, nowSeconds: number): Promise<void> {
  if (locallyRevoked.size >= 10_000) {
    for (const [id, x] of locallyRevoked) if (x <= nowSeconds) locallyRevoked.delete(id);
    if (locallyRevoked.size >= 10_000) locallyRevoked.clear(); // bounded; KV still has every record
  }
  locallyRevoked.set(tokenId, expiresAtSeconds);
  const ttl = Math.max(KV_MIN_TTL_SECONDS, Math.ceil(expiresAtSeconds - nowSeconds));
  await kv.put(accountKeys.revoked(tokenId), JSON.stringify({ userId, revokedAt: new Date(nowSeconds * 1000).toISOString() }), { expirationTtl: ttl });
}

/** Whether a token was logged out. */
export async function isRevoked(kv: KVNamespace, tokenId: string): Promise<boolean> {
  if (locallyRevoked.has(tokenId)) return true;
  return (await kv.get(accountKeys.revoked(tokenId))) !== null;
}
