// Which paid channels a viewer may open: owning the channel's productId, or a channel pass listing the channel.
import { purchaseLedger } from "../../../durable-objects/purchase-ledger/client";
import type { Channel, Product } from "../catalog/schemas";
import { catalogStore } from "../catalog/store";
import { readEntitlementsMirror } from "./store";

/** Whether owning the products `owned` (looked up in `products`) unlocks `channel`. */
export function unlocks(channel: Pick<Channel, "id" | "productId">, owned: readonly string[], products: readonly (Product | null)[]): boolean {
  if (channel.productId !== undefined && owned.includes(channel.productId)) return true;
  return products.some((p) => p !== null && p.kind === "channel_pass" && (p.channelIds ?? []).includes(channel.id));
}

async function unlockedBy(env: Env, owned: readonly string[], paid: readonly Channel[]): Promise<Set<string>> {
  const store = catalogStore(env.CATALOG);
  const products = await Promise.all(owned.map((id) => store.getProduct(id)));
  return new Set(paid.filter((ch) => unlocks(ch, owned, products)).map((ch) => ch.id));
}

/**
 * The ids of the paid channels among `channels` that the viewer may open. Reads the KV copy of the
 * viewer's entitlements first; only when that leaves a channel locked does it ask the viewer's ledger,
 * the source of truth, so a pass bought a moment ago (and not yet visible in KV here) still unlocks.
 */
export async function unlockedChannels(env: Env, userId: string, channels: readonly Channel[]): Promise<Set<string>> {
  const paid = channels.filter((ch) => ch.paid);
  if (paid.length === 0) return new Set();
  const mirrored = (await readEntitlementsMirror(env.ACCOUNTS, userId)) ?? [];
  const fromMirror = await unlockedBy(env, mirrored, paid);
  if (fromMirror.size === paid.length) return fromMirror;
  const owned = await purchaseLedger(env, userId).entitlements();
  return unlockedBy(env, owned, paid);
}
