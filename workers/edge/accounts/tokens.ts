// Issuing a viewer token for an account: the one shape register and login answer with.
import type { Account } from "../../shared/accounts/records";
import { accountsConfig } from "./config";
import { newTokenId, signViewerToken } from "./viewer-token";

/** A fresh viewer token for `account`, valid for the configured lifetime from `nowMs`. */
export async function issueViewerToken(env: Env, account: Pick<Account, "id" | "login">, nowMs: number) {
  const cfg = accountsConfig(env);
  const expiresAtSeconds = Math.floor(nowMs / 1000) + cfg.tokenTtlSeconds;
  const token = await signViewerToken({ u: account.id, l: account.login, j: newTokenId(), x: expiresAtSeconds }, cfg.tokenSecret);
  return { token, user: { id: account.id, login: account.login }, expiresAt: new Date(expiresAtSeconds * 1000).toISOString() };
}
