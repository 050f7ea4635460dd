// Settings of the viewer accounts, parsed once per Env: a missing secret fails loudly at the first account request.
import { z } from "zod";

export interface AccountsConfig {
  /** HMAC secret of viewer tokens. */
  tokenSecret: string;
  /** How long a viewer token lasts. */
  tokenTtlSeconds: number;
}

const DEFAULT_TTL_SECONDS = 7 * 86400;
const configs = new WeakMap<object, AccountsConfig>();

/** Parses and memoises the accounts settings of this Env. Throws on a misconfigured deployment. */
export function accountsConfig(env: Env): AccountsConfig {
  let cfg = configs.get(env);
  if (cfg) return cfg;
  const secret = z.string().min(32).safeParse(env.VIEWER_TOKEN_SECRET);
  if (!secret.success) throw new Error("VIEWER_TOKEN_SECRET is not set (at least 32 characters); see .dev.vars.example");
  cfg = {
    tokenSecret: secret.data,
    tokenTtlSeconds: z.coerce.number().int().min(300).max(90 * 86400).default(DEFAULT_TTL_SECONDS).parse(env.VIEWER_TOKEN_TTL_SECONDS),
  };
  configs.set(env, cfg);
  return cfg;
}
