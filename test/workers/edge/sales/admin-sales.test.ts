// Sales for the operator through the real routes: completed purchases counted per product and per event,
// revenue per currency (never summed across currencies), declined payments not counted, the CSV export,
// and purchases made before the sales index existed.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { saleKeys } from "../../../../workers/shared/accounts/sales-index";
import { adminPut, api, buy, register, seedCatalog, uniq, warmUp, type ApiError } from "../accounts/support";

beforeAll(async () => {
  await warmUp();
}, 60_000);

interface Line {
  sales: number;
  revenue: { currency: string; amount: number; sales: number }[];
}
interface Report {
  products: (Line & { productId: string; title: string; eventId: string | null })[];
  events: (Line & { eventId: string | null })[];
  total: Line;
  indexComplete: boolean;
}

const admin = (path: string, init: { method?: string } = {}) => api(`/admin${path}`, { ...init, bearer: env.ADMIN_TOKEN });

async function report(eventId: string): Promise<Report> {
  const res = await admin(`/sales?eventId=${eventId}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Report;
}

/** An event with a RUB pass and goods in RUB and in EUR. */
async function shop() {
  const t = await seedCatalog();
  const euroGoods = uniq("scarf");
  await adminPut(`/products/${euroGoods}`, { kind: "goods", title: 'Scarf, "home" colours', price: { amount: 1250, currency: "EUR" }, eventId: t.eventId });
  const rubGoods = uniq("food");
  await adminPut(`/products/${rubGoods}`, { kind: "goods", title: "Food voucher", price: { amount: 45000, currency: "RUB" }, eventId: t.eventId });
  return { ...t, euroGoods, rubGoods };
}

describe("sales figures", () => {
  it("counts completed purchases per product and per event, with one revenue sum per currency, and leaves declined payments out", async () => {
    const t = await shop();
    const a = await register(uniq("fan"));
    const b = await register(uniq("fan"));
    expect((await buy(a.token, t.pass, uniq("k"))).status).toBe(201);
    expect((await buy(b.token, t.pass, uniq("k"))).status).toBe(201);
    expect((await buy(a.token, t.rubGoods, uniq("k"))).status).toBe(201);
    expect((await buy(a.token, t.euroGoods, uniq("k"))).status).toBe(201);
    expect((await buy(b.token, t.euroGoods, uniq("k"))).status).toBe(201);
    expect((await buy(b.token, t.rubGoods, uniq("k"), { paymentMethod: "test_decline" })).status).toBe(402);

    const r = await report(t.eventId);
    const product = (id: string) => r.products.find((p) => p.productId === id)!;
    expect(product(t.pass)).toMatchObject({ sales: 2, revenue: [{ currency: "RUB", amount: 59800, sales: 2 }] });
    expect(product(t.rubGoods)).toMatchObject({ sales: 1, revenue: [{ currency: "RUB", amount: 45000, sales: 1 }] });
    expect(product(t.euroGoods)).toMatchObject({ sales: 2, revenue: [{ currency: "EUR", amount: 2500, sales: 2 }] });
    // A product nobody bought is listed with nothing sold.
    expect(product(t.otherPass)).toMatchObject({ sales: 0, revenue: [] });
    const event = r.events.find((e) => e.eventId === t.eventId)!;
    expect(event.sales).toBe(5);
    expect(event.revenue).toEqual([
      { currency: "EUR", amount: 2500, sales: 2 },
      { currency: "RUB", amount: 104800, sales: 3 },
    ]);
    expect(r.total.revenue).toEqual(event.revenue);
  });

  it("keeps an archived event's sales", async () => {
    const t = await shop();
    const a = await register(uniq("fan"));
    expect((await buy(a.token, t.pass, uniq("k"))).status).toBe(201);
    expect((await admin(`/events/${t.eventId}/archive`, { method: "POST" })).status).toBe(200);
    const r = await report(t.eventId);
    expect(r.events.find((e) => e.eventId === t.eventId)).toMatchObject({ sales: 1, revenue: [{ currency: "RUB", amount: 29900, sales: 1 }] });
  });

  it("includes purchases made before the sales index existed", async () => {
    const t = await shop();
    const a = await register(uniq("fan"));
    const bought = await buy(a.token, t.pass, uniq("k"));
    const { purchase } = (await bought.json()) as { purchase: { id: string } };
    // As if bought before the index: no index entry, and the backfill not yet run.
    await env.ACCOUNTS.delete(saleKeys.sale(t.pass, purchase.id));
    await env.ACCOUNTS.delete(saleKeys.backfill);
    let r = await report(t.eventId);
    for (let i = 0; i < 50 && !r.indexComplete; i++) r = await report(t.eventId);
    expect(r.indexComplete).toBe(true);
    expect(r.products.find((p) => p.productId === t.pass)).toMatchObject({ sales: 1, revenue: [{ currency: "RUB", amount: 29900, sales: 1 }] });
  });

  it("answers 401 without the operator token, 404 for an unknown event, 400 for a malformed one", async () => {
    for (const path of ["/admin/sales", "/admin/sales.csv"]) {
      const res = await api(path, { bearer: "wrong" });
      expect(res.status).toBe(401);
      expect(((await res.json()) as ApiError).error.code).toBe("unauthenticated");
    }
    expect((await admin(`/sales?eventId=${uniq("nope")}`)).status).toBe(404);
    expect((await admin(`/sales.csv?eventId=${uniq("nope")}`)).status).toBe(404);
    const bad = await admin("/sales.csv?eventId=Bad%20Id");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ApiError).error.code).toBe("invalid_request");
  });
});

describe("the CSV export", () => {
  it("answers text/csv with a header row and one row per product and currency, quoting titles with commas and quotes", async () => {
    const t = await shop();
    const a = await register(uniq("fan"));
    expect((await buy(a.token, t.euroGoods, uniq("k"))).status).toBe(201);
    expect((await buy(a.token, t.pass, uniq("k"))).status).toBe(201);

    const res = await admin(`/sales.csv?eventId=${t.eventId}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(res.headers.get("content-disposition")).toContain(".csv");
    const text = await res.text();
    const lines = text.split("\r\n");
    expect(lines[0]).toBe("event_id,event_title,product_id,product_title,kind,currency,sales,revenue,revenue_minor_units");
    expect(lines).toContain(`${t.eventId},Test match,${t.euroGoods},"Scarf, ""home"" colours",goods,EUR,1,12.50,1250`);
    expect(lines).toContain(`${t.eventId},Test match,${t.pass},Pass,channel_pass,RUB,1,299.00,29900`);
    expect(lines).toContain(`${t.eventId},Test match,${t.otherPass},Other pass,channel_pass,,0,,0`);
    expect(text.endsWith("\r\n")).toBe(true);
  });
});
