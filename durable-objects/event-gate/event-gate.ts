// Per-event admission gate: session leases, egress budget, FIFO queue and overload switch of one event,
// a thin durable shell around the pure AdmissionModel (every decision lives there).
import { DurableObject } from "cloudflare:workers";
import { AdmissionModel, type AdmissionDecision, type AdmissionSnapshot, type EgressSource, type Limits, type LimitsInput, type ReleaseResult, type SessionRecord } from "./model";
import { loadState, writeChanges } from "./storage";
import { rateHoldMs, reportSpanOf } from "./meter";
import { ServedTiers, hitRatio, type TierCounts } from "./served";
import { randomId } from "../../workers/shared/ids";

export interface AdmitInput {
  ticket?: string;
  channelId: string;
  /** The channel's rendition bandwidths in bits/s, so an egress budget can cap the ladder. */
  renditionsBps?: number[];
  /** An invalid ticket joins at the back as a fresh arrival instead of being answered `invalid_ticket`. */
  rejoinIfInvalid?: boolean;
  /** The signed-in viewer asking, if any (the per-viewer limit). */
  viewerId?: string;
  /** The anonymous viewer's client address (the per-address limit); not given for a signed-in viewer. */
  address?: string;
  /** Milliseconds; tests only. */
  now?: number;
}

/** One edge's (or stadium node's) batch: the sessions it served since its last report, and the bytes. */
export interface ReportInput {
  activeSessionIds: string[];
  bytes: number;
  source: EgressSource;
  /**
   * The edge isolate's or node's id, the milliseconds its bytes and requests were served over, and when its next
   * report is due at the latest: its bytes then stand as its rate until then (see EgressMeter). Without them the
   * bytes count in a 30 s window.
   */
  reporter?: string;
  periodMs?: number;
  intervalMs?: number;
  /** Viewer requests answered since the previous report, by the tier that answered them (durable-objects/event-gate/served.ts). */
  served?: Partial<TierCounts>;
  now?: number;
}

/** What edges and nodes reported they served: requests by tier (their last periods, and totals) and bytes in total. */
export interface ServedSnapshot {
  cacheHitRatio: number | null;
  requestsByTier: TierCounts;
  requestsByTierTotal: TierCounts;
  egressBytesTotal: number;
}

/** What an edge keeps as its short-lived local copy until its next report. */
export interface ReportResult {
  /** Reported sessions that are not active (lease ended, released, or unknown): answer them 410. */
  expiredSessionIds: string[];
  overload: boolean;
  leaseSeconds: number;
}

/** An active session as the operator lists it: where it plays is the source of its latest report, null before any. */
export interface SessionListing extends SessionRecord {
  playsOn: EgressSource | null;
}

/** Alarms are rounded up to whole seconds so sessions expiring close together share one alarm. */
const ALARM_GRANULARITY_MS = 1000;

