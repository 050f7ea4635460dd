// The kiosk: check a goods code (what it is for, whether it was redeemed) and redeem it once, with a kiosk token
// or the operator token. The code's own object decides a redemption, so two kiosks at once get one success.
import { createRoute, z } from "@hono/zod-openapi";
import { goodsCode, type GoodsCodeRecord } from "../../../durable-objects/goods-code/client";
import { purchaseLedger } from "../../../durable-objects/purchase-ledger/client";
import { DomainError } from "../../shared/errors";
import { parseGoodsCode } from "../../shared/goods-code";
import { clientAddressKey } from "../accounts/client-address";
import { beginCodeLookup } from "../kiosks/lookup-throttle";
import { kioskAuth } from "../middleware/kiosk-auth";
import { apiApp, errorResponses } from "../openapi";
import type { Context } from "hono";
import type { EdgeEnv } from "../types";

const security: { [scheme: string]: string[] }[] = [{ kioskToken: [] }, { operatorToken: [] }];
const json = <T>(schema: T) => ({ content: { "application/json": { schema } } });

const CodeParamsSchema = z.object({
  code: z
    .string()
    .max(32)
    .openapi({ param: { name: "code", in: "path" }, description: "The code as printed or scanned; case, spaces and hyphens do not matter", example: "7KQ2M-9XRTD" }),
});

const CodeStatusSchema = z
  .object({
    code: z.string().openapi({ description: "Normalised: 10 characters, no separators" }),
    purchaseId: z.string(),
    productId: z.string(),
    productTitle: z.string(),
    buyerLogin: z.string(),
    purchasedAt: z.string(),
    redeemed: z.boolean(),
    redeemedAt: z.string().optional(),
    kioskId: z.string().optional().openapi({ description: "Where it was redeemed: the kiosk's id, or `operator`" }),
    kioskName: z.string().optional(),
  })
  .openapi("GoodsCodeStatus");

const KioskSessionSchema = z.object({ kioskId: z.string(), kioskName: z.string() }).openapi("KioskSession");

function status(r: GoodsCodeRecord) {
  return {
    code: r.code,
    purchaseId: r.purchaseId,
    productId: r.productId,
    productTitle: r.productTitle,
    buyerLogin: r.buyerLogin,
    purchasedAt: r.purchasedAt,
    redeemed: r.redemption !== null,
    ...(r.redemption ? { redeemedAt: r.redemption.redeemedAt, kioskId: r.redemption.kioskId, kioskName: r.redemption.kioskName } : {}),
  };
}

/**
 * The code's object, after the checks every lookup passes: a code that cannot be one is 400 without any lookup; a
 * kiosk or address that missed too many codes lately is 429. The lookup counts until `found()` is called.
 */
async function lookup(c: Context<EdgeEnv>, raw: string) {
  const parsed = parseGoodsCode(raw);
  if (!parsed.ok) throw new DomainError({ code: "invalid_code" });
  const attempt = await beginCodeLookup(c.env, c.var.kiosk.id, clientAddressKey(c.req.header("cf-connecting-ip")), Date.now());
  if (!attempt.allowed) {
    throw new DomainError({
      code: "too_many_attempts",
      retryAfterSeconds: attempt.retryAfterSeconds,
      message: "Too many codes that do not exist were tried from this kiosk or address. Wait a few minutes.",
    });
  }
  return { stub: goodsCode(c.env, parsed.code), found: attempt.found };
}

const NOT_FOUND = { code: "not_found", message: "No purchase has this code." } as const;

export const kiosk = apiApp();
kiosk.use("/kiosk/*", kioskAuth());

kiosk.openapi(
  createRoute({
    method: "get",
    path: "/kiosk/session",
    summary: "Which kiosk this token belongs to (the operator token answers kiosk `operator`)",
    security,
    responses: { 200: { description: "The kiosk", ...json(KioskSessionSchema) }, ...errorResponses(401) },
  }),
  (c) => c.json({ kioskId: c.var.kiosk.id, kioskName: c.var.kiosk.name }, 200),
);

kiosk.openapi(
  createRoute({
    method: "get",
    path: "/kiosk/codes/{code}",
    summary: "Check a goods code: the product, the buyer's login, the purchase time, and whether, when and where it was redeemed",
    security,
    request: { params: CodeParamsSchema },
    responses: {
      200: { description: "The code and its state", ...json(CodeStatusSchema) },
      ...errorResponses(400, 401, 404, 429),
    },
  }),
  async (c) => {
    const { stub, found } = await lookup(c, c.req.valid("param").code);
    const record = await stub.check();
    if (!record) throw new DomainError(NOT_FOUND);
    await found();
    c.header("cache-control", "no-store");
    return c.json(status(record), 200);
  },
);

kiosk.openapi(
  createRoute({
    method: "post",
    path: "/kiosk/codes/{code}/redemption",
    summary: "Redeem a goods code once; a second redemption is 409 already_redeemed with when and at which kiosk",
    security,
    request: { params: CodeParamsSchema },
    responses: {
      200: { description: "Redeemed now, by this kiosk", ...json(CodeStatusSchema) },
      ...errorResponses(400, 401, 404, 409, 429),
    },
  }),
  async (c) => {
    const { stub, found } = await lookup(c, c.req.valid("param").code);
    const outcome = await stub.redeem({ kioskId: c.var.kiosk.id, kioskName: c.var.kiosk.name }, Date.now());
    if (outcome.type === "unknown") throw new DomainError(NOT_FOUND);
    await found();
    const r = outcome.record;
    if (outcome.type === "already_redeemed") {
      const { redeemedAt, kioskId, kioskName } = r.redemption!;
      throw new DomainError({ code: "already_redeemed", redeemedAt, kioskId, kioskName });
    }
    // The viewer's copy, for "Your purchases"; the code's object already holds the redemption, so a failure here loses nothing.
    try {
      await purchaseLedger(c.env, r.userId).noteRedeemed(r.purchaseId, r.redemption!.redeemedAt);
    } catch (err) {
      console.error("could not note the redemption in the buyer's ledger", err);
    }
    c.header("cache-control", "no-store");
    return c.json(status(r), 200);
  },
);
