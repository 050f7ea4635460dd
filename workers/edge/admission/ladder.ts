// A channel's quality ladder (variant bandwidths), for the egress budget; cached per isolate for a short while.
import { originShield } from "../../../durable-objects/origin-shield/client";
import type { Channel } from "../catalog/schemas";

const TTL_MS = 30_000;
const cache = new Map<string, { ladder: number[] | undefined; at: number }>();

/** The channel's variant bandwidths in bits/s (lowest first); undefined when unknown (origin down, single rendition). */
export async function channelLadder(env: Env, channel: Channel, now: number): Promise<number[] | undefined> {
  const key = `${channel.eventId}/${channel.id}/${channel.updatedAt}`;
  const hit = cache.get(key);
  if (hit && now - hit.at < TTL_MS) return hit.ladder;
  let ladder: number[] | undefined;
  try {
    const found = await originShield(env, channel.eventId, channel.id).ladder({
      origin: { originUrl: channel.originUrl, allowedHosts: channel.allowedHosts },
      backupOriginUrls: channel.backupOriginUrls ?? [],
      originVersion: `${channel.originUrl} ${channel.updatedAt}`,
    });
    ladder = found && found.length > 0 ? found : undefined;
  } catch {
    ladder = undefined; // admission falls back to the measured average cost per session
  }
  if (cache.size > 1000) cache.clear();
  cache.set(key, { ladder, at: now });
  return ladder;
}
