// One admission shard of an event with `shards` > 1: a thin shell around the pure ShardGate
// (event-gate/shards.ts), which grants only from the slots the event's AdmissionCoordinator gave it.
import { DurableObject } from "cloudflare:workers";
import { EgressMeter, reportSpanOf } from "../event-gate/meter";
import { DEFAULT_CLAIM_SECONDS, DEFAULT_LEASE_SECONDS, EGRESS_WINDOW_SECONDS, reportAllowanceMs, type AdmissionDecision, type ReleaseResult } from "../event-gate/model";
import { COORDINATOR_INTERVAL_MS, ShardGate, type ShardDecision, type ShardMetaRecord, type ShardOrder, type ShardReport, type ShardSessionRecord, type ShardTicketRecord } from "../event-gate/shards";
import { shardSessionId, shardTicket } from "../event-gate/shard-ids";
import { randomId } from "../../workers/shared/ids";
import type { ReportInput, ReportResult } from "../event-gate/event-gate";
import { admissionCoordinator } from "../event-gate/client";

/** Which shard of which event an object is: every call names it, since an object cannot read its own name. */
export interface ShardAddress {
  eventId: string;
  shard: number;
}

/** What the coordinator sends with every call: the settings every shard runs with. */
export interface ShardSettings {
  leaseSeconds: number;
  /** A grant not reported playing within this many seconds ends. */
  claimSeconds: number;
}

/** A shard's report plus what the coordinator sums for the operator: egress and report calls. */
export interface ShardCounts extends ShardReport {
  egressBpsEdge: number;
  egressBpsNodes: number;
  reportCalls: { edge: number; node: number };
}

export interface ShardAdmitInput extends ShardAddress {
  ticket?: string;
  /** Milliseconds; tests only. */
  now?: number;
}

/** Without a coordinator round for this long, the shard asks for one before it queues an arrival. */
const STALE_VIEW_MS = COORDINATOR_INTERVAL_MS + 500;

const SCHEMA = [
  "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)",
  "CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, last_seen INTEGER NOT NULL, granted_at INTEGER NOT NULL, claimed INTEGER NOT NULL)",
  "CREATE TABLE IF NOT EXISTS tickets (ticket TEXT PRIMARY KEY, seq INTEGER NOT NULL, arrived_at INTEGER NOT NULL, retry_after_seconds INTEGER NOT NULL, reserved INTEGER NOT NULL)",
];

/** The object's own settings beside the model's meta record. */
interface ObjectMeta {
  leaseSeconds: number;
  claimSeconds: number;
  reportCalls: { edge: number; node: number };
}

export class EventGateShard extends DurableObject<Env> {
  private gate: ShardGate | null = null;
  private leaseSeconds = DEFAULT_LEASE_SECONDS;
  private claimSeconds = DEFAULT_CLAIM_SECONDS;
  private readonly meter = new EgressMeter(EGRESS_WINDOW_SECONDS);
  private reportCalls = { edge: 0, node: 0 };
  /** The wake-up in flight, so a burst of arrivals on an idle event asks the coordinator once. */
  private waking: Promise<void> | null = null;

