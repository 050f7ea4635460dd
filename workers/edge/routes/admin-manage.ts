// Operator catalog management beside the PUT routes: the full lists (archived records included), archiving and
// restoring events, channels and products, and an event's live sessions with ending one of them.
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { eventGate } from "../../../durable-objects/event-gate/client";
import { DomainError } from "../../shared/errors";
import { releaseSession } from "../admission/event-admission";
import { sessionOwner } from "../admission/session-owner";
import { sessionWatch } from "../admission/session-watch";
import { ChannelParamsSchema, ChannelSchema, EventParamsSchema, EventSchema, ProductParamsSchema, ProductSchema } from "../catalog/schemas";
import { catalogStore } from "../catalog/store";
import { operatorAuth } from "../middleware/operator-auth";
import { apiApp, errorResponses } from "../openapi";
import type { EdgeEnv } from "../types";
import { IdSchema } from "../../shared/ids";

const security = [{ operatorToken: [] }];
const json = <T>(schema: T) => ({ content: { "application/json": { schema } } });

const SessionIdParamsSchema = EventParamsSchema.extend({
  sessionId: z
    .string()
    .regex(/^ses_[0-9a-f]{32}(\.\d{1,2})?$/, "a session id from the list of sessions")
    .openapi({ param: { name: "sessionId", in: "path" } }),
});

const SessionsQuerySchema = z.object({
  channelId: IdSchema.optional().openapi({ param: { name: "channelId", in: "query" }, description: "Only this channel's sessions" }),
  limit: z.coerce.number().int().min(1).max(1000).default(200).openapi({ param: { name: "limit", in: "query" }, description: "At most this many sessions, oldest first (1–1000, default 200); `total` counts them all" }),
});

const OperatorSessionSchema = z
  .object({
    id: z.string(),
    channelId: z.string(),
    viewer: z
      .object({ userId: z.string(), login: z.string().nullable().openapi({ description: "null when the session's owner record has expired" }) })
      .nullable()
      .openapi({ description: "The signed-in viewer holding it; null for an anonymous viewer" }),
    startedAt: z.string().openapi({ description: "When it was granted (ISO 8601)" }),
    lastSeenAt: z.string().openapi({ description: "Its latest reported activity (ISO 8601)" }),
    claimed: z.boolean().openapi({ description: "Reported playing at least once; an unclaimed grant ends after claimSeconds" }),
    playsOn: z.enum(["edge", "node"]).nullable().openapi({ description: "Where its latest activity came from: the internet edge or a stadium node; null when not known yet" }),
  })
  .openapi("OperatorSession");

const SessionListSchema = z
  .object({ total: z.number().int().openapi({ description: "Active sessions matching the filter, listed or not" }), sessions: z.array(OperatorSessionSchema) })
  .openapi("OperatorSessionList");

async function requireEvent(c: Context<EdgeEnv>, eventId: string) {
  const event = await catalogStore(c.env.CATALOG).getEvent(eventId);
  if (!event) throw new DomainError({ code: "not_found", message: `There is no event '${eventId}'.` });
  return event;
}

/** `record` archived (keeping an earlier archive time) or restored: the one place the archive flag is set or cleared. */
function withArchive<T extends { archivedAt?: string }>(record: T, archive: boolean): T {
  const { archivedAt, ...rest } = record;
  return (archive ? { ...rest, archivedAt: archivedAt ?? new Date().toISOString() } : rest) as T;
}

export const adminManage = apiApp();
adminManage.use("/admin/*", operatorAuth());

adminManage.openapi(
  createRoute({
    method: "get",
    path: "/admin/events",
    summary: "Every event with its limits, archived ones included (archivedAt set)",
    security,
    responses: { 200: { description: "Events", ...json(z.array(EventSchema)) }, ...errorResponses(401) },
  }),
  async (c) => {
    const events = await catalogStore(c.env.CATALOG).listEvents();
    return c.json(events, 200);
  },
);

adminManage.openapi(
  createRoute({
    method: "get",
    path: "/admin/events/{eventId}/channels",
    summary: "Every channel of an event with its origins, archived ones included",
    security,
    request: { params: EventParamsSchema },
    responses: { 200: { description: "Channels", ...json(z.array(ChannelSchema)) }, ...errorResponses(400, 401, 404) },
  }),
  async (c) => {
    const { eventId } = c.req.valid("param");
    await requireEvent(c, eventId);
    return c.json(await catalogStore(c.env.CATALOG).listChannels(eventId), 200);
  },
);

adminManage.openapi(
  createRoute({
    method: "get",
    path: "/admin/products",
    summary: "Every product, archived ones included",
    security,
    responses: { 200: { description: "Products", ...json(z.array(ProductSchema)) }, ...errorResponses(401) },
  }),
  async (c) => c.json(await catalogStore(c.env.CATALOG).listProducts(), 200),
);

