// Stadium nodes ("pull zones"): register, heartbeat, deregister, the healthy nodes of an event,
// and a viewer's report of the node it reached (PUT /sessions/{sessionId}).
import { createRoute, z } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { EventParamsSchema } from "../catalog/schemas";
import { catalogStore } from "../catalog/store";
import { apiApp, errorResponses } from "../openapi";
import { DomainError } from "../../shared/errors";
import { IdSchema } from "../../shared/ids";
import { timingSafeEqualText } from "../../shared/timing-safe";
import { VerifiedTokenCache } from "../../shared/playback/token";
import { pullZone } from "../../../durable-objects/pull-zone/client";
import { pullZoneDirectory } from "../../../durable-objects/pull-zone-directory/client";
import { reportActivity } from "../../../durable-objects/event-gate/client";

/** A heartbeat names every session that played from the node: a stadium's crowd, 100,000 at most. */
export const MAX_HEARTBEAT_SESSIONS = 100_000;
/** Its body limit, in place of the API's 64 KiB: 100,000 ids of 36 characters are about 4 MB of JSON. */
export const HEARTBEAT_BODY_BYTES = 8 * 1024 * 1024;
/** The heartbeat path, which the API-wide body limit leaves to the route's own. */
export const HEARTBEAT_PATH = /^\/api\/v1\/pull-zones\/[^/]+\/heartbeat$/;

const json = <T>(schema: T) => ({ content: { "application/json": { schema } } });
const tokens = new VerifiedTokenCache(5_000);

/** A node's address: an http(s) origin (scheme, host, port), nothing else. */
const BaseUrlSchema = z
  .string()
  .max(200)
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === "http:" || u.protocol === "https:") && u.username === "" && u.password === "" && (u.pathname === "/" || u.pathname === "") && u.search === "" && u.hash === "";
    } catch {
      return false;
    }
  }, "an http(s) origin such as https://cache1.stadium.example:8443, without a path")
  .transform((s) => new URL(s).origin);

const RegisterSchema = z
  .object({
    id: IdSchema,
    baseUrl: BaseUrlSchema,
    capacityMbps: z.number().positive().max(1_000_000).optional().openapi({ description: "The node's own figure; the operator's provisioned capacity bounds it" }),
  })
  .openapi("PullZoneRegistration", { description: "The node's name and events come from the operator's provisioning (PUT /admin/pull-zones/{id}); v1's name and eventIds are ignored." });

const RegisteredSchema = z
  .object({
    id: z.string(),
    name: z.string().openapi({ description: "From the operator's provisioning" }),
    eventIds: z.array(z.string()).openapi({ description: "The events the node serves, from the operator's provisioning" }),
    nodeKey: z.string().openapi({ description: "Bearer for heartbeats and deregistration; shown once" }),
    heartbeatIntervalSeconds: z.number().int(),
    verifyKeys: z.array(z.object({ kid: z.string(), x: z.string() })).openapi({ description: "Public Ed25519 keys that verify playback tokens" }),
    incarnation: z.string().openapi({ description: "Changes at every registration" }),
  })
  .openapi("PullZoneRegistered");

const HeartbeatSchema = z
  .object({
    activeViewers: z.number().int().min(0).max(10_000_000),
    egressBytes: z.number().int().min(0).max(1e15).openapi({ description: "Bytes served since the previous heartbeat" }),
    cacheHitRatio: z.number().min(0).max(1).optional(),
    requests: z.number().int().min(0).max(1e12).optional().openapi({ description: "Viewer requests the node answered since the previous heartbeat (playlists and segments)" }),
    upstreamRequests: z
      .number()
      .int()
      .min(0)
      .max(1e12)
      .optional()
      .openapi({ description: "Requests the node sent the platform since the previous heartbeat (its misses); requests minus these were answered from the node's own cache" }),
    egressBytesByEvent: z.record(IdSchema, z.number().int().min(0).max(1e15)).optional().openapi({ description: "The same bytes split by event, when the node serves several" }),
    activeSessionsByEvent: z
      .record(IdSchema, z.array(z.string().min(1).max(64)).max(MAX_HEARTBEAT_SESSIONS))
      .optional()
      .openapi({ description: "Sessions that played from the node since its previous heartbeat, by event: their leases are renewed (a viewer on a node sends the platform nothing itself)" }),
  })
  .refine((h) => Object.values(h.activeSessionsByEvent ?? {}).reduce((n, ids) => n + ids.length, 0) <= MAX_HEARTBEAT_SESSIONS, {
    message: "at most 100,000 sessions per heartbeat",
    path: ["activeSessionsByEvent"],
  })
  .openapi("PullZoneHeartbeat");

