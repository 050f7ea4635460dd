// One stadium node ("pull zone"), one object per node id: the operator's provisioning (name, events, capacity,
// the registration key's hash), the node's current registration (address, node key's hash, incarnation) and
// its last heartbeat. It keeps the per-event directories (durable-objects/pull-zone-directory/) up to date.
//
// Credentials, and what each opens (docs/stadium-nodes.md, "Keys"):
// - the registration key (shown once to the operator): registering this id, for its provisioned events only;
// - the node key (issued at each registration): heartbeats and deregistration of this id, nothing else.
import { DurableObject } from "cloudflare:workers";
import { timingSafeEqualText } from "../../workers/shared/timing-safe";
import { pullZoneDirectory } from "../pull-zone-directory/client";
import { DEFAULT_CAPACITY_MBPS, egressAllowance, fullnessAfter, smoothedRate, type Fullness } from "./capacity";

export interface ProvisionInput {
  id: string;
  name: string;
  eventIds: string[];
  capacityMbps?: number;
  now?: number;
}

/** The operator's record of a node; the registration key itself is never stored, only its SHA-256. */
export interface Provisioning {
  id: string;
  name: string;
  eventIds: string[];
  capacityMbps: number | null;
  registrationKeyHash: string | null;
  provisionedAt: number;
  /** Set by DELETE /admin/pull-zones/{id}: the node can neither register nor heartbeat. */
  decommissionedAt: number | null;
}

export interface RegisterInput {
  baseUrl: string;
  /** The node's own figure; the operator's, when provisioned, bounds it. */
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

/** The node's registration; the node key itself never, only its SHA-256. */
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
  /** The accepted egress rate, bits per second, smoothed over about 10 s (capacity.ts). */
  egressBps: number;
  /** Since when the node is at 90 % of its capacity or more (null: it has room). */
  fullSince: number | null;
  /** Bytes dropped from reports because the capacity could not have carried them. */
  clampedBytesTotal: number;
}

export type RegisterResult =
  | { status: "ok"; nodeKey: string; incarnation: string; healthyUntil: number; name: string; eventIds: string[] }
  | { status: "unauthorized" };

export type HeartbeatResult =
  /** `periodMs`: the span the bytes were served over: since the previous heartbeat (or registration), at least what the capacity needs for them. */
  | { status: "ok"; healthyUntil: number; eventIds: string[]; acceptedBytes: number; clampedBytes: number; periodMs: number }
  | { status: "unauthorized" }
  | { status: "unknown" };

export type DeregisterResult = "removed" | "unauthorized" | "unknown";

/** What the operator sees of a node. */
export interface NodeStatus {
  id: string;
  name: string;
  eventIds: string[];
  capacityMbps: number | null;
  provisionedAt: number;
  registered: boolean;
  baseUrl: string | null;
  healthyUntil: number | null;
  activeViewers: number;
  egressBps: number;
  fullSince: number | null;
  cacheHitRatio: number | null;
  egressBytesTotal: number;
  clampedBytesTotal: number;
}

/** Healthy while heartbeats arrive: two missed intervals make the node unhealthy. */
export function healthyUntil(lastHeartbeatAt: number, intervalSeconds: number): number {
  return lastHeartbeatAt + 2 * intervalSeconds * 1000;
}

export class PullZone extends DurableObject<Env> {
  /**
   * Creates or updates the operator's record. A new node (or one decommissioned before) gets a registration
   * key, returned once; an existing one keeps its key, and a change of events or capacity reaches its
   * registration and the events' directories at once.
   */
  async provision(input: ProvisionInput): Promise<{ created: boolean; registrationKey?: string; provisioning: Provisioning }> {
    const now = input.now ?? Date.now();
    const previous = await this.ctx.storage.get<Provisioning>("provisioning");
    const created = !previous || previous.decommissionedAt !== null;
    const registrationKey = created ? randomKey("pzr") : undefined;
    const provisioning: Provisioning = {
      id: input.id,
      name: input.name,
      eventIds: input.eventIds,
      capacityMbps: input.capacityMbps ?? null,
      registrationKeyHash: registrationKey ? await sha256Hex(registrationKey) : previous!.registrationKeyHash,
      provisionedAt: created ? now : previous!.provisionedAt,
      decommissionedAt: null,
    };
    await this.ctx.storage.put("provisioning", provisioning);
    const node = await this.ctx.storage.get<PullZoneRecord>("node");
    if (node) {
      const dropped = node.eventIds.filter((e) => !provisioning.eventIds.includes(e));
      node.name = provisioning.name;
      node.eventIds = provisioning.eventIds;
      node.capacityMbps = effectiveCapacity(provisioning.capacityMbps, node.capacityMbps);
      await this.ctx.storage.put("node", node);
      await this.publish(node, dropped);
    }
    return { created, ...(registrationKey ? { registrationKey } : {}), provisioning };
  }

