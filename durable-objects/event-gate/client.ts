// Caller-side helper for the event gate: the only place that builds its ids and stubs.

/** The admission gate of one event (one object per event): typed RPC to `EventGate`. */
export function eventGate(env: Env, eventId: string) {
  return env.EVENT_GATE.get(env.EVENT_GATE.idFromName(eventId));
}

// The types callers name, so that no caller imports the object's own modules.
export type { AdmitInput, ReportInput, ReportResult, SessionListing } from "./event-gate";
export type { AdmissionDecision, AdmissionSnapshot, EgressSource, Limits, LimitsInput, ReleaseResult } from "./model";
