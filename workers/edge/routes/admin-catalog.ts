// Operator endpoints that write the catalog: events with their limits, channels (any HLS origin), products.
import { createRoute } from "@hono/zod-openapi";
import {
  ChannelInputSchema,
  ChannelParamsSchema,
  ChannelSchema,
  EventInputSchema,
  EventParamsSchema,
  EventSchema,
  ProductInputSchema,
  ProductParamsSchema,
  ProductSchema,
} from "../catalog/schemas";
import { catalogStore } from "../catalog/store";
import { operatorAuth } from "../middleware/operator-auth";
import { apiApp, errorResponses } from "../openapi";
import { DomainError } from "../../shared/errors";
import { eventGate } from "../../../durable-objects/event-gate/client";

const security = [{ operatorToken: [] }];
const json = <T>(schema: T) => ({ content: { "application/json": { schema } } });

export const adminCatalog = apiApp();
adminCatalog.use("/admin/*", operatorAuth());

adminCatalog.openapi(
  createRoute({
    method: "put",
    path: "/admin/events/{eventId}",
    summary: "Create or replace an event and its limits",
    security,
    request: { params: EventParamsSchema, body: { ...json(EventInputSchema), required: true } },
    responses: { 200: { description: "The event", ...json(EventSchema) }, ...errorResponses(400, 401) },
  }),
  async (c) => {
    const { eventId } = c.req.valid("param");
    const input = c.req.valid("json");
    const event = { id: eventId, ...input, updatedAt: new Date().toISOString() };
    // The gate enforces the limits; KV keeps them for the catalog. Gate first, so a failure changes neither view.
    await eventGate(c.env, eventId).configure(input.limits);
    await catalogStore(c.env.CATALOG).putEvent(event);
    return c.json(event, 200);
  },
);

adminCatalog.openapi(
  createRoute({
    method: "put",
    path: "/admin/events/{eventId}/channels/{channelId}",
    summary: "Create or replace a channel: any HLS origin plus the hosts it may link to",
    security,
    request: { params: ChannelParamsSchema, body: { ...json(ChannelInputSchema), required: true } },
    responses: { 200: { description: "The channel", ...json(ChannelSchema) }, ...errorResponses(400, 401, 404) },
  }),
  async (c) => {
    const { eventId, channelId } = c.req.valid("param");
    const input = c.req.valid("json");
    const store = catalogStore(c.env.CATALOG);
    if (!(await store.getEvent(eventId))) {
      throw new DomainError({ code: "not_found", message: `There is no event '${eventId}'. Create it first.` });
    }
    const channel = {
      id: channelId,
      eventId,
      title: input.title,
      originUrl: input.originUrl,
      paid: input.paid,
      ...(input.productId ? { productId: input.productId } : {}),
      allowedHosts: [...new Set(input.allowedHosts)],
      updatedAt: new Date().toISOString(),
    };
    await store.putChannel(channel);
    return c.json(channel, 200);
  },
);

adminCatalog.openapi(
  createRoute({
    method: "put",
    path: "/admin/products/{productId}",
    summary: "Create or replace a product (channel pass or goods)",
    security,
    request: { params: ProductParamsSchema, body: { ...json(ProductInputSchema), required: true } },
    responses: { 200: { description: "The product", ...json(ProductSchema) }, ...errorResponses(400, 401) },
  }),
  async (c) => {
    const { productId } = c.req.valid("param");
    const input = c.req.valid("json");
    const product = { id: productId, ...input, updatedAt: new Date().toISOString() };
    await catalogStore(c.env.CATALOG).putProduct(product);
    return c.json(product, 200);
  },
);
