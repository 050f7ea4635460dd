// One goods redemption code (one object per code): what it was issued for and whether, when and where it was
// redeemed. Every check and redemption of a code runs through its object one call at a time, so two kiosks
// redeeming the same code at once get exactly one success.
import { DurableObject } from "cloudflare:workers";

/** What a code stands for, written once by the buyer's purchase ledger. */
export interface GoodsCodeIssue {
  code: string;
  purchaseId: string;
  userId: string;
  buyerLogin: string;
  productId: string;
  productTitle: string;
  purchasedAt: string;
}

/** The kiosk (or the operator) that redeemed a code. */
export interface Redeemer {
  kioskId: string;
  kioskName: string;
}

export interface GoodsCodeRecord extends GoodsCodeIssue {
  redemption: (Redeemer & { redeemedAt: string }) | null;
}

export type IssueOutcome = { type: "issued" } | { type: "taken" };
export type RedeemOutcome = { type: "redeemed"; record: GoodsCodeRecord } | { type: "already_redeemed"; record: GoodsCodeRecord } | { type: "unknown" };

interface CodeRow extends Record<string, SqlStorageValue> {
  code: string;
  purchase_id: string;
  user_id: string;
  buyer_login: string;
  product_id: string;
  product_title: string;
  purchased_at: string;
  redeemed_at: string | null;
  kiosk_id: string | null;
  kiosk_name: string | null;
}

export class GoodsCode extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS code (
        code TEXT PRIMARY KEY,
        purchase_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        buyer_login TEXT NOT NULL,
        product_id TEXT NOT NULL,
        product_title TEXT NOT NULL,
        purchased_at TEXT NOT NULL,
        redeemed_at TEXT,
        kiosk_id TEXT,
        kiosk_name TEXT
      )`);
  }

  /** Binds this code to a purchase; again for the same purchase is a no-op, for another purchase `taken`. */
  async issue(issue: GoodsCodeIssue): Promise<IssueOutcome> {
    const row = this.row();
    if (row) return row.purchase_id === issue.purchaseId ? { type: "issued" } : { type: "taken" };
    this.ctx.storage.sql.exec(
      "INSERT INTO code (code, purchase_id, user_id, buyer_login, product_id, product_title, purchased_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      issue.code, issue.purchaseId, issue.userId, issue.buyerLogin, issue.productId, issue.productTitle, issue.purchasedAt,
    );
    return { type: "issued" };
  }

  /** What the code is for and whether it was redeemed; null when no purchase holds it. */
  async check(): Promise<GoodsCodeRecord | null> {
    const row = this.row();
    return row ? toRecord(row) : null;
  }

  /** Redeems the code once, at `now` (ms); later calls answer `already_redeemed` with the first redemption. */
  async redeem(by: Redeemer, now: number): Promise<RedeemOutcome> {
    const row = this.row();
    if (!row) return { type: "unknown" };
    if (row.redeemed_at !== null) return { type: "already_redeemed", record: toRecord(row) };
    const redeemedAt = new Date(now).toISOString();
    // No await between the read above and this write: the object's calls cannot interleave here.
    this.ctx.storage.sql.exec("UPDATE code SET redeemed_at = ?, kiosk_id = ?, kiosk_name = ?", redeemedAt, by.kioskId, by.kioskName);
    return { type: "redeemed", record: toRecord({ ...row, redeemed_at: redeemedAt, kiosk_id: by.kioskId, kiosk_name: by.kioskName }) };
  }

  private row(): CodeRow | undefined {
    return this.ctx.storage.sql.exec<CodeRow>("SELECT * FROM code").toArray()[0];
  }
}

function toRecord(row: CodeRow): GoodsCodeRecord {
  return {
    code: row.code,
    purchaseId: row.purchase_id,
    userId: row.user_id,
    buyerLogin: row.buyer_login,
    productId: row.product_id,
    productTitle: row.product_title,
    purchasedAt: row.purchased_at,
    redemption:
      row.redeemed_at !== null
        ? { redeemedAt: row.redeemed_at, kioskId: row.kiosk_id ?? "", kioskName: row.kiosk_name ?? "" }
        : null,
  };
}
