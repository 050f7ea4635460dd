// The operator's stadium nodes: provision one (its registration key shown once), rotate the key,
// decommission it, list them with health and load. The node's own routes are in pull-zones.ts.
import { createRoute, z } from "@hono/zod-openapi";
import { pullZone } from "../../../durable-objects/pull-zone/client";
import { DomainError } from "../../shared/errors";
import { IdSchema } from "../../shared/ids";
import { catalogStore } from "../catalog/store";
import { operatorAuth } from "../middleware/operator-auth";
import { apiApp, errorResponses } from "../openapi";
import { pullZoneIndex } from "../catalog/pull-zone-index";

const security = [{ operatorToken: [] }];
const json = <T>(schema: T) => ({ content: { "application/json": { schema } } });

const NodeParamsSchema = z.object({ id: IdSchema.openapi({ param: { name: "id", in: "path" } }) });

const ProvisionSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    eventIds: z.array(IdSchema).min(1).max(16).refine((ids) => new Set(ids).size === ids.length, "each event once"),
    capacityMbps: z.number().positive().max(1_000_000).optional().openapi({ description: "What the node's uplink to viewers carries; at 90 % of it the node takes no new viewers, and reported egress beyond it is clamped" }),
  })
  .openapi("PullZoneProvisioning");

const ProvisionedSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    eventIds: z.array(z.string()),
    capacityMbps: z.number().optional(),
    registrationKey: z.string().optional().openapi({ description: "Only when the node is new: give it to the stadium's node, it is never shown again" }),
  })
  .openapi("PullZoneProvisioned");

const NodeSummarySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    eventIds: z.array(z.string()),
    capacityMbps: z.number().optional(),
    registered: z.boolean().openapi({ description: "The node registered and has not gone offline since" }),
    healthy: z.boolean().openapi({ description: "Its heartbeats arrive (two missed intervals and it is not)" }),
    full: z.boolean().openapi({ description: "At 90 % of its capacity or more: new viewers go to the edge" }),
    baseUrl: z.string().nullable(),
    activeViewers: z.number().int(),
    egressBps: z.number().openapi({ description: "Its egress rate, bits per second, smoothed over about 10 s" }),
    cacheHitRatio: z.number().nullable(),
    egressBytesTotal: z.number(),
    clampedBytesTotal: z.number().openapi({ description: "Reported bytes its capacity could not have carried, dropped from the event's meter" }),
  })
  .openapi("PullZoneSummary");

export const adminPullZones = apiApp();
adminPullZones.use("/admin/pull-zones", operatorAuth());
adminPullZones.use("/admin/pull-zones/*", operatorAuth());

adminPullZones.openapi(
  createRoute({
    method: "put",
    path: "/admin/pull-zones/{id}",
    summary: "Provision a stadium node (201 with its registration key, shown once) or change its name, events or capacity (200)",
    security,
    request: { params: NodeParamsSchema, body: { ...json(ProvisionSchema), required: true } },
    responses: {
      201: { description: "Provisioned; the registration key is in this answer only", ...json(ProvisionedSchema) },
      200: { description: "Updated; the node keeps its key", ...json(ProvisionedSchema) },
      ...errorResponses(400, 401, 404),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const input = c.req.valid("json");
    const catalog = catalogStore(c.env.CATALOG);
    const events = await Promise.all(input.eventIds.map((e) => catalog.getEvent(e)));
    const missing = input.eventIds.filter((_, i) => !events[i]);
    if (missing.length > 0) throw new DomainError({ code: "not_found", message: `There is no event '${missing[0]}': create it first.` });
    const result = await pullZone(c.env, id).provision({ id, ...input });
    await pullZoneIndex(c.env.CATALOG).put(id);
    const body = {
      id,
      name: result.provisioning.name,
      eventIds: result.provisioning.eventIds,
      ...(result.provisioning.capacityMbps !== null ? { capacityMbps: result.provisioning.capacityMbps } : {}),
      ...(result.registrationKey ? { registrationKey: result.registrationKey } : {}),
    };
    c.header("cache-control", "no-store");
    return result.created ? c.json(body, 201) : c.json(body, 200);
  },
);

adminPullZones.openapi(
  createRoute({
    method: "post",
    path: "/admin/pull-zones/{id}/registration-key",
    summary: "A new registration key for a node (the old one stops working; the running node keeps its node key)",
    security,
    request: { params: NodeParamsSchema },
    responses: { 200: { description: "The new key, shown once", ...json(z.object({ registrationKey: z.string() })) }, ...errorResponses(401, 404) },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const registrationKey = await pullZone(c.env, id).rotateRegistrationKey();
    if (!registrationKey) throw new DomainError({ code: "not_found", message: `No stadium node '${id}' is provisioned.` });
    c.header("cache-control", "no-store");
    return c.json({ registrationKey }, 200);
  },
);

adminPullZones.openapi(
  createRoute({
    method: "delete",
    path: "/admin/pull-zones/{id}",
    summary: "Decommission a node: it leaves every event at once and can neither register nor heartbeat",
    security,
    request: { params: NodeParamsSchema },
    responses: { 204: { description: "Decommissioned" }, ...errorResponses(401, 404) },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const done = await pullZone(c.env, id).decommission();
    await pullZoneIndex(c.env.CATALOG).remove(id);
    if (!done) throw new DomainError({ code: "not_found", message: `No stadium node '${id}' is provisioned.` });
    return c.body(null, 204);
  },
);

adminPullZones.openapi(
  createRoute({
    method: "get",
    path: "/admin/pull-zones",
    summary: "Every provisioned stadium node, with its health, viewers and egress against its capacity",
    security,
    responses: { 200: { description: "The nodes, in id order", ...json(z.array(NodeSummarySchema)) }, ...errorResponses(401) },
  }),
  async (c) => {
    const ids = await pullZoneIndex(c.env.CATALOG).list();
    const now = Date.now();
    const statuses = await Promise.all(ids.map((id) => pullZone(c.env, id).status()));
    c.header("cache-control", "no-store");
    return c.json(
      statuses
        .filter((s) => s !== null)
        .map((s) => ({
          id: s.id,
          name: s.name,
          eventIds: s.eventIds,
          ...(s.capacityMbps !== null ? { capacityMbps: s.capacityMbps } : {}),
          registered: s.registered,
          healthy: s.healthyUntil !== null && s.healthyUntil > now,
          full: s.fullSince !== null,
          baseUrl: s.baseUrl,
          activeViewers: s.activeViewers,
          egressBps: s.egressBps,
          cacheHitRatio: s.cacheHitRatio,
          egressBytesTotal: s.egressBytesTotal,
          clampedBytesTotal: s.clampedBytesTotal,
        })),
      200,
    );
  },
);
