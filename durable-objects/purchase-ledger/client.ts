// Caller-side helper for purchase ledgers: the only place that builds their ids and stubs.

/** The ledger of one viewer (one object per user id). */
export function purchaseLedger(env: Env, userId: string) {
  return env.PURCHASE_LEDGER.get(env.PURCHASE_LEDGER.idFromName(userId));
}

// The types callers name, so that no caller imports the object's own modules.
export type { PurchaseOutcome, PurchaseRecord, PurchaseRequest } from "./purchase-ledger";
export type { Money } from "./payment-provider";
