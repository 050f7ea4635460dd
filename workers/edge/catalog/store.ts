// The catalog in KV: events, channels and products, with a short isolate-local read cache for the hot path.
import type { z } from "@hono/zod-openapi";
import { ChannelSchema, EventSchema, ProductSchema, type CatalogEvent, type Channel, type Product } from "./schemas";
import { unexpectedFailure } from "../../shared/errors";

/** KV key layout of the CATALOG namespace (documented in the README). */
export const catalogKeys = {
  event: (eventId: string) => `event:${eventId}`,
  eventPrefix: "event:",
  channel: (eventId: string, channelId: string) => `channel:${eventId}:${channelId}`,
  channelPrefix: (eventId: string) => `channel:${eventId}:`,
  product: (productId: string) => `product:${productId}`,
  productPrefix: "product:",
  pullZone: (nodeId: string) => `pull-zone:${nodeId}`,
  pullZonePrefix: "pull-zone:",
};

// How long an edge isolate trusts its copy of a catalog record. Operator changes reach viewers within this.
const LOCAL_TTL_MS = 5_000;
/** When KV fails for a passing reason, the isolate's last good copy serves, however old (a live event goes on). */
const STALE_MAX_ENTRIES = 10_000;

async function readJson<S extends z.ZodType>(kv: KVNamespace, key: string, schema: S): Promise<z.infer<S> | null> {
  const raw = await kv.get(key, "json");
  if (raw === null) return null;
  // Anything read back from KV is re-validated: a record written by an older version must not crash a request.
  const parsed = schema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

async function listJson<S extends z.ZodType>(kv: KVNamespace, prefix: string, schema: S): Promise<z.infer<S>[]> {
  const out: z.infer<S>[] = [];
  let cursor: string | undefined;
  do {
    const page = await kv.list({ prefix, cursor });
    const values = await Promise.all(page.keys.map((k) => readJson(kv, k.name, schema)));
    for (const v of values) if (v !== null) out.push(v);
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return out;
}

/** Reads and writes the catalog. */
export class CatalogStore {
  private readonly local = new Map<string, { value: unknown; at: number }>();

  constructor(private readonly kv: KVNamespace) {}

  /**
   * A record or list, fresh for LOCAL_TTL_MS; then read again. If that read fails for a passing reason (KV
   * briefly down), the last good copy serves and the failure is logged; with none, the failure goes on to
   * the error handler (503 with Retry-After).
   */
  private async cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.local.get(key);
    if (hit && now - hit.at < LOCAL_TTL_MS) return hit.value as T;
    let value: T;
    try {
      value = await load();
    } catch (err) {
      if (hit && unexpectedFailure(err).code === "unavailable") {
        console.warn(`catalog: KV unavailable, serving the copy of ${key} read ${Math.round((now - hit.at) / 1000)} s ago`, String(err));
        return hit.value as T;
      }
      throw err;
    }
    if (this.local.size >= STALE_MAX_ENTRIES) this.local.clear();
    this.local.set(key, { value, at: now });
    return value;
  }

  getEvent(eventId: string): Promise<CatalogEvent | null> {
    return this.cached(catalogKeys.event(eventId), () => readJson(this.kv, catalogKeys.event(eventId), EventSchema));
  }

  getChannel(eventId: string, channelId: string): Promise<Channel | null> {
    const key = catalogKeys.channel(eventId, channelId);
    return this.cached(key, () => readJson(this.kv, key, ChannelSchema));
  }

  getProduct(productId: string): Promise<Product | null> {
    const key = catalogKeys.product(productId);
    return this.cached(key, () => readJson(this.kv, key, ProductSchema));
  }

  listEvents(): Promise<CatalogEvent[]> {
    return this.cached(`list:${catalogKeys.eventPrefix}`, () => listJson(this.kv, catalogKeys.eventPrefix, EventSchema));
  }

  listChannels(eventId: string): Promise<Channel[]> {
    const prefix = catalogKeys.channelPrefix(eventId);
    return this.cached(`list:${prefix}`, () => listJson(this.kv, prefix, ChannelSchema));
  }

  listProducts(): Promise<Product[]> {
    return this.cached(`list:${catalogKeys.productPrefix}`, () => listJson(this.kv, catalogKeys.productPrefix, ProductSchema));
  }

  async putEvent(event: CatalogEvent): Promise<void> {
    await this.kv.put(catalogKeys.event(event.id), JSON.stringify(event));
    this.forget(catalogKeys.event(event.id), catalogKeys.eventPrefix);
  }

  async putChannel(channel: Channel): Promise<void> {
    const key = catalogKeys.channel(channel.eventId, channel.id);
    await this.kv.put(key, JSON.stringify(channel));
    this.forget(key, catalogKeys.channelPrefix(channel.eventId));
  }

  async putProduct(product: Product): Promise<void> {
    await this.kv.put(catalogKeys.product(product.id), JSON.stringify(product));
    this.forget(catalogKeys.product(product.id), catalogKeys.productPrefix);
  }

  /** This isolate's writer sees its own write at once: the record and its list are read again. */
  private forget(key: string, listPrefix: string): void {
    this.local.delete(key);
    this.local.delete(`list:${listPrefix}`);
  }
}

const stores = new WeakMap<KVNamespace, CatalogStore>();

/** The isolate's catalog store for a KV binding (one per binding, so its local cache is shared). */
export function catalogStore(kv: KVNamespace): CatalogStore {
  let s = stores.get(kv);
  if (!s) {
    s = new CatalogStore(kv);
    stores.set(kv, s);
  }
  return s;
}
