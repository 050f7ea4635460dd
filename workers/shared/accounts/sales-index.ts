// The sales index in the ACCOUNTS KV namespace: one key per completed purchase, named by product, so the
// operator's sales figures list them without asking every viewer's PurchaseLedger. Written by the ledger with
// each purchase; purchases made before the index existed are added by the edge's backfill (workers/edge/sales/).
import { z } from "zod";

/** KV keys of the index: `sale:<productId>:<purchaseId>`, so a product's sales are one prefix. */
export const saleKeys = {
  sale: (productId: string, purchaseId: string) => `sale:${productId}:${purchaseId}`,
  prefix: "sale:",
  productPrefix: (productId: string) => `sale:${productId}:`,
  /** `{ cursor?, complete }`: how far the backfill of purchases made before the index has walked the accounts. */
  backfill: "sales-index:backfill",
};

/**
 * One sale as the index keeps it (value and KV metadata alike, so a listing needs no reads). `status` is
 * `completed` for a sale; a refunded one stays listed but is not counted. Declined payments never appear:
 * nothing was bought.
 */
export const SaleRecordSchema = z.object({
  purchaseId: z.string(),
  productId: z.string(),
  /** The product's event when it was bought (absent for goods sold without an event). */
  eventId: z.string().optional(),
  userId: z.string(),
  amount: z.number().int().min(0),
  currency: z.string(),
  status: z.enum(["completed", "refunded"]),
  createdAt: z.string(),
});
export type SaleRecord = z.infer<typeof SaleRecordSchema>;

/** Writes (or rewrites: the same purchase gives the same key) one sale's index entry. */
export async function putSale(kv: KVNamespace, sale: SaleRecord): Promise<void> {
  await kv.put(saleKeys.sale(sale.productId, sale.purchaseId), JSON.stringify(sale), { metadata: sale });
}

/** Every indexed sale under `prefix` (all, or one product's), read from the listing's metadata. */
export async function listSales(kv: KVNamespace, prefix: string = saleKeys.prefix): Promise<SaleRecord[]> {
  const out: SaleRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await kv.list({ prefix, ...(cursor ? { cursor } : {}) });
    for (const key of page.keys) {
      // A record that does not parse (an older or damaged entry) is read from its value, else skipped.
      let parsed = SaleRecordSchema.safeParse(key.metadata);
      if (!parsed.success) parsed = SaleRecordSchema.safeParse(await kv.get(key.name, "json"));
      if (parsed.success) out.push(parsed.data);
    }
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return out;
}
