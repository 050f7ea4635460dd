// Sales figures for the operator: the index backfilled from the viewers' ledgers, counts and revenue per product
// and per event (one sum per currency, never added across currencies), and the same as CSV.
import { z } from "zod";
import { purchaseLedger } from "../../../durable-objects/purchase-ledger/client";
import { accountKeys, AccountSchema } from "../../shared/accounts/records";
import { listSales, putSale, saleKeys, type SaleRecord } from "../../shared/accounts/sales-index";
import type { CatalogEvent, Product } from "../catalog/schemas";

/** Accounts whose ledgers one request reads while backfilling; the rest wait for the next request. */
const BACKFILL_ACCOUNTS_PER_CALL = 200;

const BackfillStateSchema = z.object({ cursor: z.string().optional(), complete: z.boolean() });

/**
 * Adds purchases made before the sales index existed: walks the accounts (`user:` keys) a page at a time and
 * indexes each ledger's completed purchases. Safe to run again (the same purchase writes the same key), and
 * `restart` walks from the first account (after an index write failed). Returns whether the walk is complete.
 */
export async function backfillSales(env: Env, products: readonly Product[], restart = false): Promise<boolean> {
  const kv = env.ACCOUNTS;
  const saved = BackfillStateSchema.safeParse(restart ? null : await kv.get(saleKeys.backfill, "json"));
  const state = saved.success ? saved.data : { complete: false };
  if (state.complete) return true;
  const eventOf = new Map(products.map((p) => [p.id, p.eventId]));
  const page = await kv.list({ prefix: accountKeys.user(""), limit: BACKFILL_ACCOUNTS_PER_CALL, ...(state.cursor ? { cursor: state.cursor } : {}) });
  await Promise.all(
    page.keys.map(async (key) => {
      const account = AccountSchema.safeParse(await kv.get(key.name, "json"));
      if (!account.success) return;
      const userId = account.data.id;
      for (const p of await purchaseLedger(env, userId).list()) {
        const eventId = eventOf.get(p.productId);
        await putSale(kv, {
          purchaseId: p.id,
          productId: p.productId,
          ...(eventId !== undefined ? { eventId } : {}),
          userId,
          amount: p.price.amount,
          currency: p.price.currency,
          status: "completed",
          createdAt: p.createdAt,
        });
      }
    }),
  );
  const next = page.list_complete ? { complete: true } : { cursor: page.cursor, complete: false };
  await kv.put(saleKeys.backfill, JSON.stringify(next));
  return next.complete;
}

export interface Revenue {
  currency: string;
  /** Minor units (kopecks, cents), as prices are. */
  amount: number;
  /** Sales in this currency. */
  sales: number;
}

export interface SalesLine {
  sales: number;
  /** One entry per currency, sorted by currency code. */
  revenue: Revenue[];
}

export interface ProductSales extends SalesLine {
  productId: string;
  title: string;
  kind: "channel_pass" | "goods" | null;
  eventId: string | null;
  archived: boolean;
}

export interface EventSales extends SalesLine {
  /** null: goods sold without an event. */
  eventId: string | null;
  title: string | null;
  archived: boolean;
}

export interface SalesReport {
  products: ProductSales[];
  events: EventSales[];
  total: SalesLine;
}

class Tally {
  sales = 0;
  private readonly byCurrency = new Map<string, { amount: number; sales: number }>();
  add(sale: SaleRecord): void {
    this.sales++;
    const r = this.byCurrency.get(sale.currency) ?? { amount: 0, sales: 0 };
    this.byCurrency.set(sale.currency, { amount: r.amount + sale.amount, sales: r.sales + 1 });
  }
  line(): SalesLine {
    return { sales: this.sales, revenue: [...this.byCurrency].sort(([a], [b]) => (a < b ? -1 : 1)).map(([currency, r]) => ({ currency, ...r })) };
  }
}

/**
 * Counts completed sales (refunded ones are not sales) per product and per event, with revenue per currency.
 * A sale's event is the one its product belonged to when bought; `eventId` narrows the report to one event.
 * Products of the catalog without sales are listed with zero, so the operator sees what did not sell.
 */