  /** A new registration key; the old one stops working at once. Null for a node not provisioned. */
  async rotateRegistrationKey(): Promise<string | null> {
    const provisioning = await this.ctx.storage.get<Provisioning>("provisioning");
    if (!provisioning || provisioning.decommissionedAt !== null) return null;
    const registrationKey = randomKey("pzr");
    provisioning.registrationKeyHash = await sha256Hex(registrationKey);
    await this.ctx.storage.put("provisioning", provisioning);
    return registrationKey;
  }

  /** Decommissions the node: no key of it works any more, and it leaves every event's directory. */
  async decommission(now = Date.now()): Promise<boolean> {
    const provisioning = await this.ctx.storage.get<Provisioning>("provisioning");
    if (!provisioning || provisioning.decommissionedAt !== null) return false;
    provisioning.decommissionedAt = now;
    provisioning.registrationKeyHash = null;
    await this.ctx.storage.put("provisioning", provisioning);
    await this.goOffline();
    return true;
  }

  /**
   * Registers (or re-registers) the node with its registration key: a new node key and a new incarnation;
   * the previous node key stops working. Name, events and capacity come from the provisioning.
   */
  async register(registrationKey: string, input: RegisterInput): Promise<RegisterResult> {
    const provisioning = await this.ctx.storage.get<Provisioning>("provisioning");
    if (!provisioning?.registrationKeyHash || provisioning.decommissionedAt !== null) return { status: "unauthorized" };
    if (!(await hashMatches(registrationKey, provisioning.registrationKeyHash))) return { status: "unauthorized" };
    const now = input.now ?? Date.now();
    const previous = await this.ctx.storage.get<PullZoneRecord>("node");
    const nodeKey = randomKey("pzk");
    const record: PullZoneRecord = {
      id: provisioning.id,
      name: provisioning.name,
      baseUrl: input.baseUrl,
      eventIds: provisioning.eventIds,
      capacityMbps: effectiveCapacity(provisioning.capacityMbps, input.capacityMbps ?? null),
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
      egressBps: 0,
      fullSince: null,
      clampedBytesTotal: previous?.clampedBytesTotal ?? 0,
    };
    await this.ctx.storage.put("node", record);
    await this.publish(record, (previous?.eventIds ?? []).filter((e) => !record.eventIds.includes(e)));
    return { status: "ok", nodeKey, incarnation: record.incarnation, healthyUntil: record.healthyUntil, name: record.name, eventIds: record.eventIds };
  }

  /**
   * A heartbeat with the node key; a wrong key changes nothing. Egress beyond what the node's capacity could
   * have carried since its previous heartbeat is clamped (and logged): a stolen key cannot fill an event's budget.
   */
  async heartbeat(nodeKey: string, input: HeartbeatInput): Promise<HeartbeatResult> {
    const record = await this.ctx.storage.get<PullZoneRecord>("node");
    if (!record) return { status: "unknown" };
    if (!(await hashMatches(nodeKey, record.keyHash))) return { status: "unauthorized" };
    const now = input.now ?? Date.now();
    const elapsedMs = Math.max(0, now - record.lastHeartbeatAt);
    const allowance = egressAllowance(record.capacityMbps, elapsedMs);
    const acceptedBytes = Math.min(input.egressBytes, allowance);
    const clampedBytes = input.egressBytes - acceptedBytes;
    if (clampedBytes > 0) {
      console.warn(`pull zone ${record.id}: egress clamped from ${input.egressBytes} to ${acceptedBytes} bytes (${record.capacityMbps ?? "default"} Mbit/s over ${elapsedMs} ms)`);
    }
    record.lastHeartbeatAt = now;
    record.healthyUntil = healthyUntil(now, record.heartbeatIntervalSeconds);
    record.activeViewers = input.activeViewers;
    record.cacheHitRatio = input.cacheHitRatio ?? null;
    record.egressBytesTotal += acceptedBytes;
    record.clampedBytesTotal += clampedBytes;
    record.egressBps = smoothedRate(record.egressBps, acceptedBytes, elapsedMs);
    record.fullSince = fullnessAfter({ fullSince: record.fullSince } satisfies Fullness, record.egressBps, record.capacityMbps, now).fullSince;
    await this.ctx.storage.put("node", record);
    await this.publish(record, []);
    // The bytes' span is at least what the capacity needs to carry them: the allowance's slack is not a faster link.
    const periodMs = Math.max(elapsedMs, (acceptedBytes * 8) / (((record.capacityMbps ?? DEFAULT_CAPACITY_MBPS) * 1e6) / 1000));
    return { status: "ok", healthyUntil: record.healthyUntil, eventIds: record.eventIds, acceptedBytes, clampedBytes, periodMs };
  }

