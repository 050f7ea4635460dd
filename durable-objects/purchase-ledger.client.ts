// Caller-side helper for purchase ledgers: the only place that builds their ids and stubs.

/** The ledger of one viewer (one object per user id). */
export function purchaseLedger(env: Env, userId: string) {
  return env.PURCHASE_LEDGER.get(env.PURCHASE_LEDGER.idFromName(userId));
}
