// Operator controls of a running event: the overload switch and live figures.
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { admissionSnapshot, getOverload, setOverload } from "../admission/event-admission";
import { originShield, type OriginsSnapshot } from "../../../durable-objects/origin-shield/client";
import { pullZoneDirectory } from "../../../durable-objects/pull-zone-directory/client";
import { DomainError } from "../../shared/errors";
import { EventParamsSchema, type CatalogEvent } from "../catalog/schemas";
import { catalogStore } from "../catalog/store";
import { operatorAuth } from "../middleware/operator-auth";
import { apiApp, errorResponses } from "../openapi";
import type { EdgeEnv } from "../types";

const security = [{ operatorToken: [] }];
const json = <T>(schema: T) => ({ content: { "application/json": { schema } } });

const OverloadSchema = z.object({ enabled: z.boolean() }).openapi("Overload");
const StatsSchema = z
  .object({
    activeSessions: z.number().int(),
    queued: z.number().int(),
    egressBps: z.number(),
    egressBpsEdge: z.number(),
    egressBpsNodes: z.number(),
    admittedTotal: z.number().int(),
    overload: z.boolean(),
    originRequests: z.number().int(),
    cacheHitRatio: z.number().nullable(),
    channels: z.array(
      z.object({
        id: z.string(),
        originRequests: z.number().int(),
        segmentFetches: z.number().int(),
        playlistFetches: z.number().int(),
        cacheHitRatio: z.number().nullable(),
        origin: z
          .object({
            serving: z.string().openapi({ description: "The origin URL serving the channel now: its originUrl or one of its backupOriginUrls" }),
            servingIndex: z.number().int().openapi({ description: "0 for originUrl, n for backupOriginUrls[n - 1]" }),
            switchedAt: z.string().nullable().openapi({ description: "When the channel last moved to another origin (ISO 8601), null if never" }),
            switches: z.array(z.object({ at: z.string(), from: z.string(), to: z.string(), reason: z.enum(["failed", "stale", "recovered"]) })).openapi({ description: "The last switches, oldest first" }),
            failing: z.array(z.string()).openapi({ description: "Origins whose last request failed or whose live playlist stopped advancing" }),
          })
          .openapi({ description: "Which of the channel's origins serves it, and its switches" }),
      }),
    ),
    pullZones: z.array(z.unknown()),
    limits: z.object({
      maxSessions: z.number().optional(),
      maxEgressMbps: z.number().optional(),
      leaseSeconds: z.number(),
      claimSeconds: z.number(),
      maxSessionsPerViewer: z.number(),
      maxSessionsPerAddress: z.number().optional(),
    }).openapi({ description: "The limits the event's admission runs with, defaults included" }),
    gateReportCalls: z
      .object({ edge: z.number().int(), node: z.number().int() })
      .openapi({ description: "Activity reports the event's admission object has received from edges and from stadium node heartbeats" }),
  })
  .openapi("EventStats");

/** The shield's origin state in URLs and dates, for the operator. */
function originFigures(urls: string[], o: OriginsSnapshot) {
  const url = (i: number) => urls[i] ?? urls[0]!;
  const last = o.switches.at(-1);
  return {
    serving: url(o.serving),
    servingIndex: o.serving < urls.length ? o.serving : 0,
    switchedAt: last ? new Date(last.at).toISOString() : null,
    switches: o.switches.map((s) => ({ at: new Date(s.at).toISOString(), from: url(s.from), to: url(s.to), reason: s.reason })),
    failing: o.status.filter((st) => (st.failing || st.stale) && st.index < urls.length).map((st) => url(st.index)),
  };
}

async function requireEvent(c: Context<EdgeEnv>, eventId: string): Promise<CatalogEvent> {
  const event = await catalogStore(c.env.CATALOG).getEvent(eventId);
  if (!event) throw new DomainError({ code: "not_found", message: `There is no event '${eventId}'.` });
  return event;
}

export const adminEvents = apiApp();
adminEvents.use("/admin/*", operatorAuth());

adminEvents.openapi(
  createRoute({
    method: "get",
    path: "/admin/events/{eventId}/overload",
    summary: "Whether the overload switch is on",
    security,
    request: { params: EventParamsSchema },
    responses: { 200: { description: "The switch", ...json(OverloadSchema) }, ...errorResponses(401, 404) },
  }),
  async (c) => {
    const { eventId } = c.req.valid("param");
    const event = await requireEvent(c, eventId);
    return c.json({ enabled: await getOverload(c.env, event) }, 200);
  },
);

adminEvents.openapi(
  createRoute({
    method: "put",
    path: "/admin/events/{eventId}/overload",
    summary: "Turn the overload switch on (every new viewer queues) or off (the queue drains in order)",
    security,
    request: { params: EventParamsSchema, body: { ...json(OverloadSchema), required: true } },
    responses: { 200: { description: "The switch", ...json(OverloadSchema) }, ...errorResponses(400, 401, 404) },
  }),
  async (c) => {
    const { eventId } = c.req.valid("param");
    const { enabled } = c.req.valid("json");
    const event = await requireEvent(c, eventId);
    // A sharded event's coordinator hands the switch to every shard before it answers.
    return c.json({ enabled: await setOverload(c.env, event, enabled) }, 200);
  },
);

adminEvents.openapi(
  createRoute({
    method: "get",
    path: "/admin/events/{eventId}/stats",
    summary: "Live figures of an event: sessions, queue, egress, origin load, cache hit ratio",
    security,
    request: { params: EventParamsSchema },
    responses: { 200: { description: "Figures", ...json(StatsSchema) }, ...errorResponses(401, 404) },
  }),
  async (c) => {
    const { eventId } = c.req.valid("param");
    const event = await requireEvent(c, eventId);
    const channels = await catalogStore(c.env.CATALOG).listChannels(eventId);
    const [gate, nodes, shields] = await Promise.all([
      // A sharded event: sessions, queue, egress and admissions are the coordinator's totals over its shards.
      admissionSnapshot(c.env, event),
      pullZoneDirectory(c.env, eventId).healthy(),
      Promise.all(channels.map(async (ch) => ({ id: ch.id, urls: [ch.originUrl, ...(ch.backupOriginUrls ?? [])], ...(await originShield(c.env, eventId, ch.id).snapshot()) }))),
    ]);
    const ratio = (hits: number, misses: number) => (hits + misses > 0 ? hits / (hits + misses) : null);
    const hits = shields.reduce((n, s) => n + s.hits, 0);
    const misses = shields.reduce((n, s) => n + s.misses, 0);
    return c.json(
      {
        activeSessions: gate.activeSessions,
        queued: gate.queued,
        egressBps: gate.egressBps,
        egressBpsEdge: gate.egressBpsEdge,
        egressBpsNodes: gate.egressBpsNodes,
        admittedTotal: gate.admittedTotal,
        overload: gate.overload,
        originRequests: shields.reduce((n, s) => n + s.originRequests, 0),
        cacheHitRatio: ratio(hits, misses),
        channels: shields.map((s) => ({
          id: s.id,
          originRequests: s.originRequests,
          segmentFetches: s.segmentFetches,
          playlistFetches: s.playlistFetches,
          cacheHitRatio: ratio(s.hits, s.misses),
          origin: originFigures(s.urls, s.origins),
        })),
        pullZones: nodes.map((n) => ({ ...n, healthy: true })),
        limits: gate.limits,
        gateReportCalls: gate.reportCalls,
      },
      200,
    );
  },
);
