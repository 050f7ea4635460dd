// Caller-side helper for admission: the only place that builds the gate's, its shards' and its coordinator's ids and stubs.
import type { ReportInput, ReportResult } from "./event-gate";
import { sessionShard } from "./shard-ids";

/** The admission gate of one unsharded event (one object per event): typed RPC to `EventGate`. */
export function eventGate(env: Env, eventId: string) {
  return env.EVENT_GATE.get(env.EVENT_GATE.idFromName(eventId));
}

/** Shard `shard` of a sharded event's admission: typed RPC to `EventGateShard`. */
export function gateShard(env: Env, eventId: string, shard: number) {
  return env.EVENT_GATE_SHARD.get(env.EVENT_GATE_SHARD.idFromName(`${eventId}/${shard}`));
}

/** The coordinator of a sharded event's admission shards: typed RPC to `AdmissionCoordinator`. */
export function admissionCoordinator(env: Env, eventId: string) {
  return env.ADMISSION_COORDINATOR.get(env.ADMISSION_COORDINATOR.idFromName(eventId));
}

/** Whether an event's admission runs on shards and a coordinator (`shards` > 1) rather than one gate. */
export function isSharded(event: { shards?: number | undefined }): boolean {
  return (event.shards ?? 1) > 1;
}

const SHARD_REPORT_FIELDS = new Set(["activeSessionIds", "bytes", "source", "reporter", "periodMs", "intervalMs", "now"]);

/**
 * An edge's or stadium node's activity batch, sent to the gates its sessions belong to: sessions of a
 * sharded event name their shard, all others go to the event's gate (one call, as before sharding).
 * Bytes are split over the calls by their sessions' share.
 */
export async function reportActivity(env: Env, eventId: string, input: ReportInput): Promise<ReportResult> {
  const groups = new Map<number | null, string[]>();
  for (const id of input.activeSessionIds) {
    const shard = sessionShard(id);
    const group = groups.get(shard);
    if (group) group.push(id);
    else groups.set(shard, [id]);
  }
  if (groups.size === 0) groups.set(null, []);
  const total = input.activeSessionIds.length;
  let bytesLeft = input.bytes;
  // Fields the shards do not take (anything beyond sessions and bytes) go to the event's gate.
  const extra = Object.keys(input).some((k) => !SHARD_REPORT_FIELDS.has(k));
  if (extra && !groups.has(null)) groups.set(null, []);
  const calls = [...groups].map(([shard, ids], i) => {
    const bytes = i === groups.size - 1 ? bytesLeft : Math.floor((input.bytes * ids.length) / Math.max(1, total));
    bytesLeft -= bytes;
    if (shard === null) return eventGate(env, eventId).report({ ...input, activeSessionIds: ids, bytes });
    const span = input.reporter !== undefined ? { reporter: input.reporter, periodMs: input.periodMs, intervalMs: input.intervalMs } : {};
    return gateShard(env, eventId, shard).report({ eventId, shard, activeSessionIds: ids, bytes, source: input.source, ...span, ...(input.now !== undefined ? { now: input.now } : {}) });
  });
  const results = await Promise.all(calls);
  if (results.length === 1) return results[0]!;
  return {
    expiredSessionIds: results.flatMap((r) => r.expiredSessionIds),
    overload: results.some((r) => r.overload),
    leaseSeconds: Math.min(...results.map((r) => r.leaseSeconds)),
  };
}

// The types callers name, so that no caller imports the object's own modules.
export type { AdmitInput, ReportInput, ReportResult } from "./event-gate";
export type { Tier, TierCounts } from "./served";
export type { AdmissionDecision, AdmissionSnapshot, EgressSource, Limits, LimitsInput, ReleaseResult } from "./model";
export type { CoordinatorSnapshot } from "../admission-coordinator/admission-coordinator";
export { shardOf } from "./shards";
export { sessionShard, ticketShard } from "./shard-ids";
