// Which paid channels a viewer may open: owning the channel's productId, or a channel pass of the channel's event
// that lists it, within the pass's validity period.
import { purchaseLedger } from "../../../durable-objects/purchase-ledger/client";
import type { Channel, Product } from "../catalog/schemas";
import { catalogStore, type CatalogStore } from "../catalog/store";
import { readEntitlementsMirror } from "./store";

/**
 * The events a channel pass stored without `eventId` (written before passes named their event) belongs
 * to: every event with a channel whose `productId` is the pass, the channel it was sold for. `"every"`
 * when no channel of any event names it: nothing records which event it was bought for, so it keeps
 * unlocking its `channelIds` wherever they are, as it did when it was bought.
 */
export type LegacyPassEvents = (productId: string) => ReadonlySet<string> | "every";

/** Whether the pass `p` belongs to `eventId` and is valid at `now` (ms). */
export function passCovers(p: Product, eventId: string, now: number, legacyEvents: LegacyPassEvents): boolean {
  if (p.validFrom !== undefined && now < Date.parse(p.validFrom)) return false;
  if (p.validUntil !== undefined && now >= Date.parse(p.validUntil)) return false;
  if (p.eventId !== undefined) return p.eventId === eventId;
  const events = legacyEvents(p.id);
  return events === "every" || events.has(eventId);
}

/**
 * Whether owning the product `productId` (its catalog record `product`, null when the catalog no longer
 * has it) unlocks `channel` at `now`. A channel pass unlocks the channels of its own event that it lists
 * or that name it, while it is valid; any other product unlocks the channel that names it.
 */
export function unlocks(
  channel: Pick<Channel, "id" | "eventId" | "productId">,
  productId: string,
  product: Product | null,
  now: number,
  legacyEvents: LegacyPassEvents,
): boolean {
  // A product that left the catalog still opens the channel that names it: what was bought is never lost.
  if (product === null || product.kind !== "channel_pass") return productId === channel.productId;
  if (!passCovers(product, channel.eventId, now, legacyEvents)) return false;
  return productId === channel.productId || (product.channelIds ?? []).includes(channel.id);
}

// How long an isolate trusts its index of legacy passes' events: as long as its copy of catalog records.
const LEGACY_INDEX_TTL_MS = 5_000;
const legacyIndexes = new WeakMap<KVNamespace, { at: number; byProduct: Promise<Map<string, Set<string>>> }>();

/** Every product a channel names, with the events of those channels. Read only when a legacy pass is involved. */
function productEvents(kv: KVNamespace, store: CatalogStore, now: number): Promise<Map<string, Set<string>>> {
  const hit = legacyIndexes.get(kv);
  if (hit && now - hit.at < LEGACY_INDEX_TTL_MS) return hit.byProduct;
  const byProduct = (async () => {
    const index = new Map<string, Set<string>>();
    for (const event of await store.listEvents()) {
      for (const ch of await store.listChannels(event.id)) {
        if (ch.productId === undefined) continue;
        let events = index.get(ch.productId);
        if (!events) index.set(ch.productId, (events = new Set()));
        events.add(event.id);
      }
    }
    return index;
  })();
  legacyIndexes.set(kv, { at: now, byProduct });
  // A failed read is not remembered: the next check reads again.
  byProduct.catch(() => {
    if (legacyIndexes.get(kv)?.byProduct === byProduct) legacyIndexes.delete(kv);
  });
  return byProduct;
}

/** The migration rule for passes without `eventId` over the catalog in `kv` (see LegacyPassEvents). */
export async function legacyPassEvents(kv: KVNamespace, now: number): Promise<LegacyPassEvents> {
  const index = await productEvents(kv, catalogStore(kv), now);
  return (productId) => index.get(productId) ?? "every";
}

async function unlockedBy(env: Env, owned: readonly string[], paid: readonly Channel[], now: number): Promise<Set<string>> {
  const store = catalogStore(env.CATALOG);
  const products = await Promise.all(owned.map((id) => store.getProduct(id)));
  const hasLegacyPass = products.some((p) => p !== null && p.kind === "channel_pass" && p.eventId === undefined);
  const legacyEvents: LegacyPassEvents = hasLegacyPass ? await legacyPassEvents(env.CATALOG, now) : () => "every";
  return new Set(paid.filter((ch) => owned.some((id, i) => unlocks(ch, id, products[i] ?? null, now, legacyEvents))).map((ch) => ch.id));
}

/**
 * The ids of the paid channels among `channels` that the viewer may open at `now` (ms). Reads the KV copy
 * of the viewer's entitlements first; only when that leaves a channel locked does it ask the viewer's
 * ledger, the source of truth, so a pass bought a moment ago (and not yet visible in KV here) still unlocks.
 */
export async function unlockedChannels(env: Env, userId: string, channels: readonly Channel[], now = Date.now()): Promise<Set<string>> {
  const paid = channels.filter((ch) => ch.paid);
  if (paid.length === 0) return new Set();
  const mirrored = (await readEntitlementsMirror(env.ACCOUNTS, userId)) ?? [];
  const fromMirror = await unlockedBy(env, mirrored, paid, now);
  if (fromMirror.size === paid.length) return fromMirror;
  const owned = await purchaseLedger(env, userId).entitlements();
  return unlockedBy(env, owned, paid, now);
}