const NodeParamsSchema = z.object({ id: IdSchema.openapi({ param: { name: "id", in: "path" } }) });

const CacheSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    pingUrl: z.string(),
    baseUrl: z.string(),
    healthy: z.boolean(),
    full: z.boolean().openapi({ description: "At 90 % of its capacity: a viewer who chooses it now is kept on the edge; its viewers stay" }),
  })
  .openapi("StadiumCache");

const SessionParamsSchema = z.object({ sessionId: z.string().min(1).max(64).openapi({ param: { name: "sessionId", in: "path" } }) });
const SessionChoiceSchema = z
  .object({
    cacheId: IdSchema.nullable().openapi({ description: "The stadium node the viewer reached, or null for none" }),
    steering: z.boolean().optional().openapi({ description: "false for players without HLS Content Steering: media playlists then carry the node's links" }),
  })
  .openapi("SessionCacheChoice");

export const pullZones = apiApp();
pullZones.openAPIRegistry.registerComponent("securitySchemes", "registrationKey", { type: "http", scheme: "bearer", description: "The node's own registrationKey, from PUT /admin/pull-zones/{id}" });
pullZones.openAPIRegistry.registerComponent("securitySchemes", "nodeKey", { type: "http", scheme: "bearer", description: "The nodeKey from the node's registration (or, for DELETE, the operator token)" });
pullZones.openAPIRegistry.registerComponent("securitySchemes", "playbackToken", { type: "http", scheme: "bearer", description: "The session's playback token" });

pullZones.use(
  "/pull-zones/:id/heartbeat",
  bodyLimit({
    maxSize: HEARTBEAT_BODY_BYTES,
    onError: () => {
      throw new DomainError({ code: "invalid_request", message: "A heartbeat body is at most 8 MiB." });
    },
  }),
);

function bearer(header: string | undefined): string | null {
  return header?.startsWith("Bearer ") ? header.slice(7).trim() : null;
}

function heartbeatSeconds(env: Env): number {
  const n = Number(env.PULL_ZONE_HEARTBEAT_SECONDS);
  return Number.isFinite(n) && n >= 1 && n <= 60 ? Math.floor(n) : 5;
}

pullZones.openapi(
  createRoute({
    method: "post",
    path: "/pull-zones",
    summary: "Register a provisioned stadium node (Bearer: its registrationKey)",
    security: [{ registrationKey: [] }],
    request: { body: { ...json(RegisterSchema), required: true } },
    responses: { 201: { description: "Registered", ...json(RegisteredSchema) }, ...errorResponses(400, 401) },
  }),
  async (c) => {
    const presented = bearer(c.req.header("authorization"));
    if (!presented) throw new DomainError({ code: "unauthenticated", message: "Registering a stadium node needs its registration key." });
    const input = c.req.valid("json");
    const interval = heartbeatSeconds(c.env);
    const result = await pullZone(c.env, input.id).register(presented, { baseUrl: input.baseUrl, capacityMbps: input.capacityMbps, heartbeatIntervalSeconds: interval });
    if (result.status !== "ok") {
      // One answer for an unknown id, a wrong key and a decommissioned node: the answer tells a guesser nothing.
      throw new DomainError({ code: "unauthenticated", message: `This key does not register a stadium node '${input.id}' (not provisioned, decommissioned, or another key).` });
    }
    const { nodeKey, incarnation, name, eventIds } = result;
    const verifyKeys = c.var.config.verifyKeys.map((k) => ({ kid: k.kid, x: k.x }));
    c.header("cache-control", "no-store");
    return c.json({ id: input.id, name, eventIds, nodeKey, heartbeatIntervalSeconds: interval, verifyKeys, incarnation }, 201);
  },
);

