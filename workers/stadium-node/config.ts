// The node's settings, parsed once per isolate from its bindings: a misconfigured node fails at its first request.
import { z } from "zod";
import { parseVerifyKeys, type VerifyKey } from "../shared/playback/token";
import { IdSchema } from "../shared/ids";

/** The node's bindings (vars from its wrangler.toml, STATS_KEY as a secret from the launcher). */
export interface StadiumNodeBindings {
  NODE_ID: string;
  STATS_KEY?: string;
  PLATFORM_URL: string;
  EVENT_IDS: string;
  PLAYBACK_VERIFY_KEYS: string;
  NODE_CACHE_MB: string;
  /** With several processes on one port (service/cluster.ts): this process's index, and every process's private address. */
  PEER_INDEX?: string;
  PEER_URLS?: string;
}

export interface StadiumNodeConfig {
  id: string;
  /** Bearer for /_node/stats, which only the launcher on the same box reads. */
  statsKey: string;
  platformUrl: string;
  eventIds: string[];
  verifyKeys: VerifyKey[];
  cacheBytes: number;
  /** This process's index among `peers` (0 when alone). */
  peerIndex: number;
  /** Each process's private base URL, by index; empty for a node of one process. */
  peers: string[];
}

const configs = new WeakMap<object, StadiumNodeConfig>();

export function nodeConfig(env: StadiumNodeBindings): StadiumNodeConfig {
  let cfg = configs.get(env);
  if (cfg) return cfg;
  const platform = z.url({ protocol: /^https?$/ }).parse(env.PLATFORM_URL);
  cfg = {
    id: IdSchema.parse(env.NODE_ID),
    statsKey: z.string().min(16).parse(env.STATS_KEY),
    platformUrl: platform.replace(/\/+$/, ""),
    eventIds: z.array(IdSchema).min(1).parse(JSON.parse(env.EVENT_IDS)),
    verifyKeys: parseVerifyKeys(env.PLAYBACK_VERIFY_KEYS),
    cacheBytes: z.coerce.number().int().min(16).max(64 * 1024).parse(env.NODE_CACHE_MB) * 1024 * 1024,
    peerIndex: z.coerce.number().int().min(0).parse(env.PEER_INDEX ?? "0"),
    peers: z.array(z.url({ protocol: /^http$/ })).parse(JSON.parse(env.PEER_URLS ?? "[]")),
  };
  if (cfg.peers.length > 0 && cfg.peerIndex >= cfg.peers.length) throw new Error("PEER_INDEX is not an index of PEER_URLS");
  if (cfg.verifyKeys.length === 0) throw new Error("PLAYBACK_VERIFY_KEYS is empty: register the node first (workers/stadium-node/service/main.ts does)");
  configs.set(env, cfg);
  return cfg;
}