for (const action of ["archive", "restore"] as const) {
  const archive = action === "archive";
  const what = archive
    ? "leaves the viewers' lists and is no longer sold or granted; its data, purchases and entitlements are kept"
    : "is back in the viewers' lists as it was";

  adminManage.openapi(
    createRoute({
      method: "post",
      path: `/admin/events/{eventId}/${action}`,
      summary: `${archive ? "Archive" : "Restore"} an event: it, its channels and its products ${what}`,
      security,
      request: { params: EventParamsSchema },
      responses: { 200: { description: "The event", ...json(EventSchema) }, ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const { eventId } = c.req.valid("param");
      const store = catalogStore(c.env.CATALOG);
      const next = withArchive(await requireEvent(c, eventId), archive);
      await store.putEvent(next);
      return c.json(next, 200);
    },
  );

  adminManage.openapi(
    createRoute({
      method: "post",
      path: `/admin/events/{eventId}/channels/{channelId}/${action}`,
      summary: `${archive ? "Archive" : "Restore"} a channel: it ${what}`,
      security,
      request: { params: ChannelParamsSchema },
      responses: { 200: { description: "The channel", ...json(ChannelSchema) }, ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const { eventId, channelId } = c.req.valid("param");
      const store = catalogStore(c.env.CATALOG);
      const channel = await store.getChannel(eventId, channelId);
      if (!channel) throw new DomainError({ code: "not_found", message: `There is no channel '${channelId}' in event '${eventId}'.` });
      const next = withArchive(channel, archive);
      await store.putChannel(next);
      return c.json(next, 200);
    },
  );

  adminManage.openapi(
    createRoute({
      method: "post",
      path: `/admin/products/{productId}/${action}`,
      summary: `${archive ? "Archive" : "Restore"} a product: it ${what}`,
      security,
      request: { params: ProductParamsSchema },
      responses: { 200: { description: "The product", ...json(ProductSchema) }, ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const { productId } = c.req.valid("param");
      const store = catalogStore(c.env.CATALOG);
      const product = await store.getProduct(productId);
      if (!product) throw new DomainError({ code: "not_found", message: `There is no product '${productId}'.` });
      const next = withArchive(product, archive);
      await store.putProduct(next);
      return c.json(next, 200);
    },
  );
}

adminManage.openapi(
  createRoute({
    method: "get",
    path: "/admin/events/{eventId}/sessions",
    summary: "An event's active sessions, oldest first: channel, viewer (or anonymous), start, edge or stadium node",
    security,
    request: { params: EventParamsSchema, query: SessionsQuerySchema },
    responses: { 200: { description: "Sessions", ...json(SessionListSchema) }, ...errorResponses(400, 401, 404) },
  }),
  async (c) => {
    const { eventId } = c.req.valid("param");
    const { channelId, limit } = c.req.valid("query");
    await requireEvent(c, eventId);
    const all = (await eventGate(c.env, eventId).sessions()).filter((s) => channelId === undefined || s.channelId === channelId);
    const listed = all.slice(0, limit);
    const sessions = await Promise.all(
      listed.map(async (s) => {
        const userId = s.holder?.startsWith("viewer:") ? s.holder.slice("viewer:".length) : null;
        const owner = userId ? await sessionOwner(c.env, s.id) : null;
        return {
          id: s.id,
          channelId: s.channelId,
          viewer: userId ? { userId, login: owner?.userId === userId ? (owner.login ?? null) : null } : null,
          startedAt: new Date(s.grantedAt).toISOString(),
          lastSeenAt: new Date(s.lastSeen).toISOString(),
          claimed: s.claimed,
          playsOn: s.playsOn,
        };
      }),
    );
    return c.json({ total: all.length, sessions }, 200);
  },
);

adminManage.openapi(
  createRoute({
    method: "delete",
    path: "/admin/events/{eventId}/sessions/{sessionId}",
    summary: "End a viewer's session now, as DELETE /sessions/{id} does: the slot is free at once and its playback is refused (410)",
    security,
    request: { params: SessionIdParamsSchema },
    responses: { 204: { description: "Ended" }, ...errorResponses(400, 401, 404) },
  }),
  async (c) => {
    const { eventId, sessionId } = c.req.valid("param");
    await requireEvent(c, eventId);
    // At the gate that granted it: a sharded event's session id names its shard.
    const result = await releaseSession(c.env, eventId, sessionId);
    if (result === "unknown") throw new DomainError({ code: "not_found", message: `There is no session '${sessionId}' in event '${eventId}'.` });
    sessionWatch.markEnded(sessionId, Date.now());
    return c.body(null, 204);
  },
);
