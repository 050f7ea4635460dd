// GoodsCode: one object per redemption code binds it to one purchase and lets it be redeemed once.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { goodsCode, type GoodsCodeIssue } from "../../../durable-objects/goods-code/client";
import { generateGoodsCode } from "../../../workers/shared/goods-code";

function issueOf(code: string, purchaseId = "pur_a"): GoodsCodeIssue {
  return { code, purchaseId, userId: "usr_a", buyerLogin: "fdpd6", productId: "food-voucher", productTitle: "Food voucher", purchasedAt: "2026-12-05T20:00:00.000Z" };
}

describe("GoodsCode", () => {
  it("binds a code to the first purchase that issues it: the same purchase again is issued, another is taken", async () => {
    const code = generateGoodsCode();
    const stub = goodsCode(env, code);
    expect(await stub.issue(issueOf(code))).toEqual({ type: "issued" });
    expect(await stub.issue(issueOf(code))).toEqual({ type: "issued" });
    expect(await stub.issue(issueOf(code, "pur_b"))).toEqual({ type: "taken" });
    expect(await stub.check()).toEqual({ ...issueOf(code), redemption: null });
  });

  it("knows nothing of a code no purchase issued, and redeems nothing there", async () => {
    const stub = goodsCode(env, generateGoodsCode());
    expect(await stub.check()).toBeNull();
    expect(await stub.redeem({ kioskId: "k", kioskName: "K" }, Date.now())).toEqual({ type: "unknown" });
    expect(await stub.check()).toBeNull();
  });

  it("redeems once; every later redemption names the first one's time and kiosk", async () => {
    const code = generateGoodsCode();
    const stub = goodsCode(env, code);
    await stub.issue(issueOf(code));
    const at = Date.parse("2026-12-05T21:14:00.000Z");
    const first = await stub.redeem({ kioskId: "food-court", kioskName: "Food court" }, at);
    const redemption = { redeemedAt: "2026-12-05T21:14:00.000Z", kioskId: "food-court", kioskName: "Food court" };
    expect(first).toEqual({ type: "redeemed", record: { ...issueOf(code), redemption } });
    const again = await stub.redeem({ kioskId: "gate-b", kioskName: "Gate B" }, at + 60_000);
    expect(again).toEqual({ type: "already_redeemed", record: { ...issueOf(code), redemption } });
  });

  it("gives exactly one of 20 simultaneous redemptions", async () => {
    const code = generateGoodsCode();
    const stub = goodsCode(env, code);
    await stub.issue(issueOf(code));
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => stub.redeem({ kioskId: `k${i}`, kioskName: `Kiosk ${i}` }, Date.now())));
    const won = outcomes.filter((o) => o.type === "redeemed");
    expect(won).toHaveLength(1);
    const winner = won[0]!.type === "redeemed" ? won[0]!.record.redemption : null;
    for (const o of outcomes.filter((o) => o.type === "already_redeemed")) expect(o.type === "already_redeemed" && o.record.redemption).toEqual(winner);
  });
});
