// Purchases: buy a product once per Idempotency-Key through the viewer's ledger; list what was bought.
import { createRoute, z } from "@hono/zod-openapi";
import { purchaseLedger } from "../../../durable-objects/purchase-ledger/client";
import { IdempotencyHeaderSchema, PurchaseInputSchema, PurchaseResultSchema, PurchaseSchema } from "../accounts/schemas";
import { catalogStore } from "../catalog/store";
import { viewerAuth } from "../middleware/viewer-auth";
import { apiApp, errorResponses } from "../openapi";
import { encodeBase64Url } from "../../shared/base64url";
import { DomainError } from "../../shared/errors";

const json = <T>(schema: T) => ({ content: { "application/json": { schema } } });
const security = [{ viewerToken: [] }];

/** What a purchase request asks for, as a hash: the same key must come with the same fingerprint. */
async function fingerprint(productId: string, paymentMethod: string | undefined): Promise<string> {
  const canonical = JSON.stringify([productId, paymentMethod ?? null]);
  return encodeBase64Url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical))));
}

export const purchases = apiApp();

purchases.openapi(
  createRoute({
    method: "post",
    path: "/purchases",
    summary: "Buy a product; the same Idempotency-Key and body again returns the same purchase",
    security,
    middleware: [viewerAuth()] as const,
    request: { headers: IdempotencyHeaderSchema, body: { ...json(PurchaseInputSchema), required: true } },
    responses: {
      201: { description: "Bought; the entitlement is stored", ...json(PurchaseResultSchema) },
      200: { description: "The purchase this Idempotency-Key already made", ...json(PurchaseResultSchema) },
      ...errorResponses(400, 401, 402, 403, 404, 409),
    },
  }),
  async (c) => {
    const viewer = c.var.viewer!;
    const { productId, paymentMethod } = c.req.valid("json");
    const idempotencyKey = c.req.valid("header")["idempotency-key"];
    const store = catalogStore(c.env.CATALOG);
    const product = await store.getProduct(productId);
    // An archived product, or one of an archived event, is no longer sold (what was bought stays owned).
    const withdrawn = product && (product.archivedAt !== undefined || (product.eventId !== undefined && (await store.getEvent(product.eventId))?.archivedAt !== undefined));
    if (!product || withdrawn) throw new DomainError({ code: "not_found", message: `There is no product '${productId}'.` });
    const outcome = await purchaseLedger(c.env, viewer.userId).purchase(
      viewer.userId,
      {
        idempotencyKey,
        fingerprint: await fingerprint(productId, paymentMethod),
        product: { id: product.id, kind: product.kind, title: product.title, price: product.price, ...(product.eventId !== undefined ? { eventId: product.eventId } : {}) },
        ...(paymentMethod !== undefined ? { paymentMethod } : {}),
        buyerLogin: viewer.login,
      },
      Date.now(),
    );
    switch (outcome.type) {
      case "created":
        return c.json({ purchase: outcome.purchase }, 201);
      case "replayed":
        return c.json({ purchase: outcome.purchase }, 200);
      case "conflict":
        throw new DomainError({ code: "idempotency_conflict" });
      case "declined":
        throw new DomainError({ code: "payment_declined", message: `The payment was declined: ${outcome.reason}` });
      case "already_owned":
        // Nothing is charged for a pass the viewer already has.
        throw new DomainError({ code: "already_owned", productId });
    }
  },
);

purchases.openapi(
  createRoute({
    method: "get",
    path: "/purchases",
    summary: "The viewer's completed purchases, oldest first",
    security,
    middleware: [viewerAuth()] as const,
    responses: { 200: { description: "Purchases", ...json(z.array(PurchaseSchema)) }, ...errorResponses(401) },
  }),
  async (c) => c.json(await purchaseLedger(c.env, c.var.viewer!.userId).list(), 200),
);
