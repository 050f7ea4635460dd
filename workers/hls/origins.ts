// A channel's origins: its own (the primary) and its backups, each with the key prefix its resources are
// served under. The primary's keys are unprefixed (unchanged for channels without backups); backup n's
// keys start with `_b<n>/`, a first segment no origin path can produce, so two encoders never share a key.
import { fromPlayKey, PlayKeyError, type ChannelOrigin } from "./paths";

/** At most this many backups per channel (prefixes `_b1/` … `_b4/`). */
export const MAX_BACKUP_ORIGINS = 4;

const PREFIXED = /^_b([1-9])\//;

/** The channel's origins, primary first: backup n fetches only from its own host and the channel's allowedHosts. */
export function channelOrigins(originUrl: string, allowedHosts: string[], backupOriginUrls: readonly string[] = []): ChannelOrigin[] {
  return [
    { originUrl, allowedHosts },
    ...backupOriginUrls.slice(0, MAX_BACKUP_ORIGINS).map((url, i) => ({ originUrl: url, allowedHosts, keyPrefix: `_b${i + 1}/` })),
  ];
}

/** Which of `origins` a play key belongs to (its index), or null for a backup prefix the channel does not have. */
export function originIndexOfKey(key: string, origins: readonly ChannelOrigin[]): number | null {
  const m = PREFIXED.exec(key);
  if (m === null) return 0;
  const i = Number(m[1]);
  return i < origins.length ? i : null;
}

/** The key without its origin prefix: the path both encoders share when their layouts match. */
export function unprefixedKey(key: string): string {
  const m = PREFIXED.exec(key);
  return m === null ? key : key.slice(m[0].length);
}

/**
 * The origin a play key belongs to (its index in `origins`) and the URL it names there. Throws PlayKeyError
 * for a key of a backup the channel does not have and for anything fromPlayKey refuses.
 */
export function resolvePlayKey(key: string, origins: readonly ChannelOrigin[]): { index: number; url: URL } {
  const index = originIndexOfKey(key, origins);
  if (index === null) throw new PlayKeyError("not a key of this channel's origins");
  return { index, url: fromPlayKey(key, origins[index]!) };
}
