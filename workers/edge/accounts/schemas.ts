// zod schemas of the viewer account and purchase API: what clients send and what they get back.
import { z } from "@hono/zod-openapi";
import { MoneySchema } from "../catalog/schemas";
import { IdSchema } from "../../shared/ids";

export const UserSchema = z.object({ id: z.string(), login: z.string() }).openapi("User");

export const AuthResultSchema = z
  .object({
    token: z.string().openapi({ description: "Viewer token: send it as `Authorization: Bearer <token>`" }),
    user: UserSchema,
    expiresAt: z.string().openapi({ description: "When the token stops working (ISO 8601)" }),
  })
  .openapi("AuthResult");

export const SessionSchema = z
  .object({
    user: UserSchema,
    expiresAt: z.string(),
    entitlements: z.array(z.string()).openapi({ description: "Ids of the products the viewer owns" }),
  })
  .openapi("Session");

export const PurchaseInputSchema = z
  .object({
    productId: IdSchema,
    paymentMethod: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .openapi({ description: "Passed to the payment provider; the demo provider declines `test_decline`", example: "card" }),
  })
  .openapi("PurchaseInput");

export const PurchaseSchema = z
  .object({
    id: z.string(),
    productId: z.string(),
    status: z.literal("completed"),
    price: MoneySchema,
    createdAt: z.string(),
    code: z.string().optional().openapi({ description: "Goods only: the redemption code a kiosk takes (10 characters, shown as two groups of five)", example: "7KQ2M9XRTD" }),
    redeemedAt: z.string().optional().openapi({ description: "Goods only: when a kiosk redeemed the code" }),
  })
  .openapi("Purchase");

export const PurchaseResultSchema = z.object({ purchase: PurchaseSchema }).openapi("PurchaseResult");

// Printable ASCII without spaces at the ends; long enough for a UUID or a client's own scheme.
export const IdempotencyHeaderSchema = z.object({
  "idempotency-key": z
    .string({ error: "the Idempotency-Key header is required" })
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/, "printable ASCII")
    // Named in lower case because Hono hands headers over lower-cased; header names are case-insensitive anyway.
    .openapi({ description: "Idempotency-Key: chosen by the client; the same key and body again returns the same purchase", example: "0c1f3a9e-5d0b-4b8e-9a57-2a1c6c7d8e90" }),
});
