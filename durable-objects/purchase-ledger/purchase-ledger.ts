// Per-viewer purchase ledger: the source of truth for what one viewer bought and owns. Purchases of one
// viewer run through here one idempotency key at a time, so a retried or duplicated submission charges
// once, and the entitlement is committed to SQLite before the caller hears "completed".
import { DurableObject } from "cloudflare:workers";
import { accountKeys } from "../../workers/shared/accounts/records";
import { Coalescer } from "../../workers/shared/cache/coalescer";
import { randomId } from "../../workers/shared/ids";
import { putSale } from "../../workers/shared/accounts/sales-index";
import { paymentProvider, type Money } from "./payment-provider";
import { generateGoodsCode } from "../../workers/shared/goods-code";
import { goodsCode } from "../goods-code/client";

export interface PurchaseRecord {
  id: string;
  productId: string;
  status: "completed";
  price: Money;
  createdAt: string;
  /** Goods only: the redemption code a kiosk takes (workers/shared/goods-code.ts), and when it was redeemed. */
  code?: string;
  redeemedAt?: string;
}

export interface PurchaseRequest {
  idempotencyKey: string;
  /** Hash of what the request asks for; the same key with another fingerprint is a conflict. */
  fingerprint: string;
  product: { id: string; kind: "channel_pass" | "goods"; title: string; price: Money; eventId?: string };
  paymentMethod?: string;
  /** The buyer's login, which a kiosk checking a goods code shows. */
  buyerLogin?: string;
}

export type PurchaseOutcome =
  | { type: "created"; purchase: PurchaseRecord }
  | { type: "replayed"; purchase: PurchaseRecord }
  | { type: "conflict" }
  | { type: "declined"; reason: string }
  | { type: "already_owned"; purchaseId: string };

interface PurchaseRow extends Record<string, SqlStorageValue> {
  id: string;
  idempotency_key: string;
  fingerprint: string;
  product_id: string;
  amount: number;
  currency: string;
  payment_method: string | null;
  status: "pending" | "completed";
  created_at: string;
}

