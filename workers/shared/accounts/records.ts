// The ACCOUNTS KV namespace's key layout and record schemas: what the edge's store reads and the account objects write.
import { z } from "zod";

/** KV key layout of the ACCOUNTS namespace (documented in docs/accounts.md). */
export const accountKeys = {
  /** The account, by normalised login. Written by the LoginRegistry object that owns the login. */
  user: (loginKey: string) => `user:${loginKey}`,
  /** A logged-out token, until the token would have expired anyway. */
  revoked: (tokenId: string) => `revoked:${tokenId}`,
  /** Read copy of the products a viewer owns. The PurchaseLedger object is the source of truth. */
  entitlements: (userId: string) => `entitlements:${userId}`,
};

export const PasswordHashSchema = z.object({
  alg: z.literal("pbkdf2-sha256"),
  iterations: z.number().int().positive(),
  salt: z.string(),
  hash: z.string(),
});

export const AccountSchema = z.object({
  id: z.string(),
  login: z.string(),
  loginKey: z.string(),
  password: PasswordHashSchema,
  createdAt: z.string(),
});
export type Account = z.infer<typeof AccountSchema>;

export const EntitlementsMirrorSchema = z.object({ productIds: z.array(z.string()), updatedAt: z.string() });
