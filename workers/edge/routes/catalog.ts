// Public catalog: events, an event's channels (with `locked` for the caller), products.
import { createRoute, z } from "@hono/zod-openapi";
import { unlockedForCaller } from "../accounts/paid-access";
import { EventParamsSchema, MoneySchema } from "../catalog/schemas";
import { catalogStore } from "../catalog/store";
import { apiApp, errorResponses } from "../openapi";
import { DomainError } from "../../shared/errors";

const PublicEventSchema = z.object({ id: z.string(), title: z.string(), startsAt: z.string().optional() }).openapi("PublicEvent");
const PublicChannelSchema = z
  .object({ id: z.string(), title: z.string(), paid: z.boolean(), productId: z.string().optional(), locked: z.boolean() })
  .openapi("PublicChannel");
const PublicProductSchema = z
  .object({
    id: z.string(),
    kind: z.enum(["channel_pass", "goods"]),
    title: z.string(),
    description: z.string(),
    price: MoneySchema,
    eventId: z.string().optional(),
    channelIds: z.array(z.string()).optional(),
    validFrom: z.string().optional(),
    validUntil: z.string().optional(),
  })
  .openapi("PublicProduct");

const json = <T>(schema: T) => ({ content: { "application/json": { schema } } });
// The viewer token is optional: anonymous callers see every paid channel locked.
const optionalViewerToken: Record<string, string[]>[] = [{ viewerToken: [] }, {}];

export const catalog = apiApp();

catalog.openapi(
  createRoute({
    method: "get",
    path: "/events",
    summary: "List events",
    responses: { 200: { description: "Events", ...json(z.array(PublicEventSchema)) } },
  }),
  async (c) => {
    // Archived events leave the viewer's list; the operator's list (GET /admin/events) keeps them.
    const events = (await catalogStore(c.env.CATALOG).listEvents()).filter((e) => !e.archivedAt);
    return c.json(
      events.map((e) => ({ id: e.id, title: e.title, ...(e.startsAt ? { startsAt: e.startsAt } : {}) })),
      200,
    );
  },
);

catalog.openapi(
  createRoute({
    method: "get",
    path: "/events/{eventId}/channels",
    summary: "List an event's channels; paid channels the caller is not entitled to are locked",
    security: optionalViewerToken,
    request: { params: EventParamsSchema },
    responses: { 200: { description: "Channels", ...json(z.array(PublicChannelSchema)) }, ...errorResponses(404) },
  }),
  async (c) => {
    const { eventId } = c.req.valid("param");
    const store = catalogStore(c.env.CATALOG);
    const event = await store.getEvent(eventId);
    if (!event || event.archivedAt) throw new DomainError({ code: "not_found", message: `There is no event '${eventId}'.` });
    const channels = (await store.listChannels(eventId)).filter((ch) => !ch.archivedAt);
    const unlocked = await unlockedForCaller(c, channels);
    return c.json(
      channels.map((ch) => ({
        id: ch.id,
        title: ch.title,
        paid: ch.paid,
        ...(ch.productId ? { productId: ch.productId } : {}),
        locked: ch.paid && !unlocked.has(ch.id),
      })),
      200,
    );
  },
);

catalog.openapi(
  createRoute({
    method: "get",
    path: "/products",
    summary: "List products: channel passes and goods",
    responses: { 200: { description: "Products", ...json(z.array(PublicProductSchema)) } },
  }),
  async (c) => {
    const store = catalogStore(c.env.CATALOG);
    const [products, events] = await Promise.all([store.listProducts(), store.listEvents()]);
    // An archived product, or one of an archived event, is no longer offered.
    const archivedEvents = new Set(events.filter((e) => e.archivedAt).map((e) => e.id));
    return c.json(
      products
        .filter((p) => !p.archivedAt && !(p.eventId !== undefined && archivedEvents.has(p.eventId)))
        .map(({ updatedAt: _updatedAt, archivedAt: _archivedAt, ...p }) => p),
      200,
    );
  },
);