export class PurchaseLedger extends DurableObject<Env> {
  /** Charges running now, by idempotency key: a duplicate submission shares the running one. */
  private readonly charges = new Coalescer<PurchaseOutcome>();
  private mirrorChain: Promise<void> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS purchases (
        id TEXT PRIMARY KEY,
        idempotency_key TEXT NOT NULL UNIQUE,
        fingerprint TEXT NOT NULL,
        product_id TEXT NOT NULL,
        amount INTEGER NOT NULL,
        currency TEXT NOT NULL,
        payment_method TEXT,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS entitlements (
        product_id TEXT PRIMARY KEY,
        purchase_id TEXT NOT NULL,
        granted_at TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS goods_codes (
        purchase_id TEXT PRIMARY KEY,
        code TEXT NOT NULL,
        redeemed_at TEXT
      );`);
  }

  /** Buys a product once per idempotency key; `now` is the purchase time (ms). */
  async purchase(userId: string, req: PurchaseRequest, now: number): Promise<PurchaseOutcome> {
    const row = this.row(req.idempotencyKey);
    if (row) {
      if (row.fingerprint !== req.fingerprint) return { type: "conflict" };
      if (row.status === "completed") return { type: "replayed", purchase: this.completedRecord(row) };
      // Pending: a duplicate of a submission still being charged waits for it and shares its result.
      const running = this.charges.running(req.idempotencyKey);
      if (running) return replayOf(await running);
      // Pending with nothing running: the object restarted mid-charge. Finish it; the provider is idempotent.
      return this.run(userId, row, req);
    }
    if (req.product.kind === "channel_pass") {
      const owned = this.ctx.storage.sql
        .exec<{ purchase_id: string }>("SELECT purchase_id FROM entitlements WHERE product_id = ?", req.product.id)
        .toArray()[0];
      if (owned) return { type: "already_owned", purchaseId: owned.purchase_id };
    }
    const fresh: PurchaseRow = {
      id: randomId("pur"),
      idempotency_key: req.idempotencyKey,
      fingerprint: req.fingerprint,
      product_id: req.product.id,
      amount: req.product.price.amount,
      currency: req.product.price.currency,
      payment_method: req.paymentMethod ?? null,
      status: "pending",
      created_at: new Date(now).toISOString(),
    };
    // The pending row is written before the provider is asked, so a duplicate arriving meanwhile finds it.
    this.ctx.storage.sql.exec(
      "INSERT INTO purchases (id, idempotency_key, fingerprint, product_id, amount, currency, payment_method, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      fresh.id, fresh.idempotency_key, fresh.fingerprint, fresh.product_id, fresh.amount, fresh.currency, fresh.payment_method, fresh.status, fresh.created_at,
    );
    return this.run(userId, fresh, req);
  }

  /** Completed purchases, oldest first. */
  async list(): Promise<PurchaseRecord[]> {
    return this.ctx.storage.sql
      .exec<PurchaseRow & GoodsCodeColumns>(
        "SELECT p.*, g.code AS goods_code, g.redeemed_at AS goods_redeemed_at FROM purchases p LEFT JOIN goods_codes g ON g.purchase_id = p.id WHERE p.status = 'completed' ORDER BY p.created_at, p.rowid",
      )
      .toArray()
      .map((row) => toRecord(row, row));
  }

  /** Notes that a goods code of this viewer was redeemed (the code's own object decided it; this is the viewer's copy). */
  async noteRedeemed(purchaseId: string, redeemedAt: string): Promise<void> {
    this.ctx.storage.sql.exec("UPDATE goods_codes SET redeemed_at = ? WHERE purchase_id = ? AND redeemed_at IS NULL", redeemedAt, purchaseId);
  }

  /** Ids of the products this viewer owns. */
  async entitlements(): Promise<string[]> {
    return this.productIds();
  }

  private run(userId: string, row: PurchaseRow, req: PurchaseRequest): Promise<PurchaseOutcome> {
    return this.charges.run(req.idempotencyKey, () => this.charge(userId, row, req));
  }

  private async charge(userId: string, row: PurchaseRow, req: PurchaseRequest): Promise<PurchaseOutcome> {
    const result = await paymentProvider().charge({
      idempotencyKey: `${userId}:${row.idempotency_key}`,
      amount: { amount: row.amount, currency: row.currency },
      method: row.payment_method ?? undefined,
      description: req.product.title,
    });
    if (!result.ok) {
      // Nothing was bought: the key is released, and a retry asks the provider again.
      this.ctx.storage.sql.exec("DELETE FROM purchases WHERE id = ? AND status = 'pending'", row.id);
      return { type: "declined", reason: result.reason };
    }
    // Goods get their code before the purchase is completed, so no completed goods purchase is without one.
    const code = req.product.kind === "goods" ? await this.issueCode(userId, row, req) : undefined;
    this.ctx.storage.transactionSync(() => {
      this.ctx.storage.sql.exec("UPDATE purchases SET status = 'completed' WHERE id = ?", row.id);
      this.ctx.storage.sql.exec(
        "INSERT OR IGNORE INTO entitlements (product_id, purchase_id, granted_at) VALUES (?, ?, ?)",
        row.product_id, row.id, row.created_at,
      );
    });
    await this.mirror(userId);
    await this.indexSale(userId, row, req);
    return { type: "created", purchase: toRecord({ ...row, status: "completed" }, code !== undefined ? { goods_code: code, goods_redeemed_at: null } : undefined) };
  }

  /**
   * The purchase's redemption code, bound to it in the code's own object. The code is kept here before it is issued,
   * so a charge finished again after a restart issues the same code; a code another purchase already holds (about
   * one chance in 10^13 per code issued) is drawn again.
   */
  private async issueCode(userId: string, row: PurchaseRow, req: PurchaseRequest): Promise<string> {
    for (let tries = 0; ; tries++) {
      let code = this.ctx.storage.sql.exec<{ code: string }>("SELECT code FROM goods_codes WHERE purchase_id = ?", row.id).toArray()[0]?.code;
      if (code === undefined) {
        code = generateGoodsCode();
        this.ctx.storage.sql.exec("INSERT INTO goods_codes (purchase_id, code) VALUES (?, ?)", row.id, code);
      }
      const outcome = await goodsCode(this.env, code).issue({
        code,
        purchaseId: row.id,
        userId,
        buyerLogin: req.buyerLogin ?? userId,
        productId: row.product_id,
        productTitle: req.product.title,
        purchasedAt: row.created_at,
      });
      if (outcome.type === "issued") return code;
      if (tries >= 4) throw new Error("five codes in a row were taken: the code generator is broken");
      this.ctx.storage.sql.exec("DELETE FROM goods_codes WHERE purchase_id = ?", row.id);
    }
  }

  /** A completed purchase as the viewer sees it, with its goods code where it has one. */
  private completedRecord(row: PurchaseRow): PurchaseRecord {
    const goods = this.ctx.storage.sql
      .exec<GoodsCodeColumns>("SELECT code AS goods_code, redeemed_at AS goods_redeemed_at FROM goods_codes WHERE purchase_id = ?", row.id)
      .toArray()[0];
    return toRecord(row, goods);
  }

  private row(idempotencyKey: string): PurchaseRow | undefined {
    return this.ctx.storage.sql.exec<PurchaseRow>("SELECT * FROM purchases WHERE idempotency_key = ?", idempotencyKey).toArray()[0];
  }

  private productIds(): string[] {
    return this.ctx.storage.sql
      .exec<{ product_id: string }>("SELECT product_id FROM entitlements ORDER BY granted_at, product_id")
      .toArray()
      .map((r) => r.product_id);
  }

  // Adds the sale to the operator's sales index (workers/shared/accounts/sales-index.ts).
  private async indexSale(userId: string, row: PurchaseRow, req: PurchaseRequest): Promise<void> {
    try {
      await putSale(this.env.ACCOUNTS, {
        purchaseId: row.id,
        productId: row.product_id,
        ...(req.product.eventId !== undefined ? { eventId: req.product.eventId } : {}),
        userId,
        amount: row.amount,
        currency: row.currency,
        status: "completed",
        createdAt: row.created_at,
      });
    } catch (err) {
      // SQLite holds the purchase; the sales figures miss it until the index is rebuilt (docs/api.md, "Sales").
      console.error("could not write the sale to the sales index", err);
    }
  }

  // Writes the KV read copy. Chained so that copies land in order and the last one written is the newest list.
  private mirror(userId: string): Promise<void> {
    this.mirrorChain = this.mirrorChain.then(async () => {
      try {
        await this.env.ACCOUNTS.put(
          accountKeys.entitlements(userId),
          JSON.stringify({ productIds: this.productIds(), updatedAt: new Date().toISOString() }),
        );
      } catch (err) {
        // SQLite already holds the entitlement; readers that miss it in KV ask this object.
        console.error("could not write the entitlements' KV copy", err);
      }
    });
    return this.mirrorChain;
  }
}

interface GoodsCodeColumns extends Record<string, SqlStorageValue> {
  goods_code: string | null;
  goods_redeemed_at: string | null;
}

function toRecord(row: PurchaseRow, goods?: GoodsCodeColumns): PurchaseRecord {
  return {
    id: row.id,
    productId: row.product_id,
    status: "completed",
    price: { amount: row.amount, currency: row.currency },
    createdAt: row.created_at,
    ...(goods?.goods_code ? { code: goods.goods_code } : {}),
    ...(goods?.goods_redeemed_at ? { redeemedAt: goods.goods_redeemed_at } : {}),
  };
}

function replayOf(outcome: PurchaseOutcome): PurchaseOutcome {
  return outcome.type === "created" ? { type: "replayed", purchase: outcome.purchase } : outcome;
}
