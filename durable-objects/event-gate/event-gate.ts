// Per-event admission gate: session leases, egress budget, FIFO queue and overload switch of one event,
// a thin durable shell around the pure AdmissionModel (every decision lives there).
import { DurableObject } from "cloudflare:workers";
import {
  AdmissionModel,
  type AdmissionDecision,
  type AdmissionSnapshot,
  type EgressSource,
  type EndedRecord,
  type Limits,
  type LimitsInput,
  type MetaRecord,
  type ReleaseResult,
  type SessionRecord,
  type TicketRecord,
} from "./model";
import { randomId } from "../../workers/shared/ids";

export interface AdmitInput {
  ticket?: string;
  channelId: string;
  /** The channel's rendition bandwidths in bits/s, so an egress budget can cap the ladder. */
  renditionsBps?: number[];
  /** An invalid ticket joins at the back as a fresh arrival instead of being answered `invalid_ticket`. */
  rejoinIfInvalid?: boolean;
  /** Milliseconds; tests only. */
  now?: number;
}

/** One edge's (or stadium node's) batch: the sessions it served since its last report, and the bytes. */
export interface ReportInput {
  activeSessionIds: string[];
  bytes: number;
  source: EgressSource;
  now?: number;
}

/** What an edge keeps as its short-lived local copy until its next report. */
export interface ReportResult {
  /** Reported sessions that are not active (lease ended, released, or unknown): answer them 410. */
  expiredSessionIds: string[];
  overload: boolean;
  leaseSeconds: number;
}

/** Alarms are rounded up to whole seconds so sessions expiring close together share one alarm. */
const ALARM_GRANULARITY_MS = 1000;

const SCHEMA = [
  "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)",
  "CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, channel_id TEXT NOT NULL, ticket TEXT, granted_at INTEGER NOT NULL, last_seen INTEGER NOT NULL, max_bandwidth INTEGER, cost_bps REAL NOT NULL)",
  "CREATE TABLE IF NOT EXISTS ended (id TEXT PRIMARY KEY, ended_at INTEGER NOT NULL)",
  "CREATE TABLE IF NOT EXISTS tickets (ticket TEXT PRIMARY KEY, seq INTEGER NOT NULL, channel_id TEXT NOT NULL, retry_after_seconds INTEGER NOT NULL)",
];

