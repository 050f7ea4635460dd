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
  type Product,
} from "../catalog/schemas";
import { legacyPassEvents } from "../accounts/entitlements";
import { catalogStore } from "../catalog/store";
import { operatorAuth } from "../middleware/operator-auth";
import { apiApp, errorResponses } from "../openapi";
import { DomainError } from "../../shared/errors";
import { configureAdmission } from "../admission/event-admission";

const security = [{ operatorToken: [] }];
const json = <T>(schema: T) => ({ content: { "application/json": { schema } } });

export const adminCatalog = apiApp();
adminCatalog.use("/admin/*", operatorAuth());

adminCatalog.openapi(
  createRoute({
    method: "put",
    path: "/admin/events/{eventId}",
    summary: "Create or replace an event, its limits and its admission shards",
    description: "`shards` (1–64, default 1) changes only while the event has no sessions and no queued viewers: otherwise 409 event_busy, and nothing changes.",
    security,
    request: { params: EventParamsSchema, body: { ...json(EventInputSchema), required: true } },
    responses: { 200: { description: "The event", ...json(EventSchema) }, ...errorResponses(400, 401, 409) },
  }),
  async (c) => {
    const { eventId } = c.req.valid("param");
    const input = c.req.valid("json");
    const store = catalogStore(c.env.CATALOG);
    // Editing an archived event keeps it archived: only the restore route brings it back to viewers.
    const existing = await store.getEvent(eventId);
    const archivedAt = existing?.archivedAt;
    const event = { id: eventId, ...input, updatedAt: new Date().toISOString(), ...(archivedAt ? { archivedAt } : {}) };
    // The gate (or the shards' coordinator) enforces the limits; KV keeps them for the catalog. Admission
    // first, so a failure (a shard count change on a busy event: 409) changes neither view.
    await configureAdmission(c.env, eventId, existing?.shards ?? 1, input.shards ?? 1, input.limits);
    await store.putEvent(event);
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
    const archivedAt = (await store.getChannel(eventId, channelId))?.archivedAt;
    const channel = {
      id: channelId,
      eventId,
      title: input.title,
      originUrl: input.originUrl,
      paid: input.paid,
      ...(input.productId ? { productId: input.productId } : {}),
      allowedHosts: [...new Set(input.allowedHosts)],
      ...(input.backupOriginUrls.length > 0 ? { backupOriginUrls: input.backupOriginUrls } : {}),
      updatedAt: new Date().toISOString(),
      ...(archivedAt ? { archivedAt } : {}),
    };
    await store.putChannel(channel);
    return c.json(channel, 200);
  },
);

adminCatalog.openapi(
  createRoute({
    method: "put",
    path: "/admin/products/{productId}",
    summary: "Create or replace a product (channel pass or goods); a channel pass names its event and keeps it",
    security,
    request: { params: ProductParamsSchema, body: { ...json(ProductInputSchema), required: true } },
    responses: { 200: { description: "The product", ...json(ProductSchema) }, ...errorResponses(400, 401) },
  }),
  async (c) => {
    const { productId } = c.req.valid("param");
    const input = c.req.valid("json");
    const store = catalogStore(c.env.CATALOG);
    const existing = await store.getProduct(productId);
    if (existing?.kind === "channel_pass" && input.kind === "channel_pass") await keepsItsEvent(c.env.CATALOG, existing, input.eventId);
    const product = { id: productId, ...input, updatedAt: new Date().toISOString(), ...(existing?.archivedAt ? { archivedAt: existing.archivedAt } : {}) };
    await store.putProduct(product);
    return c.json(product, 200);
  },
);

/**
 * Refuses to move a channel pass to another event: its buyers keep what it unlocks for the event they
 * bought it for. A pass stored without an event may be given the one event the migration rule reads it
 * as belonging to (or any, when no channel sells it); a pass sold for several events cannot be narrowed.
 */
async function keepsItsEvent(kv: KVNamespace, existing: Product, eventId: string | undefined): Promise<void> {
  let soldFor: readonly string[] | "every";
  if (existing.eventId !== undefined) soldFor = [existing.eventId];
  else {
    const events = (await legacyPassEvents(kv, Date.now()))(existing.id);
    soldFor = events === "every" ? "every" : [...events].sort();
  }
  if (soldFor === "every" || (soldFor.length === 1 && soldFor[0] === eventId)) return;
  const message = `this pass was sold for ${soldFor.map((e) => `'${e}'`).join(", ")}, and its buyers keep it there; create another product for another event`;
  throw new DomainError({ code: "invalid_request", message: "A channel pass cannot move to another event.", issues: [{ path: "eventId", message }] });
}