pullZones.openapi(
  createRoute({
    method: "post",
    path: "/pull-zones/{id}/heartbeat",
    summary: "A node's heartbeat with what it served (Bearer: nodeKey)",
    security: [{ nodeKey: [] }],
    request: { params: NodeParamsSchema, body: { ...json(HeartbeatSchema), required: true } },
    responses: {
      200: {
        description: "Healthy until; and which of the sessions it named are over (their next playlist request at the node gets 410)",
        ...json(
          z.object({
            healthyUntil: z.string(),
            endedSessionIds: z.array(z.string()),
            eventIds: z.array(z.string()).openapi({ description: "The node's events as provisioned now (the operator may have changed them)" }),
          }),
        ),
      },
      ...errorResponses(400, 401, 404),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const key = bearer(c.req.header("authorization"));
    if (!key) throw new DomainError({ code: "unauthenticated", message: "A heartbeat needs the node key." });
    const { activeSessionsByEvent, requests, upstreamRequests, ...input } = c.req.valid("json");
    const result = await pullZone(c.env, id).heartbeat(key, input);
    if (result.status === "unknown") throw new DomainError({ code: "not_found", message: `No stadium node '${id}' is registered.` });
    if (result.status === "unauthorized") throw new DomainError({ code: "unauthenticated", message: "The node key is wrong." });
    // The node's bytes count in each event's egress meter, apart from the internet edge's, and its
    // viewers' sessions are renewed: one gate call per event the node serves, only for those events.
    // Only the bytes the node's capacity could have carried count (the object clamped them); a split scales with them.
    const split = scaleSplit(input.egressBytesByEvent, result.acceptedBytes);
    const bytes = new Map(splitBytes(result.acceptedBytes, split, result.eventIds));
    // Requests the node answered from its own cache (its misses are counted by the edge that answered them), split as its bytes are.
    const nodeHits = Math.max(0, (requests ?? 0) - (upstreamRequests ?? 0));
    const hits = new Map(splitBytes(nodeHits, split && proportional(split, nodeHits), result.eventIds));
    const reports = result.eventIds
      .map((eventId) => ({ eventId, bytes: bytes.get(eventId) ?? 0, hits: hits.get(eventId) ?? 0, sessions: activeSessionsByEvent?.[eventId] ?? [] }))
      .filter((r) => r.bytes > 0 || r.hits > 0 || r.sessions.length > 0);
    // Each event's rate from this node stands until its next heartbeat is due (two missed ones make it unhealthy).
    const span = { reporter: id, periodMs: result.periodMs, intervalMs: heartbeatSeconds(c.env) * 1000 };
    // Awaited: the answer tells the node which of its viewers' sessions are over (released, expired).
    const ended = await Promise.all(
      reports.map((r) =>
        // A sharded event's sessions name their shard: the report is split over the gates that hold them.
        reportActivity(c.env, r.eventId, { activeSessionIds: r.sessions, bytes: r.bytes, source: "node", ...span, ...(requests !== undefined ? { served: { node: r.hits } } : {}) })
          .then((res) => res.expiredSessionIds)
          .catch((err) => {
            console.error("node report failed", r.eventId, String(err));
            return [];
          }),
      ),
    );
    return c.json({ healthyUntil: new Date(result.healthyUntil).toISOString(), endedSessionIds: ended.flat(), eventIds: result.eventIds }, 200);
  },
);

/** The node's split, scaled down so that it sums to no more than the accepted (clamped) total. */
export function scaleSplit(byEvent: Record<string, number> | undefined, accepted: number): Record<string, number> | undefined {
  if (!byEvent) return byEvent;
  const sum = Object.values(byEvent).reduce((a, b) => a + b, 0);
  if (sum <= accepted) return byEvent;
  const factor = sum > 0 ? accepted / sum : 0;
  return Object.fromEntries(Object.entries(byEvent).map(([e, b]) => [e, Math.floor(b * factor)]));
}

/** `total` shared out in proportion to `weights` (what is left by rounding down goes to the heaviest). */
export function proportional(weights: Record<string, number>, total: number): Record<string, number> {
  const entries = Object.entries(weights).filter(([, w]) => w > 0);
  const sum = entries.reduce((n, [, w]) => n + w, 0);
  if (sum <= 0) return {};
  const out = Object.fromEntries(entries.map(([k, w]) => [k, Math.floor((total * w) / sum)]));
  const heaviest = entries.reduce((a, b) => (b[1] > a[1] ? b : a))[0];
  out[heaviest]! += total - Object.values(out).reduce((n, v) => n + v, 0);
  return out;
}

/** Bytes per event: the node's own split where it gave one (for its events only), else all on its first event. */
export function splitBytes(total: number, byEvent: Record<string, number> | undefined, eventIds: string[]): [string, number][] {
  if (byEvent) {
    const out = Object.entries(byEvent).filter(([e, b]) => eventIds.includes(e) && b > 0);
    if (out.length > 0) return out;
  }
  return total > 0 && eventIds[0] ? [[eventIds[0], total]] : [];
}

pullZones.openapi(
  createRoute({
    method: "delete",
    path: "/pull-zones/{id}",
    summary: "Deregister a node (Bearer: nodeKey or the operator token)",
    security: [{ nodeKey: [] }],
    request: { params: NodeParamsSchema },
    responses: { 204: { description: "Deregistered" }, ...errorResponses(401, 404) },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const key = bearer(c.req.header("authorization"));
    if (!key) throw new DomainError({ code: "unauthenticated", message: "Deregistering needs the node key or the operator token." });
    const operator = await timingSafeEqualText(key, c.var.config.adminToken);
    const result = await pullZone(c.env, id).deregister(operator ? { operator: true } : { nodeKey: key });
    if (result === "unknown") throw new DomainError({ code: "not_found", message: `No stadium node '${id}' is registered.` });
    if (result === "unauthorized") throw new DomainError({ code: "unauthenticated", message: "The node key is wrong." });
    return c.body(null, 204);
  },
);

pullZones.openapi(
  createRoute({
    method: "get",
    path: "/events/{eventId}/caches",
    summary: "The healthy stadium nodes of an event, with the URL a viewer's app pings",
    request: { params: EventParamsSchema },
    responses: { 200: { description: "Healthy nodes", ...json(z.array(CacheSchema)) }, ...errorResponses(404) },
  }),
  async (c) => {
    const { eventId } = c.req.valid("param");
    if (!(await catalogStore(c.env.CATALOG).getEvent(eventId))) {
      throw new DomainError({ code: "not_found", message: `There is no event '${eventId}'.` });
    }
    const nodes = await pullZoneDirectory(c.env, eventId).healthy();
    c.header("cache-control", "no-store");
    return c.json(
      nodes.map((n) => ({ id: n.id, name: n.name, pingUrl: `${n.baseUrl}/ping`, baseUrl: n.baseUrl, healthy: true, full: n.fullSince != null })),
      200,
    );
  },
);

pullZones.openapi(
  createRoute({
    method: "put",
    path: "/sessions/{sessionId}",
    summary: "Report the stadium node this viewing session reached (or none); the admission slot is kept",
    security: [{ playbackToken: [] }],
    request: { params: SessionParamsSchema, body: { ...json(SessionChoiceSchema), required: true } },
    responses: {
      200: { description: "Remembered", ...json(SessionChoiceSchema.extend({ sessionId: z.string() })) },
      ...errorResponses(400, 401, 403),
    },
  }),
  async (c) => {
    const { sessionId } = c.req.valid("param");
    const token = bearer(c.req.header("authorization"));
    if (!token) throw new DomainError({ code: "unauthenticated", message: "Send the session's playback token as the bearer." });
    const verified = await tokens.verify(token, c.var.config.verifyKeys, Date.now() / 1000);
    if (!verified.ok || verified.claims.s !== sessionId) throw new DomainError({ code: "forbidden", message: "This token is not for this session." });
    const input = c.req.valid("json");
    const choice = await rememberCacheChoice(c.env, verified.claims.e, sessionId, input.cacheId, input.steering);
    return c.json({ sessionId, ...choice }, 200);
  },
);

/** Records the node a session reached; the access route calls this with the request's `cacheId`. */
export function rememberCacheChoice(env: Env, eventId: string, sessionId: string, cacheId: string | null | undefined, steering = true) {
  return pullZoneDirectory(env, eventId).choose(sessionId, { cacheId: cacheId ?? null, steering });
}
