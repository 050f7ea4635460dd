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
const TierCountsSchema = z
  .object({
    node: z.number().int().openapi({ description: "Answered by a stadium node from its own cache" }),
    memory: z.number().int().openapi({ description: "Answered by an edge isolate's memory (L0), requests joined to another's load included" }),
    cacheApi: z.number().int().openapi({ description: "Answered by the edge's Cache API (L1)" }),
    shield: z.number().int().openapi({ description: "Answered by the channel's origin shield from its memory (playlists: from its polled copy)" }),
    origin: z.number().int().openapi({ description: "The origin shield fetched the bytes from the origin for this request" }),
  })
  .openapi("RequestsByTier", { description: "Viewer playback requests answered, by the tier that answered them; a node's miss counts once, at the edge tier that answered the node" });
const StatsSchema = z
  .object({
    activeSessions: z.number().int(),
    queued: z.number().int(),
    egressBps: z.number().openapi({
      description:
        "Bits per second served to viewers by edges and stadium nodes: the sum of each reporter's bytes over its last report period (an edge isolate reports every lease period, at most 60 s, sooner while it starts; a node every heartbeat), while its next report is not overdue",
    }),
    egressBpsEdge: z.number().openapi({ description: "The part of egressBps the internet edge served (a node's misses included: the edge sent those bytes to the node)" }),
    egressBpsNodes: z.number().openapi({ description: "The part of egressBps stadium nodes served" }),
    egressBytesTotal: z.number().openapi({ description: "Bytes edges and nodes reported since the event's admission object started" }),
    admittedTotal: z.number().int(),
    overload: z.boolean(),
    originRequests: z.number().int(),
    cacheHitRatio: z.number().nullable().openapi({
      description:
        "All tiers: viewer playback requests answered without asking the origin ÷ all viewer playback requests answered, over each edge's and node's last report period (requestsByTier); null before any report",
    }),
    requestsByTier: TierCountsSchema.openapi({ description: "The requests cacheHitRatio is computed from: each edge's and node's last report period, summed" }),
    requestsByTierTotal: TierCountsSchema.openapi({ description: "Every request reported since the event's admission object started" }),
    shieldHitRatio: z.number().nullable().openapi({ description: "The origin shields' own figure: their segment reads served from their memory ÷ all their segment reads, since each shield started; null before any" }),
    channels: z.array(
      z.object({
        id: z.string(),
        originRequests: z.number().int(),
        segmentFetches: z.number().int(),
        playlistFetches: z.number().int(),
        cacheHitRatio: z.number().nullable().openapi({ description: "The channel's origin shield alone: its segment reads served from its memory ÷ all its segment reads" }),
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
        egressBytesTotal: gate.served.egressBytesTotal,
        admittedTotal: gate.admittedTotal,
        overload: gate.overload,
        originRequests: shields.reduce((n, s) => n + s.originRequests, 0),
        cacheHitRatio: gate.served.cacheHitRatio,
        requestsByTier: gate.served.requestsByTier,
        requestsByTierTotal: gate.served.requestsByTierTotal,
        shieldHitRatio: ratio(hits, misses),
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