export class EventGate extends DurableObject<Env> {
  private readonly model: AdmissionModel;
  private armedAt: number | null = null;
  /** Report calls received (what steady viewers cost the gate; operator stats), kept across restarts. */
  private reportCalls = { edge: 0, node: 0 };
  /** Requests by tier and bytes, in memory only: after a restart the next reports refill the recent figures. */
  private readonly served = new ServedTiers();
  private egressBytesTotal = 0;
  /** Where each session was last reported playing (edge or stadium node), in memory only: the operator's list says "unknown" after a restart until the next report. */
  private readonly playsOn = new Map<string, EgressSource>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const tokenTtlSeconds = Number(env.PLAYBACK_TOKEN_TTL_SECONDS);
    // Ended ids are remembered while their playback tokens could still be presented.
    this.model = new AdmissionModel({
      trackChanges: true,
      endedMemoryMs: 2 * (Number.isFinite(tokenTtlSeconds) && tokenTtlSeconds > 0 ? tokenTtlSeconds : 21_600) * 1000,
    });
    void ctx.blockConcurrencyWhile(async () => {
      const { state, reportCalls } = loadState(ctx.storage.sql);
      this.reportCalls = reportCalls;
      this.model.restore(state, Date.now());
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

  /** A viewer asks for access (fresh, or polling with its ticket): granted, queued, invalid_ticket (see `rejoinIfInvalid`) or address_limit. */
  async admit(input: AdmitInput): Promise<AdmissionDecision> {
    const decision = this.model.request({
      ticket: input.ticket,
      channelId: input.channelId,
      renditionsBps: input.renditionsBps,
      rejoinIfInvalid: input.rejoinIfInvalid,
      viewerId: input.viewerId,
      address: input.address,
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
    const span = reportSpanOf(input);
    this.model.reportEgress({ source: input.source, bytes: input.bytes, now, ...(span ? { span } : {}) });
    if (Number.isFinite(input.bytes) && input.bytes > 0) this.egressBytesTotal += input.bytes;
    if (input.served) this.served.add(span ? `${input.source}:${span.reporter}` : null, input.served, now, rateHoldMs(span?.intervalMs ?? 0));
    const { ended } = this.model.activity({ sessionIds: input.activeSessionIds, now });
    for (const id of input.activeSessionIds) this.playsOn.set(id, input.source);
    for (const id of ended) this.playsOn.delete(id);
    // Sessions that ended by expiry are dropped here now and then, so the map stays the size of the live crowd.
    if (this.playsOn.size > 2 * this.model.snapshot(now).activeSessions + 1000) this.prunePlaysOn(now);
    await this.commit();
    return { expiredSessionIds: ended, overload: this.model.getOverload(), leaseSeconds: this.model.getLimits().leaseSeconds };
  }

  /** Ends a session at once (DELETE /sessions/{id}): "released", "ended" (already), or "unknown". */
  async release(sessionId: string, now = Date.now()): Promise<ReleaseResult> {
    const result = this.model.release(sessionId, now);
    await this.commit();
    return result;
  }

  /** The event's active sessions, oldest first, with where each plays (the operator's list). */
  async sessions(now = Date.now()): Promise<SessionListing[]> {
    const active = this.model.activeSessions(now);
    await this.commit();
    this.prunePlaysOn(now, active);
    return active.map((s) => ({ ...s, playsOn: this.playsOn.get(s.id) ?? null }));
  }

  private prunePlaysOn(now: number, active = this.model.activeSessions(now)): void {
    const live = new Set(active.map((s) => s.id));
    for (const id of this.playsOn.keys()) if (!live.has(id)) this.playsOn.delete(id);
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
  async snapshot(now = Date.now()): Promise<AdmissionSnapshot & { reportCalls: { edge: number; node: number }; served: ServedSnapshot }> {
    const result = this.model.snapshot(now);
    await this.commit();
    const recent = this.served.recent(now);
    const served = { cacheHitRatio: hitRatio(recent), requestsByTier: recent, requestsByTierTotal: this.served.total(), egressBytesTotal: this.egressBytesTotal };
    return { ...result, reportCalls: { ...this.reportCalls }, served };
  }

  /** Ends overdue leases and drops abandoned tickets; running it twice changes nothing more. */
  override async alarm(): Promise<void> {
    this.armedAt = null;
    this.model.expire(Date.now());
    await this.commit();
  }

  /** Writes what the last call changed in one transaction, then makes sure an alarm covers the next deadline. */
  private async commit(): Promise<void> {
    const changes = this.model.takeChanges();
    this.ctx.storage.transactionSync(() => writeChanges(this.ctx.storage.sql, this.model, changes));
    // Only while leases or tickets exist; an earlier alarm already armed covers a later deadline (it re-arms).
    const next = this.model.nextWakeAt();
    if (next === null) return;
    const at = Math.ceil(next / ALARM_GRANULARITY_MS) * ALARM_GRANULARITY_MS;
    if (this.armedAt !== null && this.armedAt <= at) return;
    await this.ctx.storage.setAlarm(at);
    this.armedAt = at;
  }
}
