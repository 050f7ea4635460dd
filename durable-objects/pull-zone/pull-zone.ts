// One stadium node ("pull zone"): its key, address, events and last heartbeat; one object per node id.
// It keeps the per-event directories (durable-objects/pull-zone-directory/) up to date with its health.
import { DurableObject } from "cloudflare:workers";
import { timingSafeEqualText } from "../../workers/shared/timing-safe";
import { pullZoneDirectory } from "../pull-zone-directory/client";

export interface RegisterInput {
  id: string;
  name: string;
  baseUrl: string;
  eventIds: string[];
  capacityMbps?: number;
  heartbeatIntervalSeconds: number;
  now?: number;
}

export interface HeartbeatInput {
  activeViewers: number;
  egressBytes: number;
  cacheHitRatio?: number;
  now?: number;
}

/** What the node object stores; the key itself never, only its SHA-256. */
export interface PullZoneRecord {
  id: string;
  name: string;
  baseUrl: string;
  eventIds: string[];
  capacityMbps: number | null;
  keyHash: string;
  /** Changes at every registration: a restarted node is a new HLS pathway (hls.js penalises a failed one for 300 s). */
  incarnation: string;
  heartbeatIntervalSeconds: number;
  registeredAt: number;
  lastHeartbeatAt: number;
  healthyUntil: number;
  activeViewers: number;
  cacheHitRatio: number | null;
  egressBytesTotal: number;
}

export type HeartbeatResult =
  | { status: "ok"; healthyUntil: number; eventIds: string[] }
  | { status: "unauthorized" }
  | { status: "unknown" };

export type DeregisterResult = "removed" | "unauthorized" | "unknown";

/** Healthy while heartbeats arrive: two missed intervals make the node unhealthy. */
export function healthyUntil(lastHeartbeatAt: number, intervalSeconds: number): number {
  return lastHeartbeatAt + 2 * intervalSeconds * 1000;
}

export class PullZone extends DurableObject<Env> {
  /** Registers (or re-registers) the node: a new key and a new incarnation; the old key stops working. */
  async register(input: RegisterInput): Promise<{ nodeKey: string; incarnation: string; healthyUntil: number }> {
    const now = input.now ?? Date.now();
    const previous = await this.ctx.storage.get<PullZoneRecord>("node");
    const nodeKey = randomKey();
    const record: PullZoneRecord = {
      id: input.id,
      name: input.name,
      baseUrl: input.baseUrl,
      eventIds: input.eventIds,
      capacityMbps: input.capacityMbps ?? null,
      keyHash: await sha256Hex(nodeKey),
      incarnation: now.toString(36),
      heartbeatIntervalSeconds: input.heartbeatIntervalSeconds,
      registeredAt: now,
      lastHeartbeatAt: now,
      // Not healthy before its first heartbeat: the launcher registers before its worker listens, and a
      // viewer steered to a node that refuses connections puts that pathway in hls.js's penalty box.
      healthyUntil: now,
      activeViewers: 0,
      cacheHitRatio: null,
      egressBytesTotal: previous?.egressBytesTotal ?? 0,
    };
    await this.ctx.storage.put("node", record);
    const dropped = (previous?.eventIds ?? []).filter((e) => !record.eventIds.includes(e));
    await Promise.all([
      ...dropped.map((e) => pullZoneDirectory(this.env, e).remove(record.id)),
      ...record.eventIds.map((e) => pullZoneDirectory(this.env, e).upsert(entryOf(record))),
    ]);
    return { nodeKey, incarnation: record.incarnation, healthyUntil: record.healthyUntil };
  }

  /** A heartbeat with the node key; a wrong key changes nothing. */
  async heartbeat(nodeKey: string, input: HeartbeatInput): Promise<HeartbeatResult> {
    const record = await this.ctx.storage.get<PullZoneRecord>("node");
    if (!record) return { status: "unknown" };
    if (!(await this.keyMatches(record, nodeKey))) return { status: "unauthorized" };
    const now = input.now ?? Date.now();
    record.lastHeartbeatAt = now;
    record.healthyUntil = healthyUntil(now, record.heartbeatIntervalSeconds);
    record.activeViewers = input.activeViewers;
    record.cacheHitRatio = input.cacheHitRatio ?? null;
    record.egressBytesTotal += input.egressBytes;
    await this.ctx.storage.put("node", record);
    await Promise.all(record.eventIds.map((e) => pullZoneDirectory(this.env, e).upsert(entryOf(record))));
    return { status: "ok", healthyUntil: record.healthyUntil, eventIds: record.eventIds };
  }

  /** Removes the node, with its key (the node shutting down) or on the operator's word. */
  async deregister(auth: { nodeKey: string } | { operator: true }): Promise<DeregisterResult> {
    const record = await this.ctx.storage.get<PullZoneRecord>("node");
    if (!record) return "unknown";
    if ("nodeKey" in auth && !(await this.keyMatches(record, auth.nodeKey))) return "unauthorized";
    await this.ctx.storage.delete("node");
    await Promise.all(record.eventIds.map((e) => pullZoneDirectory(this.env, e).remove(record.id)));
    return "removed";
  }

  /** The stored record without its key hash (operator views, tests). */
  async describe(): Promise<Omit<PullZoneRecord, "keyHash"> | null> {
    const record = await this.ctx.storage.get<PullZoneRecord>("node");
    if (!record) return null;
    const { keyHash: _hidden, ...rest } = record;
    return rest;
  }

  private async keyMatches(record: PullZoneRecord, presented: string): Promise<boolean> {
    return timingSafeEqualText(await sha256Hex(presented), record.keyHash);
  }
}

function entryOf(r: PullZoneRecord) {
  return {
    id: r.id,
    name: r.name,
    baseUrl: r.baseUrl,
    incarnation: r.incarnation,
    healthyUntil: r.healthyUntil,
    activeViewers: r.activeViewers,
    cacheHitRatio: r.cacheHitRatio,
  };
}

function randomKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return `pzk_${hex}`;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  let hex = "";
  for (const b of digest) hex += b.toString(16).padStart(2, "0");
  return hex;
}