  /** The node goes offline (its key, or the operator's word); it stays provisioned and may register again. */
  async deregister(auth: { nodeKey: string } | { operator: true }): Promise<DeregisterResult> {
    const record = await this.ctx.storage.get<PullZoneRecord>("node");
    if (!record) return "unknown";
    if ("nodeKey" in auth && !(await hashMatches(auth.nodeKey, record.keyHash))) return "unauthorized";
    await this.goOffline();
    return "removed";
  }

  /** The registration without its key hash (tests); null while not registered. */
  async describe(): Promise<Omit<PullZoneRecord, "keyHash"> | null> {
    const record = await this.ctx.storage.get<PullZoneRecord>("node");
    if (!record) return null;
    const { keyHash: _hidden, ...rest } = record;
    return rest;
  }

  /** What the operator's list shows; null for a node never provisioned or decommissioned. */
  async status(): Promise<NodeStatus | null> {
    const provisioning = await this.ctx.storage.get<Provisioning>("provisioning");
    if (!provisioning || provisioning.decommissionedAt !== null) return null;
    const node = await this.ctx.storage.get<PullZoneRecord>("node");
    return {
      id: provisioning.id,
      name: provisioning.name,
      eventIds: provisioning.eventIds,
      capacityMbps: provisioning.capacityMbps,
      provisionedAt: provisioning.provisionedAt,
      registered: node !== undefined,
      baseUrl: node?.baseUrl ?? null,
      healthyUntil: node?.healthyUntil ?? null,
      activeViewers: node?.activeViewers ?? 0,
      egressBps: node?.egressBps ?? 0,
      fullSince: node?.fullSince ?? null,
      cacheHitRatio: node?.cacheHitRatio ?? null,
      egressBytesTotal: node?.egressBytesTotal ?? 0,
      clampedBytesTotal: node?.clampedBytesTotal ?? 0,
    };
  }

  private async goOffline(): Promise<void> {
    const record = await this.ctx.storage.get<PullZoneRecord>("node");
    if (!record) return;
    await this.ctx.storage.delete("node");
    await Promise.all(record.eventIds.map((e) => pullZoneDirectory(this.env, e).remove(record.id)));
  }

  /** Pushes the node's entry to each of its events' directories, and takes it out of those it left. */
  private async publish(record: PullZoneRecord, droppedEventIds: string[]): Promise<void> {
    await Promise.all([
      ...droppedEventIds.map((e) => pullZoneDirectory(this.env, e).remove(record.id)),
      ...record.eventIds.map((e) => pullZoneDirectory(this.env, e).upsert(entryOf(record))),
    ]);
  }
}

/** The operator's capacity bounds the node's own claim; either alone stands. */
function effectiveCapacity(provisioned: number | null, claimed: number | null): number | null {
  if (provisioned !== null && claimed !== null) return Math.min(provisioned, claimed);
  return provisioned ?? claimed;
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
    capacityMbps: r.capacityMbps,
    egressBps: r.egressBps,
    fullSince: r.fullSince,
  };
}

function randomKey(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return `${prefix}_${hex}`;
}

async function hashMatches(presented: string, storedHash: string): Promise<boolean> {
  return timingSafeEqualText(await sha256Hex(presented), storedHash);
}

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  let hex = "";
  for (const b of digest) hex += b.toString(16).padStart(2, "0");
  return hex;
}
