// PurchaseLedger: one purchase per idempotency key per viewer, entitlements in SQLite, the KV copy kept in step.
import { env } from "cloudflare:workers";
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { PurchaseRequest } from "../../../durable-objects/purchase-ledger/client";

const NOW = 1_800_000_000_000;
const pass = { id: "premium-pass", kind: "channel_pass" as const, title: "Premium pass", price: { amount: 29900, currency: "RUB" } };
const goods = { id: "food-voucher", kind: "goods" as const, title: "Food voucher", price: { amount: 45000, currency: "RUB" } };

function ledger() {
  const userId = `usr_${crypto.randomUUID().replace(/-/g, "")}`;
  return { userId, stub: env.PURCHASE_LEDGER.get(env.PURCHASE_LEDGER.idFromName(userId)) };
}

function request(key: string, product: PurchaseRequest["product"] = pass, extra: Partial<PurchaseRequest> = {}): PurchaseRequest {
  return { idempotencyKey: key, fingerprint: `fp-${product.id}-${extra.paymentMethod ?? ""}`, product, ...extra };
}

describe("PurchaseLedger", () => {
  it("creates a purchase and its entitlement, and replays it for the same key", async () => {
    const { userId, stub } = ledger();
    const first = await stub.purchase(userId, request("k1"), NOW);
    expect(first).toMatchObject({ type: "created", purchase: { productId: "premium-pass", status: "completed", createdAt: new Date(NOW).toISOString() } });
    const again = await stub.purchase(userId, request("k1"), NOW + 1000);
    expect(again).toEqual({ type: "replayed", purchase: first.type === "created" ? first.purchase : null });
    expect(await stub.entitlements()).toEqual(["premium-pass"]);
    expect(await stub.list()).toHaveLength(1);
  });

  it("answers the same key with another fingerprint as a conflict", async () => {
    const { userId, stub } = ledger();
    await stub.purchase(userId, request("k1"), NOW);
    expect(await stub.purchase(userId, request("k1", goods), NOW)).toEqual({ type: "conflict" });
  });

  it("charges once for 20 simultaneous calls with one key", async () => {
    const { userId, stub } = ledger();
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => stub.purchase(userId, request("burst"), NOW)));
    expect(outcomes.filter((o) => o.type === "created")).toHaveLength(1);
    expect(outcomes.filter((o) => o.type === "replayed")).toHaveLength(19);
    expect(await stub.list()).toHaveLength(1);
  });

  it("stores nothing for a declined payment", async () => {
    const { userId, stub } = ledger();
    expect(await stub.purchase(userId, request("k1", pass, { paymentMethod: "test_decline" }), NOW)).toMatchObject({ type: "declined" });
    expect(await stub.list()).toEqual([]);
    expect(await stub.entitlements()).toEqual([]);
    expect(await runInDurableObject(stub, (_, s) => s.storage.sql.exec("SELECT count(*) AS n FROM purchases").one().n)).toBe(0);
  });

  it("refuses a second pass under a new key but not a second goods purchase", async () => {
    const { userId, stub } = ledger();
    const first = await stub.purchase(userId, request("a"), NOW);
    expect(await stub.purchase(userId, request("b"), NOW)).toEqual({ type: "already_owned", purchaseId: first.type === "created" ? first.purchase.id : "" });
    expect(await stub.purchase(userId, request("c", goods), NOW)).toMatchObject({ type: "created" });
    expect(await stub.purchase(userId, request("d", goods), NOW)).toMatchObject({ type: "created" });
    expect((await stub.list()).map((p) => p.productId)).toEqual(["premium-pass", "food-voucher", "food-voucher"]);
  });

  it("finishes a purchase left pending by a restart when the same key comes again", async () => {
    const { userId, stub } = ledger();
    await runInDurableObject(stub, (_, s) => {
      s.storage.sql.exec(
        "INSERT INTO purchases (id, idempotency_key, fingerprint, product_id, amount, currency, payment_method, status, created_at) VALUES ('pur_left', 'k1', 'fp-premium-pass-', 'premium-pass', 29900, 'RUB', NULL, 'pending', ?)",
        new Date(NOW).toISOString(),
      );
    });
    await evictDurableObject(stub).catch(() => {});
    const outcome = await stub.purchase(userId, request("k1"), NOW + 60_000);
    expect(outcome).toMatchObject({ purchase: { id: "pur_left", createdAt: new Date(NOW).toISOString() } });
    expect(await stub.entitlements()).toEqual(["premium-pass"]);
  });

  it("writes the newest entitlement list to KV after concurrent purchases of different products", async () => {
    const { userId, stub } = ledger();
    await Promise.all([stub.purchase(userId, request("a"), NOW), stub.purchase(userId, request("b", goods), NOW)]);
    const copy = (await env.ACCOUNTS.get(`entitlements:${userId}`, "json")) as { productIds: string[] };
    expect(copy.productIds.sort()).toEqual(["food-voucher", "premium-pass"]);
  });
});
