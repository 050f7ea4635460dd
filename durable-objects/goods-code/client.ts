// Caller-side helper for goods codes: the only place that builds their ids and stubs.

/** The object of one redemption code (already parsed and normalised, see workers/shared/goods-code.ts). */
export function goodsCode(env: Env, code: string) {
  return env.GOODS_CODE.get(env.GOODS_CODE.idFromName(code));
}

// The types callers name, so that no caller imports the object's own modules.
export type { GoodsCodeIssue, GoodsCodeRecord, Redeemer, RedeemOutcome } from "./goods-code";
