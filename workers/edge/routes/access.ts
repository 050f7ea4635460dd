// Access to a stream: the one place where entitlement, admission and the playback token come together.
import { createRoute, z } from "@hono/zod-openapi";
import { clientAddressKey } from "../accounts/client-address";
import { requireEntitlement } from "../accounts/paid-access";
import { lookupViewer, requireViewer } from "../middleware/viewer-auth";
import { ChannelParamsSchema } from "../catalog/schemas";
import { catalogStore } from "../catalog/store";
import { apiApp, errorResponses } from "../openapi";
import { DomainError } from "../../shared/errors";
import { admitViewer } from "../admission/event-admission";
import { channelLadder } from "../admission/ladder";
import { rememberSessionOwner } from "../admission/session-owner";
import { rememberCacheChoice } from "./pull-zones";
import { signPlaybackToken } from "../../shared/playback/token";

const AccessRequestSchema = z
  .object({
    ticket: z.string().max(200).optional().openapi({ description: "The queue ticket from an earlier 202" }),
    cacheId: z.string().max(64).optional().openapi({ description: "Id of a stadium node the viewer reached" }),
  })
  .openapi("AccessRequest");

const GrantedSchema = z
  .object({
    status: z.literal("granted"),
    sessionId: z.string(),
    playbackUrl: z.string().openapi({ example: "/play/<token>/index.m3u8" }),
    expiresAt: z.string(),
    leaseSeconds: z.number().int(),
  })
  .openapi("AccessGranted");

const QueuedSchema = z
  .object({
    status: z.literal("queued"),
    ticket: z.string(),
    position: z.number().int(),
    estimatedWaitSeconds: z.number(),
    retryAfterSeconds: z.number().int(),
  })
  .openapi("AccessQueued");

export const access = apiApp();

access.openapi(
  createRoute({
    method: "post",
    path: "/events/{eventId}/channels/{channelId}/access",
    summary: "Ask for access to a channel: granted with a playback URL, or queued with a ticket",
    request: {
      params: ChannelParamsSchema,
      body: { content: { "application/json": { schema: AccessRequestSchema } }, required: false },
    },
    responses: {
      200: { description: "Granted", content: { "application/json": { schema: GrantedSchema } } },
      202: { description: "Queued: ask again with the ticket after retryAfterSeconds", content: { "application/json": { schema: QueuedSchema } } },
      ...errorResponses(400, 401, 403, 404),
    },
  }),
  async (c) => {
    const { eventId, channelId } = c.req.valid("param");
    const store = catalogStore(c.env.CATALOG);
    const [event, channel] = await Promise.all([store.getEvent(eventId), store.getChannel(eventId, channelId)]);
    // An archived event or channel is gone for viewers: nothing new is granted on it.
    if (!event || !channel || event.archivedAt || channel.archivedAt) {
      throw new DomainError({ code: "not_found", message: `There is no channel '${channelId}' in event '${eventId}'.` });
    }
    // Paid channels need a signed-in viewer who owns them; free ones a signed-in viewer when the event
    // requires login, and otherwise take an optional viewer token (a bad one counts as none).
    const viewer = channel.paid
      ? await requireEntitlement(c, channel)
      : event.requireLogin
        ? await requireViewer(c)
        : await lookupViewer(c).then((found) => (found.status === "ok" ? found.viewer : null));
    const body = c.req.valid("json") ?? {};

    // Admission: the event's gate grants a lease, or queues the viewer in FIFO order.
    const now = Date.now();
    const renditionsBps = event.limits.maxEgressMbps !== undefined ? await channelLadder(c.env, channel, now) : undefined;
    // An unknown, dropped-out or other-channel ticket: the viewer joins at the back as a new arrival.
    // A signed-in viewer counts against its own session limit, an anonymous one against its address's.
    // A sharded event: the viewer's shard decides (the ticket's, or a hash of who asks).
    const decision = await admitViewer(c.env, event, {
      userAgent: c.req.header("user-agent"),
      channelId,
      rejoinIfInvalid: true,
      ...(viewer ? { viewerId: viewer.userId } : { address: clientAddressKey(c.req.header("cf-connecting-ip")) }),
      ...(body.ticket ? { ticket: body.ticket } : {}),
      ...(renditionsBps ? { renditionsBps } : {}),
    });
    if (decision.status === "address_limit") throw new DomainError({ code: "address_limit", limit: decision.limit });
    if (decision.status === "queued") {
      c.header("retry-after", String(decision.retryAfterSeconds));
      c.header("cache-control", "no-store");
      return c.json(
        {
          status: "queued" as const,
          ticket: decision.ticket,
          position: decision.position,
          estimatedWaitSeconds: decision.estimatedWaitSeconds,
          retryAfterSeconds: decision.retryAfterSeconds,
        },
        202,
      );
    }
    if (decision.status !== "granted") throw new Error("admission answered invalid_ticket although asked to rejoin");

    const cfg = c.var.config;
    const expiresAtSeconds = Math.floor(now / 1000) + cfg.tokenTtlSeconds;
    const token = await signPlaybackToken(
      {
        s: decision.sessionId,
        e: eventId,
        c: channelId,
        x: expiresAtSeconds,
        ...(decision.maxBandwidth !== undefined ? { b: decision.maxBandwidth } : {}),
      },
      cfg.signingKey,
    );
    if (viewer) await rememberSessionOwner(c.env, decision.sessionId, { eventId, userId: viewer.userId, login: viewer.login }, cfg.tokenTtlSeconds);
    // The stadium node the viewer reached: steering and legacy playlists send it there while the node is healthy.
    if (body.cacheId) await rememberCacheChoice(c.env, eventId, decision.sessionId, body.cacheId);
    c.header("cache-control", "no-store");
    return c.json(
      {
        status: "granted" as const,
        sessionId: decision.sessionId,
        playbackUrl: `/play/${token}/index.m3u8`,
        expiresAt: new Date(expiresAtSeconds * 1000).toISOString(),
        leaseSeconds: decision.leaseSeconds,
      },
      200,
    );
  },
);