  /** Sessions and tickets are kept in SQLite, written through after every call, and restored on start. */
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      const sql = ctx.storage.sql;
      for (const statement of SCHEMA) sql.exec(statement);
      const read = (k: string) => sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = ?", k).toArray()[0]?.v;
      const object = read("object");
      if (object) {
        const saved = JSON.parse(object) as ObjectMeta;
        this.leaseSeconds = saved.leaseSeconds;
        this.claimSeconds = saved.claimSeconds ?? DEFAULT_CLAIM_SECONDS;
        this.reportCalls = saved.reportCalls;
      }
      const state = read("state");
      if (!state) return;
      const meta = JSON.parse(state) as ShardMetaRecord;
      const sessions = sql
        .exec<{ id: string; lastSeen: number; grantedAt: number; claimed: number }>("SELECT id, last_seen AS lastSeen, granted_at AS grantedAt, claimed FROM sessions")
        .toArray()
        .map((r): ShardSessionRecord => ({ ...r, claimed: r.claimed !== 0 }));
      const tickets = sql
        .exec<{ ticket: string; seq: number; arrivedAt: number; retryAfterSeconds: number; reserved: number }>(
          "SELECT ticket, seq, arrived_at AS arrivedAt, retry_after_seconds AS retryAfterSeconds, reserved FROM tickets",
        )
        .toArray()
        .map((r): ShardTicketRecord => ({ ...r, reserved: r.reserved !== 0 }));
      this.gate = new ShardGate(meta.shard, { trackChanges: true });
      this.gate.restore({ meta, sessions, tickets }, Date.now());
      this.commit();
    });
  }

  /**
   * A viewer's first access, or a queued viewer's poll. A ticket this shard does not know (dropped
   * out, or issued before the object restarted) joins at the back as a fresh arrival. When the
   * coordinator has not run lately (an idle event), the shard wakes it and answers after its round.
   */
  async admit(input: ShardAdmitInput): Promise<AdmissionDecision> {
    const gate = this.gateOf(input);
    let decision = this.decide(gate, input, input.now ?? Date.now());
    this.commit();
    const view = gate.published;
    const now = input.now ?? Date.now();
    if (decision.status === "queued" && view.reportedAt + STALE_VIEW_MS <= now) {
      await this.wake(input.eventId);
      const again = gate.poll({ ticket: decision.ticket, now: input.now ?? Date.now(), newSessionId: () => shardSessionId(randomId("ses"), input.shard) });
      this.commit();
      if (again.status !== "invalid_ticket") decision = again;
    }
    return this.answer(decision);
  }

  /** An edge's or stadium node's batch for this shard's sessions: renews their leases and counts the bytes. */
  async report(input: ShardAddress & ReportInput): Promise<ReportResult> {
    const gate = this.gateOf(input);
    const now = input.now ?? Date.now();
    this.reportCalls[input.source === "node" ? "node" : "edge"]++;
    // A reporter that names itself: its share of bytes stands as its rate here until its next report is due (meter.ts).
    const span = reportSpanOf(input);
    if (input.bytes > 0 || (span && input.bytes === 0)) this.meter.add(input.source, input.bytes, now, span ?? undefined);
    const expiredSessionIds = gate.renew(input.activeSessionIds, now);
    this.commit();
    return { expiredSessionIds, overload: gate.published.overload, leaseSeconds: this.leaseSeconds };
  }

  /** Ends a session at once: "released", or "unknown" (ended before, or never granted here). */
  async release(input: ShardAddress & { sessionId: string; now?: number }): Promise<ReleaseResult> {
    const released = this.gateOf(input).release(input.sessionId, input.now ?? Date.now());
    this.commit();
    return released ? "released" : "unknown";
  }

  /** The coordinator reads the shard's counts (this also ends overdue leases and drops abandoned tickets). */
  async counts(input: ShardAddress & ShardSettings & { now?: number }): Promise<ShardCounts> {
    const gate = this.gateOf(input);
    const now = input.now ?? Date.now();
    this.configure(gate, input, now);
    const report = gate.report(now);
    this.commit();
    return this.withFigures(report, now);
  }

  /** The coordinator's order: the slots to hold and the view (horizon, overload, the others' queue). */
  async apply(input: ShardAddress & ShardSettings & { order: ShardOrder; now?: number }): Promise<ShardCounts> {
    const gate = this.gateOf(input);
    const now = input.now ?? Date.now();
    this.configure(gate, input, now);
    const report = gate.apply(input.order, now);
    this.commit();
    return this.withFigures(report, now);
  }

  private gateOf(at: ShardAddress): ShardGate {
    if (!this.gate) {
      this.gate = new ShardGate(at.shard, { trackChanges: true });
      this.gate.setLeaseMs(this.leaseMs(), Date.now());
      this.gate.setClaimMs(this.claimSeconds * 1000, Date.now());
    } else if (this.gate.shard !== at.shard) throw new Error(`shard object ${this.gate.shard} was called as shard ${at.shard}`);
    return this.gate;
  }

  /** Writes the sessions and tickets the last call changed, and the meta records, in one transaction. */
  private commit(): void {
    const gate = this.gate;
    if (!gate) return;
    const changes = gate.takeChanges();
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      for (const id of changes.sessions) {
        const r = gate.sessionRecord(id);
        if (r) sql.exec("INSERT OR REPLACE INTO sessions (id, last_seen, granted_at, claimed) VALUES (?, ?, ?, ?)", r.id, r.lastSeen, r.grantedAt, r.claimed ? 1 : 0);
        else sql.exec("DELETE FROM sessions WHERE id = ?", id);
      }
      for (const ticket of changes.tickets) {
        const r = gate.ticketRecord(ticket);
        if (r) {
          sql.exec(
            "INSERT OR REPLACE INTO tickets (ticket, seq, arrived_at, retry_after_seconds, reserved) VALUES (?, ?, ?, ?, ?)",
            r.ticket, r.seq, r.arrivedAt, r.retryAfterSeconds, r.reserved ? 1 : 0,
          );
        } else sql.exec("DELETE FROM tickets WHERE ticket = ?", ticket);
      }
      sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('state', ?)", JSON.stringify(gate.metaRecord()));
      const object: ObjectMeta = { leaseSeconds: this.leaseSeconds, claimSeconds: this.claimSeconds, reportCalls: this.reportCalls };
      sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('object', ?)", JSON.stringify(object));
    });
  }

  private configure(gate: ShardGate, settings: ShardSettings, now: number): void {
    if (settings.leaseSeconds !== this.leaseSeconds) {
      this.leaseSeconds = settings.leaseSeconds;
      gate.setLeaseMs(this.leaseMs(), now);
    }
    if (settings.claimSeconds !== this.claimSeconds) {
      this.claimSeconds = settings.claimSeconds;
      gate.setClaimMs(this.claimSeconds * 1000, now);
    }
  }

  /** A session ends this long after its last renewal: the lease plus the allowance for a report in flight, as in the unsharded gate. */
  private leaseMs(): number {
    return this.leaseSeconds * 1000 + reportAllowanceMs(this.leaseSeconds);
  }

  private decide(gate: ShardGate, input: ShardAdmitInput, now: number): ShardDecision {
    const newSessionId = () => shardSessionId(randomId("ses"), input.shard);
    if (input.ticket !== undefined) {
      const polled = gate.poll({ ticket: input.ticket, now, newSessionId });
      if (polled.status !== "invalid_ticket") return polled;
    }
    return gate.arrive({ now, newTicket: (arrivedAt) => shardTicket(randomId("tkt"), input.shard, arrivedAt), newSessionId });
  }

  private answer(d: ShardDecision): AdmissionDecision {
    if (d.status === "granted") return { status: "granted", sessionId: d.sessionId, leaseSeconds: this.leaseSeconds };
    if (d.status === "queued") {
      return { status: "queued", ticket: d.ticket, position: d.position, estimatedWaitSeconds: d.estimatedWaitSeconds, retryAfterSeconds: d.retryAfterSeconds };
    }
    return d;
  }

  private wake(eventId: string): Promise<void> {
    this.waking ??= admissionCoordinator(this.env, eventId)
      .wake()
      .then(
        () => undefined,
        (err: unknown) => console.error("coordinator wake failed", eventId, String(err)),
      )
      .finally(() => (this.waking = null));
    return this.waking;
  }

  private withFigures(report: ShardReport, now: number): ShardCounts {
    return { ...report, egressBpsEdge: this.meter.bps("edge", now), egressBpsNodes: this.meter.bps("node", now), reportCalls: { ...this.reportCalls } };
  }
}
