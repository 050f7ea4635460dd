// zod schemas of the catalog: what the operator sends, what KV stores, what clients read.
import { MAX_BACKUP_ORIGINS } from "../../hls/origins";
import { z } from "@hono/zod-openapi";
import { IdSchema } from "../../shared/ids";

const HostSchema = z
  .string()
  .max(261)
  .regex(/^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?::\d{1,5})?$|^\[[0-9a-f:.]+\](?::\d{1,5})?$/i, "a host name, optionally with :port")
  .transform((h) => h.toLowerCase());

const OriginUrlSchema = z
  .string()
  .max(2048)
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === "http:" || u.protocol === "https:") && !u.username && !u.password && !u.hash;
    } catch {
      return false;
    }
  }, "an absolute http(s) URL without credentials or fragment");

export const MoneySchema = z
  .object({
    amount: z.number().int().min(0).max(100_000_000),
    currency: z.string().regex(/^[A-Z]{3}$/, "an ISO 4217 currency code"),
  })
  .openapi("Money");

export const LimitsSchema = z
  .object({
    maxSessions: z.number().int().min(0).max(10_000_000).optional(),
    maxEgressMbps: z.number().min(0).max(100_000_000).optional(),
    leaseSeconds: z.number().int().min(10).max(3600).optional(),
    maxSessionsPerViewer: z.number().int().min(1).max(100).optional().openapi({ description: "Sessions one signed-in viewer holds at once (default 2); a new grant beyond it ends that viewer's oldest session" }),
    maxSessionsPerAddress: z
      .number()
      .int()
      .min(1)
      .max(10_000_000)
      .optional()
      .openapi({ description: "Anonymous sessions plus queue tickets one client address holds (default: no limit, since a stadium's viewers share a few NAT addresses)" }),
    claimSeconds: z.number().int().min(10).max(3600).optional().openapi({ description: "A grant whose playback URL is not used within this many seconds frees its slot (default 30)" }),
  })
  .openapi("EventLimits");

export const EventInputSchema = z
  .object({
    title: z.string().min(1).max(200),
    startsAt: z.iso.datetime({ offset: true }).optional(),
    requireLogin: z.boolean().optional().openapi({ description: "Every channel of the event needs a viewer token, free ones too" }),
    limits: LimitsSchema.default({}),
    shards: z
      .number()
      .int()
      .min(1)
      .max(64)
      .optional()
      .openapi({
        description:
          "Admission shards (1–64, default 1): with more than 1, arrivals spread over that many gate objects whose coordinator keeps maxSessions exact in total and admits by arrival time across them. It cannot change while the event has sessions or queued viewers (409 event_busy).",
      }),
  })
  .openapi("EventInput");

/** Set while the event, channel or product is archived: hidden from viewers, its data and sales kept. */
const ArchivedAtSchema = z.string().optional().openapi({ description: "When the operator archived it (ISO 8601); absent while it is live. Archived: hidden from viewers, its data and sales kept" });

export const EventSchema = EventInputSchema.extend({ id: IdSchema, updatedAt: z.string(), archivedAt: ArchivedAtSchema }).openapi("Event");
export type CatalogEvent = z.infer<typeof EventSchema>;

export const ChannelInputSchema = z
  .object({
    title: z.string().min(1).max(200),
    originUrl: OriginUrlSchema,
    paid: z.boolean(),
    productId: IdSchema.optional(),
    allowedHosts: z.array(HostSchema).max(16).default([]),
    backupOriginUrls: z
      .array(OriginUrlSchema)
      .max(MAX_BACKUP_ORIGINS)
      .default([])
      .openapi({ description: "Backup origins, in order: the channel moves to the next when its origin fails or its live playlist stops advancing, and back when the origin is healthy again. Each is fetched only from its own host and allowedHosts" }),
  })
  .refine((c) => new Set([c.originUrl, ...c.backupOriginUrls]).size === 1 + c.backupOriginUrls.length, {
    message: "backup origins must differ from the origin and from each other",
    path: ["backupOriginUrls"],
  })
  .refine((c) => !c.paid || c.productId !== undefined, {
    message: "a paid channel needs the productId that unlocks it",
    path: ["productId"],
  })
  .openapi("ChannelInput");

export const ChannelSchema = z
  .object({
    id: IdSchema,
    eventId: IdSchema,
    title: z.string(),
    originUrl: OriginUrlSchema,
    paid: z.boolean(),
    productId: IdSchema.optional(),
    allowedHosts: z.array(z.string()),
    backupOriginUrls: z.array(z.string()).optional(),
    updatedAt: z.string(),
    archivedAt: ArchivedAtSchema,
  })
  .openapi("Channel");
export type Channel = z.infer<typeof ChannelSchema>;

const ProductFieldsSchema = z.object({
  kind: z.enum(["channel_pass", "goods"]),
  title: z.string().min(1).max(200),
  description: z.string().max(2000).default(""),
  price: MoneySchema,
  eventId: IdSchema.optional().openapi({ description: "The event the product belongs to; required for a channel_pass, which unlocks only this event's channelIds" }),
  channelIds: z.array(IdSchema).max(100).optional(),
  validFrom: z.iso.datetime({ offset: true }).optional().openapi({ description: "A channel_pass unlocks nothing before this time" }),
  validUntil: z.iso.datetime({ offset: true }).optional().openapi({ description: "A channel_pass unlocks nothing from this time on" }),
});

export const ProductInputSchema = ProductFieldsSchema
  .refine((p) => p.kind !== "channel_pass" || p.eventId !== undefined, {
    message: "a channel_pass names the event whose channels it unlocks",
    path: ["eventId"],
  })
  .refine((p) => p.validFrom === undefined || p.validUntil === undefined || Date.parse(p.validFrom) < Date.parse(p.validUntil), {
    message: "validUntil must be later than validFrom",
    path: ["validUntil"],
  })
  .openapi("ProductInput");

/**
 * A product as KV stores it. `eventId` stays optional here: a channel_pass stored before passes named
 * their event is read by the migration rule in accounts/entitlements.ts (docs/api.md, "Passes").
 */
export const ProductSchema = ProductFieldsSchema.extend({ id: IdSchema, updatedAt: z.string(), archivedAt: ArchivedAtSchema }).openapi("Product");
export type Product = z.infer<typeof ProductSchema>;

export const EventParamsSchema = z.object({ eventId: IdSchema.openapi({ param: { name: "eventId", in: "path" } }) });
export const ChannelParamsSchema = EventParamsSchema.extend({
  channelId: IdSchema.openapi({ param: { name: "channelId", in: "path" } }),
});
export const ProductParamsSchema = z.object({
  productId: IdSchema.openapi({ param: { name: "productId", in: "path" } }),
});
