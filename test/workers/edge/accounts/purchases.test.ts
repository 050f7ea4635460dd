// Purchases: one purchase per Idempotency-Key, the entitlement stored before the 201, declines and conflicts change nothing.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { api, buy, register, seedCatalog, uniq, warmUp, type ApiError, type TestCatalog } from "./support";

interface PurchaseBody {
  purchase: { id: string; productId: string; status: string; price: { amount: number; currency: string }; createdAt: string };
}

let cat: TestCatalog;
beforeAll(async () => {
  await warmUp();
  cat = await seedCatalog();
}, 60_000);

async function expectError(res: Response, status: number, code: string): Promise<void> {
  expect(res.status).toBe(status);
  expect(((await res.json()) as ApiError).error.code).toBe(code);
}

async function purchasesOf(token: string): Promise<PurchaseBody["purchase"][]> {
  return (await (await api("/purchases", { bearer: token })).json()) as PurchaseBody["purchase"][];
}

async function entitlementsOf(token: string): Promise<string[]> {
  return ((await (await api("/auth/session", { bearer: token })).json()) as { entitlements: string[] }).entitlements;
}

describe("buying", () => {
  it("answers 201 with a completed purchase and stores the entitlement before answering", async () => {
    const { token } = await register(uniq("buyer"));
    const res = await buy(token, cat.pass, uniq("key"));
    expect(res.status).toBe(201);
    const { purchase } = (await res.json()) as PurchaseBody;
    expect(purchase).toEqual({
      id: expect.stringMatching(/^pur_[0-9a-f]{32}$/),
      productId: cat.pass,
      status: "completed",
      price: { amount: 29900, currency: "RUB" },
      createdAt: expect.any(String),
    });
    expect(await entitlementsOf(token)).toEqual([cat.pass]);
    expect(await purchasesOf(token)).toEqual([purchase]);
  });

  it("answers the same key and body again with 200 and the same purchase, charging once", async () => {
    const { token } = await register(uniq("retry"));
    const key = uniq("key");
    const first = (await (await buy(token, cat.goods, key)).json()) as PurchaseBody;
    const again = await buy(token, cat.goods, key);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(first);
    expect(await purchasesOf(token)).toHaveLength(1);
  });

  it("answers the same key with another body with 409 idempotency_conflict and buys nothing more", async () => {
    const { token } = await register(uniq("conflict"));
    const key = uniq("key");
    expect((await buy(token, cat.goods, key)).status).toBe(201);
    await expectError(await buy(token, cat.pass, key), 409, "idempotency_conflict");
    await expectError(await buy(token, cat.goods, key, { paymentMethod: "card" }), 409, "idempotency_conflict");
    expect(await entitlementsOf(token)).toEqual([cat.goods]);
  });

  it("makes one purchase out of 20 simultaneous submissions with one key", async () => {
    const { token } = await register(uniq("burst"));
    const key = uniq("key");
    const results = await Promise.all(Array.from({ length: 20 }, () => buy(token, cat.pass, key)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(19);
    const ids = new Set(await Promise.all(results.map(async (r) => ((await r.json()) as PurchaseBody).purchase.id)));
    expect(ids.size).toBe(1);
    expect(await purchasesOf(token)).toHaveLength(1);
  });

  it("keeps one viewer's key apart from another viewer's same key", async () => {
    const key = uniq("shared-key");
    const a = await register(uniq("alice"));
    const b = await register(uniq("bob"));
    expect((await buy(a.token, cat.goods, key)).status).toBe(201);
    expect((await buy(b.token, cat.pass, key)).status).toBe(201);
  });

  it("sells goods again under a new key but refuses a pass the viewer already owns, charging nothing", async () => {
    const { token } = await register(uniq("twice"));
    expect((await buy(token, cat.goods, uniq("key"))).status).toBe(201);
    expect((await buy(token, cat.goods, uniq("key"))).status).toBe(201);
    expect((await buy(token, cat.pass, uniq("key"))).status).toBe(201);
    await expectError(await buy(token, cat.pass, uniq("key")), 409, "already_owned");
    expect((await purchasesOf(token)).map((p) => p.productId)).toEqual([cat.goods, cat.goods, cat.pass]);
    expect((await entitlementsOf(token)).sort()).toEqual([cat.goods, cat.pass].sort());
  });
});

describe("refusals", () => {
  it("answers a declined payment with 402 payment_declined and stores nothing; the key stays usable", async () => {
    const { token } = await register(uniq("declined"));
    const key = uniq("key");
    await expectError(await buy(token, cat.pass, key, { paymentMethod: "test_decline" }), 402, "payment_declined");
    expect(await purchasesOf(token)).toEqual([]);
    expect(await entitlementsOf(token)).toEqual([]);
    expect((await buy(token, cat.pass, key, { paymentMethod: "test_decline" })).status).toBe(402);
    expect((await buy(token, cat.pass, uniq("key"), { paymentMethod: "card" })).status).toBe(201);
  });

  it("answers a missing Idempotency-Key with 400 invalid_request", async () => {
    const { token } = await register(uniq("nokey"));
    const res = await api("/purchases", { method: "POST", bearer: token, json: { productId: cat.pass } });
    await expectError(res, 400, "invalid_request");
    expect(await purchasesOf(token)).toEqual([]);
  });

  it("answers an unknown product with 404 not_found", async () => {
    const { token } = await register(uniq("unknown"));
    await expectError(await buy(token, "no-such-product", uniq("key")), 404, "not_found");
  });

  it("answers 401 unauthenticated without a viewer token, the operator token included", async () => {
    await expectError(await api("/purchases", { method: "POST", headers: { "idempotency-key": "k1" }, json: { productId: cat.pass } }), 401, "unauthenticated");
    await expectError(await api("/purchases", { bearer: env.ADMIN_TOKEN }), 401, "unauthenticated");
  });
});

describe("the KV read copy", () => {
  it("mirrors the entitlements to KV under entitlements:<userId>", async () => {
    const r = await register(uniq("mirror"));
    await buy(r.token, cat.pass, uniq("key"));
    expect(await env.ACCOUNTS.get(`entitlements:${r.user.id}`, "json")).toEqual({ productIds: [cat.pass], updatedAt: expect.any(String) });
  });
});
