// The edge's settings, parsed once per isolate from Env: a bad secret fails loudly at the first request, not silently per request.
import { z } from "zod";
import { parseSigningKey, parseVerifyKeys, type SigningKey, type VerifyKey } from "../shared/playback/token";

export interface EdgeConfig {
  adminToken: string;
  signingKey: SigningKey;
  verifyKeys: VerifyKey[];
  tokenTtlSeconds: number;
}

const configs = new WeakMap<object, EdgeConfig>();

/** Parses and memoises the edge's configuration for this Env. Throws on a misconfigured deployment. */
export function edgeConfig(env: Env): EdgeConfig {
  let cfg = configs.get(env);
  if (cfg) return cfg;
  const secret = (name: string, value: unknown): string => {
    const parsed = z.string().min(16).safeParse(value);
    if (!parsed.success) throw new Error(`${name} is not set (at least 16 characters); see .dev.vars.example`);
    return parsed.data;
  };
  const signingKey = parseSigningKey(secret("PLAYBACK_SIGNING_KEY", env.PLAYBACK_SIGNING_KEY));
  const verifyKeys = parseVerifyKeys(env.PLAYBACK_VERIFY_KEYS);
  if (!verifyKeys.some((k) => k.kid === signingKey.kid && k.x === signingKey.x)) {
    throw new Error("PLAYBACK_VERIFY_KEYS must contain the public half of PLAYBACK_SIGNING_KEY");
  }
  cfg = {
    adminToken: secret("ADMIN_TOKEN", env.ADMIN_TOKEN),
    signingKey,
    verifyKeys,
    tokenTtlSeconds: z.coerce.number().int().min(60).max(7 * 86400).parse(env.PLAYBACK_TOKEN_TTL_SECONDS),
  };
  configs.set(env, cfg);
  return cfg;
}
