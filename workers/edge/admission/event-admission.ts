// Which admission objects serve an event: its one gate (`shards` 1, the default), or its shards and their
// coordinator (`shards` > 1). Routes call these and never choose between the two themselves.
import { admissionCoordinator, eventGate, gateShard, isSharded, sessionShard, shardOf, ticketShard, type AdmissionDecision, type AdmitInput, type LimitsInput, type ReleaseResult } from "../../../durable-objects/event-gate/client";
import { DomainError } from "../../shared/errors";

interface EventRef {
  id: string;
  shards?: number | undefined;
}

/**
 * A viewer's access. Unsharded: the event's gate decides, as always. Sharded: a poll goes to the shard
 * its ticket names; a first access to the shard a hash of the viewer's identity picks (the viewer id,
 * else the client address and user agent), so one viewer's retries land on one shard.
 */
export function admitViewer(env: Env, event: EventRef, input: AdmitInput & { userAgent?: string | undefined }): Promise<AdmissionDecision> {
  const { userAgent, ...gateInput } = input;
  const shards = event.shards ?? 1;
  if (shards <= 1) return eventGate(env, event.id).admit(gateInput);
  const named = input.ticket !== undefined ? ticketShard(input.ticket) : null;
  // A ticket naming a shard the event no longer has is an unknown ticket: the viewer joins afresh.
  const ticket = named && named.shard < shards ? input.ticket : undefined;
  const shard = ticket !== undefined ? named!.shard : shardOf(input.viewerId !== undefined ? `v:${input.viewerId}` : `a:${input.address ?? ""}|${userAgent ?? ""}`, shards);
  return gateShard(env, event.id, shard).admit({ eventId: event.id, shard, ...(ticket !== undefined ? { ticket } : {}) });
}

/** Ends a session at once, at the gate that granted it: a sharded session's id names its shard. */
export function releaseSession(env: Env, eventId: string, sessionId: string): Promise<ReleaseResult> {
  const shard = sessionShard(sessionId);
  return shard === null ? eventGate(env, eventId).release(sessionId) : gateShard(env, eventId, shard).release({ eventId, shard, sessionId });
}

/**
 * Applies an event's limits and shard count (the operator's PUT), before the catalog stores them.
 * The shard count changes only while the event has no sessions and no queued viewers: each lives in
 * exactly one gate, so moving them could lose or double one. The overload switch carries over.
 */
export async function configureAdmission(env: Env, eventId: string, before: number, shards: number, limitsInput: LimitsInput): Promise<void> {
  const gate = eventGate(env, eventId);
  let overload: boolean | undefined;
  if (before !== shards) {
    const live = before > 1 ? await admissionCoordinator(env, eventId).snapshot() : await gate.snapshot();
    if (live.activeSessions + live.queued > 0) {
      throw new DomainError({
        code: "event_busy",
        message: `The event has ${live.activeSessions} sessions and ${live.queued} queued viewers; its admission shards change only while it has none.`,
      });
    }
    overload = before > 1 ? await admissionCoordinator(env, eventId).getOverload() : await gate.getOverload();
    if (shards <= 1) await gate.setOverload(overload);
  }
  // The gate validates the limits (and keeps serving an unsharded event); the coordinator takes them as validated.
  const limits = await gate.configure(limitsInput);
  if (shards > 1) await admissionCoordinator(env, eventId).configure({ eventId, shards, limits, ...(overload !== undefined ? { overload } : {}) });
}

export async function getOverload(env: Env, event: EventRef): Promise<boolean> {
  return isSharded(event) ? admissionCoordinator(env, event.id).getOverload() : eventGate(env, event.id).getOverload();
}

/** Sets the overload switch: a sharded event's coordinator runs a round at once, so every shard has it within the call. */
export async function setOverload(env: Env, event: EventRef, enabled: boolean): Promise<boolean> {
  return isSharded(event) ? admissionCoordinator(env, event.id).setOverload(enabled) : eventGate(env, event.id).setOverload(enabled);
}

/**
 * The event's figures: its gate's; for a sharded event, the admission figures (sessions, queue, egress,
 * admissions, report calls) are the coordinator's totals over every shard, read now.
 */
export async function admissionSnapshot(env: Env, event: EventRef) {
  if (!isSharded(event)) return eventGate(env, event.id).snapshot();
  const [gate, totals] = await Promise.all([eventGate(env, event.id).snapshot(), admissionCoordinator(env, event.id).snapshot()]);
  return { ...gate, ...totals };
}
