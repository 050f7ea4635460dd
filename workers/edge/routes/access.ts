// Access to a stream: the one place where entitlement, admission and the playback token come together.
import { createRoute, z } from "@hono/zod-openapi";
import { requireEntitlement } from "../accounts/paid-access";
import { ChannelParamsSchema } from "../catalog/schemas";
import { catalogStore } from "../catalog/store";
import { apiApp, errorResponses } from "../openapi";
import { DomainError } from "../../shared/errors";
import { randomId } from "../../shared/ids";
import { signPlaybackToken } from "../../shared/playback-token";

const AccessRequestSchema = z
  .object({
    ticket: z.string().max(200).optional().openapi({ description: "The queue ticket from an earlier 202" }),
    cacheId: z.string().max(64).optional().openapi({ description: "Id of a stadium cache node the viewer reached" }),
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

const DEFAULT_LEASE_SECONDS = 60;

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
    if (!event || !channel) {
      throw new DomainError({ code: "not_found", message: `There is no channel '${channelId}' in event '${eventId}'.` });
    }
    // Paid channels: entitlement check plugs in here (viewer accounts issue).
    if (channel.paid) await requireEntitlement(c, channel);

    // Admission (leases, queue, egress budget) plugs in here; until then every request is granted.
    const sessionId = randomId("ses");
    const leaseSeconds = event.limits.leaseSeconds ?? DEFAULT_LEASE_SECONDS;

    const cfg = c.var.config;
    const expiresAtSeconds = Math.floor(Date.now() / 1000) + cfg.tokenTtlSeconds;
    const token = await signPlaybackToken({ s: sessionId, e: eventId, c: channelId, x: expiresAtSeconds }, cfg.signingKey);
    return c.json(
      {
        status: "granted" as const,
        sessionId,
        playbackUrl: `/play/${token}/index.m3u8`,
        expiresAt: new Date(expiresAtSeconds * 1000).toISOString(),
        leaseSeconds,
      },
      200,
    );
  },
);
