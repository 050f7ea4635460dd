// The edge's short-lived local copy of admission state: it batches viewers' activity and bytes per
// event and reports them to the event's gate now and then, and remembers which sessions have ended,
// so no segment or playlist request makes a Durable Object round trip of its own.
import { reportActivity } from "../../../durable-objects/event-gate/client";
import type { Tier, TierCounts } from "../../../durable-objects/event-gate/client";
import { EndedSessions } from "../../shared/playback/ended-sessions";
import { randomId } from "../../shared/ids";

/**
 * Reports go out at most this often per event and isolate, and otherwise once per lease period (the
 * gate allows for the report in flight: reportAllowanceMs in durable-objects/event-gate/model.ts).
 */
const MIN_REPORT_INTERVAL_MS = 2_000;
/** Longer leases still report every minute, so ended sessions and small edges' bytes are not hours late. */
const MAX_REPORT_INTERVAL_MS = 60_000;
/** A busy event reports early once this many bytes are pending, so its egress figure stays current. */
const EARLY_REPORT_BYTES = 64 * 1024 * 1024;
const MAX_SESSIONS_PER_REPORT = 10_000;

interface Pending {
  sessions: Set<string>;
  /** The sessions the previous report named: a session in neither set is new on this isolate. */
  reported: Set<string>;
  /** A session new on this isolate is pending: the gate must hear of it within its claim period. */
  fresh: boolean;
  bytes: number;
  /** Requests answered since the last report, by the edge tier that answered (a node's miss counts here). */
  served: TierCounts;
  /** When the pending bytes began: the previous report, or the first request after an idle spell. */
  since: number;
  /** The span the previous report covered, and whether one has covered an eighth of the interval (see `record`). */
  lastPeriodMs: number;
  settled: boolean;
  lastReport: number;
  leaseSeconds: number;
  reporting: boolean;
}

/** Per-isolate batching of admission activity. */
export class SessionWatch {
  private readonly pending = new Map<string, Pending>();
  private readonly ended = new EndedSessions();
  /** Names this isolate's reports (the gate holds each reporter's last rate until its next report is due); made at the first, since random values are not allowed at global scope. */
  private reporter: string | null = null;

  /** True if the gate said this session is over (lease expired, released, or never granted). */
  hasEnded(sessionId: string, now: number): boolean {
    return this.ended.has(sessionId, now);
  }

  /** Marks a session ended at once (after a DELETE on this isolate). */
  markEnded(sessionId: string, now: number): void {
    this.ended.mark(sessionId, now);
  }

  /**
   * Records that `sessionId` of `eventId` was served `bytes`, and, when a report is due, returns the
   * promise of sending it (to hand to `waitUntil`). A report is due once per lease period; sooner (at
   * most every 2 s) while a session new on this isolate or many bytes are pending, because the gate
   * ends a grant that is not reported playing within its claim period (30 s by default). `tier` is where the
   * request was answered (absent: bytes of a request already counted, such as a chunked body that completed).
   */
  record(env: Env, eventId: string, sessionId: string, bytes: number, now: number, tier?: Tier): Promise<void> | null {
    let p = this.pending.get(eventId);
    if (!p) {
      // The first activity of an event on this isolate reports at once: it learns the lease length and any ended sessions.
      p = { sessions: new Set(), reported: new Set(), fresh: false, bytes: 0, served: { node: 0, memory: 0, cacheApi: 0, shield: 0, origin: 0 }, since: now, lastPeriodMs: 0, settled: false, lastReport: 0, leaseSeconds: 60, reporting: false };
      this.pending.set(eventId, p);
    }
    const interval = Math.min(MAX_REPORT_INTERVAL_MS, Math.max(MIN_REPORT_INTERVAL_MS, p.leaseSeconds * 1000));
    // After an idle spell longer than an interval (the gate no longer counts this isolate), bytes count from now.
    if (p.bytes === 0 && p.sessions.size === 0 && now - p.since > interval) {
      p.since = now;
      p.lastPeriodMs = 0;
      p.settled = false;
    }
    if (tier) p.served[tier]++;
    if (p.sessions.size < MAX_SESSIONS_PER_REPORT && !p.sessions.has(sessionId)) {
      p.sessions.add(sessionId);
      if (!p.reported.has(sessionId)) p.fresh = true;
    }
    p.bytes += bytes;
    const early = p.fresh || p.bytes >= EARLY_REPORT_BYTES;
    // The gate shows each isolate's rate over its last report's span: a first report covers one request, so
    // the next few come after twice the previous span (2 s, 4 s, 8 s) until a span is an eighth of the interval.
    const settling = !p.settled && now - p.since >= Math.max(MIN_REPORT_INTERVAL_MS, 2 * p.lastPeriodMs);
    const due = now - p.lastReport >= interval || ((early || settling) && now - p.lastReport >= MIN_REPORT_INTERVAL_MS);
    if (!due || p.reporting) return null;
    return this.flush(env, eventId, p, now, interval);
  }

  private async flush(env: Env, eventId: string, p: Pending, now: number, intervalMs: number): Promise<void> {
    const sessions = [...p.sessions];
    const bytes = p.bytes;
    const served = p.served;
    const since = p.since;
    const fresh = p.fresh;
    p.reported = p.sessions;
    p.sessions = new Set();
    p.fresh = false;
    p.bytes = 0;
    p.served = { node: 0, memory: 0, cacheApi: 0, shield: 0, origin: 0 };
    p.since = now;
    p.lastPeriodMs = now - since;
    if (p.lastPeriodMs >= intervalMs / 8) p.settled = true;
    p.lastReport = now;
    p.reporting = true;
    try {
      // The gate holds this isolate's rate and counts until its next report is due: `intervalMs` from now.
      const report = { activeSessionIds: sessions, bytes, source: "edge" as const, reporter: (this.reporter ??= randomId("iso")), periodMs: now - since, intervalMs, served };
      // A sharded event's sessions name their shard: the report is split over the gates that hold them.
      const result = await reportActivity(env, eventId, report);
      p.leaseSeconds = result.leaseSeconds;
      for (const id of result.expiredSessionIds) this.markEnded(id, now);
    } catch (err) {
      // The gate was unreachable: keep the activity for the next report rather than lose renewals.
      for (const s of sessions) p.sessions.add(s);
      if (fresh) p.fresh = true;
      p.bytes += bytes;
      for (const t of Object.keys(served) as Tier[]) p.served[t] += served[t];
      p.since = since;
      console.error("admission report failed", eventId, String(err));
    } finally {
      p.reporting = false;
    }
  }
}

/** The isolate's session watch. */
export const sessionWatch = new SessionWatch();