export class EventGate extends DurableObject<Env> {
  private readonly model: AdmissionModel;
  private armedAt: number | null = null;
  /** Report calls received (what steady viewers cost the gate; operator stats), kept across restarts. */
  private reportCalls = { edge: 0, node: 0 };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const tokenTtlSeconds = Number(env.PLAYBACK_TOKEN_TTL_SECONDS);
    // Ended ids are remembered while their playback tokens could still be presented.
    this.model = new AdmissionModel({
      trackChanges: true,
      endedMemoryMs: 2 * (Number.isFinite(tokenTtlSeconds) && tokenTtlSeconds > 0 ? tokenTtlSeconds : 21_600) * 1000,
    });
    void ctx.blockConcurrencyWhile(async () => {
      this.load();
      this.armedAt = await ctx.storage.getAlarm();
      await this.commit();
    });
  }

  /** Sets the event's limits (the operator's PUT); absent limits are lifted. */
  async configure(limits: LimitsInput, now = Date.now()): Promise<Limits> {
    const result = this.model.configure(limits, now);
    await this.commit();
    return result;
  }

  /** A viewer asks for access (fresh, or polling with its ticket): granted, queued, or invalid_ticket (see `rejoinIfInvalid`). */
  async admit(input: AdmitInput): Promise<AdmissionDecision> {
    const decision = this.model.request({
      ticket: input.ticket,
      channelId: input.channelId,
      renditionsBps: input.renditionsBps,
      rejoinIfInvalid: input.rejoinIfInvalid,
      now: input.now ?? Date.now(),
      newTicket: () => randomId("tkt"),
      newSessionId: () => randomId("ses"),
    });
    await this.commit();
    return decision;
  }

  /** An edge's or node's batch: renews the reported leases and counts the bytes. */
  async report(input: ReportInput): Promise<ReportResult> {
    this.reportCalls[input.source === "node" ? "node" : "edge"]++;
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('report_calls', ?)", JSON.stringify(this.reportCalls));
    const now = input.now ?? Date.now();
    this.model.reportEgress({ source: input.source, bytes: input.bytes, now });
    const { ended } = this.model.activity({ sessionIds: input.activeSessionIds, now });
    await this.commit();
    return { expiredSessionIds: ended, overload: this.model.getOverload(), leaseSeconds: this.model.getLimits().leaseSeconds };
  }

  /** Ends a session at once (DELETE /sessions/{id}): "released", "ended" (already), or "unknown". */
  async release(sessionId: string, now = Date.now()): Promise<ReleaseResult> {
    const result = this.model.release(sessionId, now);
    await this.commit();
    return result;
  }

  async setOverload(enabled: boolean, now = Date.now()): Promise<boolean> {
    const result = this.model.setOverload(enabled, now);
    await this.commit();
    return result;
  }

  async getOverload(): Promise<boolean> {
    return this.model.getOverload();
  }

  /** The model's figures, plus the report calls this object has received. */
  async snapshot(now = Date.now()): Promise<AdmissionSnapshot & { reportCalls: { edge: number; node: number } }> {
    const result = this.model.snapshot(now);
    await this.commit();
    return { ...result, reportCalls: { ...this.reportCalls } };
  }

  /** Ends overdue leases and drops abandoned tickets; running it twice changes nothing more. */
  override async alarm(): Promise<void> {
    this.armedAt = null;
    this.model.expire(Date.now());
    await this.commit();
  }

  private load(): void {
    const sql = this.ctx.storage.sql;
    for (const statement of SCHEMA) sql.exec(statement);
    const meta = sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'state'").toArray()[0];
    const calls = sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'report_calls'").toArray()[0];
    if (calls) {
      const saved = JSON.parse(calls.v) as Partial<{ edge: number; node: number }>;
      this.reportCalls = { edge: saved.edge ?? 0, node: saved.node ?? 0 };
    }
    const sessions = sql
      .exec<{ id: string; channelId: string; ticket: string | null; grantedAt: number; lastSeen: number; maxBandwidth: number | null; costBps: number }>(
        "SELECT id, channel_id AS channelId, ticket, granted_at AS grantedAt, last_seen AS lastSeen, max_bandwidth AS maxBandwidth, cost_bps AS costBps FROM sessions",
      )
      .toArray() satisfies SessionRecord[];
    const ended = sql.exec<{ id: string; endedAt: number }>("SELECT id, ended_at AS endedAt FROM ended").toArray() satisfies EndedRecord[];
    const tickets = sql
      .exec<{ ticket: string; seq: number; channelId: string; retryAfterSeconds: number }>(
        "SELECT ticket, seq, channel_id AS channelId, retry_after_seconds AS retryAfterSeconds FROM tickets",
      )
      .toArray() satisfies TicketRecord[];
    this.model.restore({ meta: meta ? (JSON.parse(meta.v) as MetaRecord) : undefined, sessions, ended, tickets }, Date.now());
  }

  /** Writes what the last call changed in one transaction, then makes sure an alarm covers the next deadline. */
  private async commit(): Promise<void> {
    const changes = this.model.takeChanges();
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      for (const id of changes.sessions) {
        const record = this.model.sessionRecord(id);
        if (record && "active" in record) {
          const s = record.active;
          sql.exec(
            "INSERT OR REPLACE INTO sessions (id, channel_id, ticket, granted_at, last_seen, max_bandwidth, cost_bps) VALUES (?, ?, ?, ?, ?, ?, ?)",
            s.id, s.channelId, s.ticket, s.grantedAt, s.lastSeen, s.maxBandwidth, s.costBps,
          );
          continue;
        }
        sql.exec("DELETE FROM sessions WHERE id = ?", id);
        if (record) sql.exec("INSERT OR REPLACE INTO ended (id, ended_at) VALUES (?, ?)", id, record.ended.endedAt);
        else sql.exec("DELETE FROM ended WHERE id = ?", id);
      }
      for (const ticket of changes.tickets) {
        const t = this.model.ticketRecord(ticket);
        if (t) sql.exec("INSERT OR REPLACE INTO tickets (ticket, seq, channel_id, retry_after_seconds) VALUES (?, ?, ?, ?)", t.ticket, t.seq, t.channelId, t.retryAfterSeconds);
        else sql.exec("DELETE FROM tickets WHERE ticket = ?", ticket);
      }
      if (changes.meta) sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('state', ?)", JSON.stringify(this.model.metaRecord()));
    });
    // Only while leases or tickets exist; an earlier alarm already armed covers a later deadline (it re-arms).
    const next = this.model.nextWakeAt();
    if (next === null) return;
    const at = Math.ceil(next / ALARM_GRANULARITY_MS) * ALARM_GRANULARITY_MS;
    if (this.armedAt !== null && this.armedAt <= at) return;
    await this.ctx.storage.setAlarm(at);
    this.armedAt = at;
  }
}