export function salesReport(sales: readonly SaleRecord[], products: readonly Product[], events: readonly CatalogEvent[], eventId?: string): SalesReport {
  const productById = new Map(products.map((p) => [p.id, p]));
  const eventById = new Map(events.map((e) => [e.id, e]));
  const byProduct = new Map<string, { tally: Tally; eventId: string | null }>();
  const byEvent = new Map<string | null, Tally>();
  const total = new Tally();
  const inScope = (ev: string | null) => eventId === undefined || ev === eventId;
  for (const p of products) {
    const ev = p.eventId ?? null;
    if (inScope(ev)) byProduct.set(p.id, { tally: new Tally(), eventId: ev });
  }
  for (const sale of sales) {
    if (sale.status !== "completed") continue;
    const ev = sale.eventId ?? productById.get(sale.productId)?.eventId ?? null;
    if (!inScope(ev)) continue;
    let entry = byProduct.get(sale.productId);
    if (!entry) byProduct.set(sale.productId, (entry = { tally: new Tally(), eventId: ev }));
    entry.tally.add(sale);
    let tally = byEvent.get(ev);
    if (!tally) byEvent.set(ev, (tally = new Tally()));
    tally.add(sale);
    total.add(sale);
  }
  if (eventId !== undefined && !byEvent.has(eventId)) byEvent.set(eventId, new Tally());
  const productLines = [...byProduct].map(([id, { tally, eventId: ev }]): ProductSales => {
    const p = productById.get(id);
    return { productId: id, title: p?.title ?? id, kind: p?.kind ?? null, eventId: ev, archived: p?.archivedAt !== undefined, ...tally.line() };
  });
  productLines.sort((a, b) => (a.eventId ?? "").localeCompare(b.eventId ?? "") || a.productId.localeCompare(b.productId));
  const eventLines = [...byEvent].map(([ev, tally]): EventSales => {
    const e = ev === null ? undefined : eventById.get(ev);
    return { eventId: ev, title: e?.title ?? null, archived: e?.archivedAt !== undefined, ...tally.line() };
  });
  eventLines.sort((a, b) => (a.eventId ?? "\uffff").localeCompare(b.eventId ?? "\uffff"));
  return { products: productLines, events: eventLines, total: total.line() };
}

/** Reads the index (after a step of backfill) and builds the report. */
export async function loadSales(env: Env, products: readonly Product[], events: readonly CatalogEvent[], eventId?: string) {
  const indexComplete = await backfillSales(env, products);
  return { ...salesReport(await listSales(env.ACCOUNTS), products, events, eventId), indexComplete };
}

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break, quotes doubled. A text that
 * a spreadsheet would run as a formula (starting with =, +, -, @, tab or CR) gets a leading apostrophe.
 */
export function csvField(value: string | number): string {
  let s = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Minor units as a decimal amount: 29900 → "299.00". */
function major(amount: number): string {
  return `${Math.floor(amount / 100)}.${String(amount % 100).padStart(2, "0")}`;
}

export const SALES_CSV_HEADER = ["event_id", "event_title", "product_id", "product_title", "kind", "currency", "sales", "revenue", "revenue_minor_units"];

/**
 * The report's products as CSV, one row per product and currency (a product sold in two currencies has two
 * rows; one without sales has one row with empty currency), CRLF line ends, a header row first.
 */
export function salesCsv(report: SalesReport, events: readonly CatalogEvent[]): string {
  const eventTitle = new Map(events.map((e) => [e.id, e.title]));
  const rows = [SALES_CSV_HEADER];
  for (const p of report.products) {
    const base = [p.eventId ?? "", p.eventId ? (eventTitle.get(p.eventId) ?? "") : "", p.productId, p.title, p.kind ?? ""];
    if (p.revenue.length === 0) rows.push([...base, "", "0", "", "0"]);
    for (const r of p.revenue) {
      rows.push([...base, r.currency, String(r.sales), major(r.amount), String(r.amount)]);
    }
  }
  return rows.map((row) => row.map(csvField).join(",")).join("\r\n") + "\r\n";
}
