// Admission decisions of one event as a pure state machine: session leases, the egress budget, the
// FIFO waiting queue and the overload switch. Every call takes `now` (ms); no timers, I/O or randomness.
import { holderOf, Holdings, isViewer, type Holder } from "./holdings";
import { EgressMeter, RampReservation, type EgressSource, type ReportSpan } from "./meter";
import { OrderedList, type Link } from "./order";
import { RankIndex } from "./rank";

export type { EgressSource, ReportSpan } from "./meter";
export type { Holder } from "./holdings";

export const DEFAULT_LEASE_SECONDS = 60;
/** A grant not reported playing within this long ends: an unused playback URL holds no slot for a whole lease. */
export const DEFAULT_CLAIM_SECONDS = 30;
/** Sessions one signed-in viewer holds per event (a phone and a TV); a grant beyond it ends the oldest. */
export const DEFAULT_MAX_SESSIONS_PER_VIEWER = 2;
/**
 * Edges report each session once per lease period (so a steady viewer costs the gate at most one
 * call per lease, however few viewers share an edge isolate). A report names the sessions that
 * played since the previous one, and the next report only goes out with the first request after it
 * is due; so a lease runs this much past `leaseSeconds` from the last report naming it, to cover
 * that report in flight. The result: a viewer that stops is freed between this allowance and
 * `leaseSeconds` plus this allowance after its last request.
 */
export function reportAllowanceMs(leaseSeconds: number): number {
  return Math.max(5_000, (leaseSeconds * 1000) / 2);
}
/** Reported bytes are averaged over this window; a new session's estimated cost fades out over it. */
export const EGRESS_WINDOW_SECONDS = 30;
/** Until any slot has been seen to free, the wait estimate assumes a session lasts this long. */
export const ASSUMED_SESSION_SECONDS = 600;
/** Time constant of the observed admission rate (an exponentially weighted rate over about a minute). */
const RATE_TAU_MS = 60_000;
const MAX_ESTIMATE_SECONDS = 86_400;
const MAX_LADDER = 32;

export interface LimitsInput {
  maxSessions?: number;
  maxEgressMbps?: number;
  leaseSeconds?: number;
  maxSessionsPerViewer?: number;
  maxSessionsPerAddress?: number;
  claimSeconds?: number;
}

export interface Limits {
  /** Concurrent sessions; absent means no limit. */
  maxSessions?: number;
  /** Total egress (edges plus stadium nodes) in megabits per second; absent means no limit. */
  maxEgressMbps?: number;
  leaseSeconds: number;
  /** Sessions (and, apart, queue tickets) one signed-in viewer holds; a new one beyond it ends the viewer's oldest. */
  maxSessionsPerViewer: number;
  /** Anonymous sessions plus queue tickets one client address holds; absent means no limit (stadium NATs). */
  maxSessionsPerAddress?: number;
  /** A grant not reported playing within this many seconds ends. */
  claimSeconds: number;
}

export interface AdmissionRequest {
  /** The ticket from an earlier `queued` answer; absent for a fresh arrival. */
  ticket?: string;
  channelId: string;
  now: number;
  /** Called when a fresh arrival needs a ticket; must return an unguessable, unique string. */
  newTicket: () => string;
  /** Called once when a session is granted; must return a unique string. */
  newSessionId: () => string;
  /** The channel's rendition bandwidths (BANDWIDTH of each variant), in bits per second. */
  renditionsBps?: readonly number[];
  /** With a ticket that is invalid: join at the back as a fresh arrival rather than answer `invalid_ticket`. */
  rejoinIfInvalid?: boolean;
  /** The signed-in viewer asking, if any: its sessions and tickets count against `maxSessionsPerViewer`. */
  viewerId?: string;
  /** The client address of an anonymous viewer: its sessions and tickets count against `maxSessionsPerAddress`. */
  address?: string;
}

export type AdmissionDecision =
  | {
      status: "granted";
      sessionId: string;
      leaseSeconds: number;
      /** Present when the egress budget caps the ladder: serve only renditions at or below it. */
      maxBandwidth?: number;
    }
  | { status: "queued"; ticket: string; position: number; estimatedWaitSeconds: number; retryAfterSeconds: number }
  /** Unknown, dropped out, or bound to another channel (never with `rejoinIfInvalid`). */
  | { status: "invalid_ticket" }
  /** A fresh anonymous arrival from an address that holds `limit` places, none of them a ticket for this channel. */
  | { status: "address_limit"; limit: number };

export type SessionState = "active" | "expired" | "unknown";
export type ReleaseResult = "released" | "ended" | "unknown";

export interface AdmissionSnapshot {
  activeSessions: number;
  queued: number;
  egressBps: number;
  egressBpsEdge: number;
  egressBpsNodes: number;
  /** Estimated bits/s of sessions granted within the last window, not yet visible in reports. */
  reservedBps: number;
  admittedTotal: number;
  overload: boolean;
  limits: Limits;
}

export interface ModelOptions {
  /** How long ended session ids are remembered ("expired" rather than "unknown"). Default 12 h. */
  endedMemoryMs?: number;
  /** At most this many ended session ids are remembered. Default 200,000. */
  endedMemoryMax?: number;
  /** Record which sessions, tickets and meta changed, for `takeChanges()` (the Durable Object's write-through). */
  trackChanges?: boolean;
}

/** What a persisted store holds; see `records*()` and `restore()`. */
export interface SessionRecord {
  id: string;
  channelId: string;
  ticket: string | null;
  grantedAt: number;
  lastSeen: number;
  maxBandwidth: number | null;
  costBps: number;
  /** The viewer or anonymous address it counts against; null when neither was given. */
  holder: Holder | null;
  /** Reported playing at least once (until then it ends `claimSeconds` after its grant). */
  claimed: boolean;
}
export interface EndedRecord {
  id: string;
  endedAt: number;
}
export interface TicketRecord {
  ticket: string;
  seq: number;
  channelId: string;
  retryAfterSeconds: number;
  holder: Holder | null;
}
interface Rate {
  value: number;
  at: number;
}
export interface MetaRecord {
  limits: Limits;
  overload: boolean;
  clock: number;
  admittedTotal: number;
  nextSeq: number;
  promisedThrough: number;
  freeRate: Rate;
  queueRate: Rate;
  ladders: Record<string, number[]>;
}
export interface PersistedState {
  meta?: MetaRecord;
  sessions: SessionRecord[];
  ended: EndedRecord[];
  tickets: TicketRecord[];
}
export interface Changes {
  sessions: string[];
  tickets: string[];
  meta: boolean;
}

interface Session extends SessionRecord {
  persistedSeen: number;
  link: Link<Session> | null;
  /** Its place in the unclaimed list while it has not been reported playing. */
  claimLink: Link<Session> | null;
}
interface Ticket {
  ticket: string;
  seq: number;
  channelId: string;
  lastPoll: number;
  retryAfterSeconds: number;
  holder: Holder | null;
  link: Link<Ticket> | null;
}

/**
 * Seconds a queued viewer waits before asking again: short near the head, longer further back.
 * At least 3 s: a ticket drops out after twice this without a poll, and a burst of thousands of
 * arrivals can take a few seconds to answer, so the head of the queue needs that margin.
 */
export function retryAfterFor(position: number): number {
  if (position <= 10) return 3;
  if (position <= 100) return 4;
  if (position <= 1000) return 5;
  return 6;
}

/**
 * One event's admission state.
 *
 * Queue rule: a ticket at position p is granted when the switch is off, p ≤ free session slots, and
 * (with an egress limit) p × unit ≤ remaining budget, where unit is the highest lowest-rendition
 * bandwidth among the channels with queued tickets. Granting position p promises every earlier
 * ticket its slot: they are granted at their next poll even if the egress measurement rose since.
 * So no ticket is ever admitted while an earlier live ticket would be refused.
 *
 * Egress estimate: committed = measured bits/s (edges + nodes over the last 30 s) + each session
 * granted in the last 30 s at its chosen rendition's bandwidth, fading linearly to zero as its own
 * bytes fill the window. A channel without a known ladder costs the mean measured bits/s per session.
 *
 * Hoarding rules: a grant not reported playing within `claimSeconds` ends. A signed-in viewer holds at
 * most `maxSessionsPerViewer` sessions: asking again at the limit ends its oldest and grants at once,
 * ahead of the queue, because the viewer already held that slot (a viewer switching devices is never
 * locked out); its tickets are capped alike, a new one dropping its oldest. An anonymous client address
 * holds at most `maxSessionsPerAddress` places (sessions plus tickets): a fresh arrival beyond it gets
 * back its own ticket for the channel, or `address_limit` when it has none. A live ticket's poll is
 * never refused; a ticket turning into a session keeps the address's count.
 */
export class AdmissionModel {
  private limits: Limits = withDefaults({});
  private overload = false;
  private clock = 0;
  private admittedTotal = 0;
  private nextSeq = 1;
  /** Tickets with a lower sequence number than this were promised a slot by a later grant. */
  private promisedThrough = 0;
  private freeRate: Rate = { value: 0, at: 0 };
  private queueRate: Rate = { value: 0, at: 0 };

  private readonly sessions = new Map<string, Session>();
  /** Active sessions in order of last activity (a renewal moves one to the back): expiry looks at the front only. */
  private readonly byActivity = new OrderedList<Session>();
  /** Sessions not yet reported playing, in grant order: the claim deadline looks at the front only. */
  private readonly unclaimed = new OrderedList<Session>();
  private readonly holdings = new Holdings<Session, Ticket>();
  /** Ended session ids → when they ended; `endedOrder` holds them oldest first for forgetting. */
  private readonly ended = new Map<string, number>();
  private endedOrder: { id: string; at: number }[] = [];
  private endedHead = 0;
  /** Tickets that were granted → their session, so a lost 200 retried with the ticket gets the same session. */
  private readonly grantedTickets = new Map<string, string>();
  /** Waiting tickets by ticket string; their FIFO order is their sequence number (see `rank`). */
  private readonly tickets = new Map<string, Ticket>();
  /** Waiting tickets per retry interval, each in order of last poll: drop-out looks at the fronts only. */
  private readonly lanes = new Map<number, OrderedList<Ticket>>();
  private readonly queuedPerChannel = new Map<string, number>();
  private readonly ladders = new Map<string, number[]>();
  private readonly rank = new RankIndex(() => Array.from(this.tickets.values(), (t) => t.seq));
  private readonly meter = new EgressMeter(EGRESS_WINDOW_SECONDS);
  private readonly ramp = new RampReservation(EGRESS_WINDOW_SECONDS * 1000);

  private readonly endedMemoryMs: number;
  private readonly endedMemoryMax: number;
  private readonly track: boolean;
  private dirtySessions = new Set<string>();
  private dirtyTickets = new Set<string>();
  private dirtyMeta = false;

  constructor(options: ModelOptions = {}) {
    this.endedMemoryMs = options.endedMemoryMs ?? 12 * 3600_000;
    this.endedMemoryMax = options.endedMemoryMax ?? 200_000;
    this.track = options.trackChanges ?? false;
  }

  /** Replaces the event's limits (absent limits are lifted). Throws RangeError on nonsense values. */
  configure(input: LimitsInput, now: number): Limits {
    this.tick(now);
    const { maxSessions, maxEgressMbps, maxSessionsPerAddress } = input;
    const limits = withDefaults(input);
    const whole = (n: number | undefined, min: number) => n === undefined || (Number.isInteger(n) && n >= min);
    if (!whole(maxSessions, 0)) throw new RangeError("maxSessions must be a whole number ≥ 0");
    if (maxEgressMbps !== undefined && !(Number.isFinite(maxEgressMbps) && maxEgressMbps >= 0)) throw new RangeError("maxEgressMbps must be a number ≥ 0");
    if (!whole(limits.leaseSeconds, 1)) throw new RangeError("leaseSeconds must be a whole number ≥ 1");
    if (!whole(limits.claimSeconds, 1)) throw new RangeError("claimSeconds must be a whole number ≥ 1");
    if (!whole(limits.maxSessionsPerViewer, 1)) throw new RangeError("maxSessionsPerViewer must be a whole number ≥ 1");
    if (!whole(maxSessionsPerAddress, 1)) throw new RangeError("maxSessionsPerAddress must be a whole number ≥ 1");
    this.limits = limits;
    this.markMeta();
    this.tick(now);
    return { ...this.limits };
  }

  getLimits(): Limits {
    return { ...this.limits };
  }

  /**
   * A viewer asks for access: a fresh arrival (no ticket) or a queued viewer polling with its ticket.
   * An invalid ticket (unknown, dropped out, or another channel's) is answered `invalid_ticket`, or with
   * `rejoinIfInvalid` the viewer joins at the back as a fresh arrival, in the same call.
   */
  request(req: AdmissionRequest): AdmissionDecision {
    const now = this.tick(req.now);
    if (req.renditionsBps) this.learnLadder(req.channelId, req.renditionsBps);
    if (req.ticket !== undefined) {
      const polled = this.poll(req.ticket, req.channelId, now, req.newSessionId);
      if (polled.status !== "invalid_ticket" || !req.rejoinIfInvalid) return polled;
    }
    const holder = holderOf(req.viewerId, req.address);
    const { maxSessionsPerViewer, maxSessionsPerAddress } = this.limits;
    if (isViewer(holder)) {
      // Room for the new ticket within the limit: the viewer's oldest tickets drop out.
      const tickets = this.holdings.tickets(holder);
      for (const old of tickets.slice(0, Math.max(0, tickets.length - maxSessionsPerViewer + 1))) this.removeTicket(old);
    } else if (holder !== null && maxSessionsPerAddress !== undefined && this.holdings.places(holder) >= maxSessionsPerAddress) {
      const own = this.holdings.tickets(holder).find((t) => t.channelId === req.channelId);
      return own ? this.decide(own, now, false, req.newSessionId) : { status: "address_limit", limit: maxSessionsPerAddress };
    }
    const ticket = req.newTicket();
    if (this.tickets.has(ticket) || this.grantedTickets.has(ticket)) throw new Error("newTicket returned a ticket already in use");
    const seq = this.nextSeq++;
    this.rank.add(seq);
    const t: Ticket = { ticket, seq, channelId: req.channelId, lastPoll: now, retryAfterSeconds: 0, holder, link: null };
    this.tickets.set(ticket, t);
    this.holdings.addTicket(t);
    this.queuedPerChannel.set(t.channelId, (this.queuedPerChannel.get(t.channelId) ?? 0) + 1);
    this.markMeta();
    const decision = this.decide(t, now, true, req.newSessionId);
    if (decision.status === "queued") this.markTicket(ticket);
    return decision;
  }

  /** Renews the leases of sessions an edge saw playing; returns those that are not active (ended or unknown). */
  activity(input: { sessionIds: readonly string[]; now: number }): { ended: string[] } {
    const now = this.tick(input.now);
    const quarterLease = (this.limits.leaseSeconds * 1000) / 4;
    const ended: string[] = [];
    for (const id of input.sessionIds) {
      const s = this.sessions.get(id);
      if (!s) {
        ended.push(id);
        continue;
      }
      if (!s.claimed) {
        s.claimed = true;
        if (s.claimLink) this.unclaimed.unlink(s.claimLink);
        s.claimLink = null;
        this.markSession(id);
      }
      if (now > s.lastSeen) {
        s.lastSeen = now;
        if (s.link) this.byActivity.unlink(s.link);
        s.link = this.byActivity.push(s);
        // Persisting every renewal would write each session every few seconds; a quarter lease is enough (see restore).
        if (now - s.persistedSeen >= quarterLease) {
          s.persistedSeen = now;
          this.markSession(id);
        }
      }
    }
    return { ended };
  }

  /** Counts bytes served since the reporter's previous report (a named reporter's 0 bytes is a rate of 0). */
  reportEgress(input: { source: EgressSource; bytes: number; now: number; span?: ReportSpan }): void {
    const now = this.tick(input.now);
    if (Number.isFinite(input.bytes) && (input.bytes > 0 || (input.span && input.bytes === 0))) this.meter.add(input.source, input.bytes, now, input.span);
  }

  /** Ends a session at once, freeing its slot. */
  release(sessionId: string, now: number): ReleaseResult {
    const t = this.tick(now);
    const s = this.sessions.get(sessionId);
    if (s) {
      this.endSession(s, t);
      return "released";
    }
    return this.ended.has(sessionId) ? "ended" : "unknown";
  }

  /** Ends leases not renewed for leaseSeconds plus the report allowance and drops tickets not polled for twice their retry interval. */
  expire(now: number): { sessions: string[]; tickets: string[] } {
    const expired: string[] = [];
    const dropped: string[] = [];
    this.tick(now, expired, dropped);
    return { sessions: expired, tickets: dropped };
  }

  sessionState(sessionId: string, now: number): SessionState {
    this.tick(now);
    if (this.sessions.has(sessionId)) return "active";
    return this.ended.has(sessionId) ? "expired" : "unknown";
  }

  /** When on, every request is queued; granted sessions keep playing. When off, the queue drains at its next polls. */
  setOverload(enabled: boolean, now: number): boolean {
    this.tick(now);
    if (this.overload !== enabled) {
      this.overload = enabled;
      this.markMeta();
    }
    return enabled;
  }

  getOverload(): boolean {
    return this.overload;
  }

  snapshot(now: number): AdmissionSnapshot {
    const t = this.tick(now);
    const edge = this.meter.bps("edge", t);
    const nodes = this.meter.bps("node", t);
    return {
      activeSessions: this.sessions.size,
      queued: this.tickets.size,
      egressBps: edge + nodes,
      egressBpsEdge: edge,
      egressBpsNodes: nodes,
      reservedBps: this.ramp.value(t),
      admittedTotal: this.admittedTotal,
      overload: this.overload,
      limits: { ...this.limits },
    };
  }

  /** The active sessions at `now`, oldest grant first (the operator's list of an event's sessions). */
  activeSessions(now: number): SessionRecord[] {
    this.tick(now);
    return [...this.sessions.values()]
      .map(({ id, channelId, ticket, grantedAt, lastSeen, maxBandwidth, costBps, holder, claimed }) => ({ id, channelId, ticket, grantedAt, lastSeen, maxBandwidth, costBps, holder, claimed }))
      .sort((a, b) => a.grantedAt - b.grantedAt);
  }

  /** The earliest time a lease or a ticket runs out, or null when there are none. */
  nextWakeAt(): number | null {
    let at = Infinity;
    const oldest = this.byActivity.first();
    if (oldest) at = oldest.lastSeen + this.leaseMs();
    const unclaimed = this.unclaimed.first();
    if (unclaimed) at = Math.min(at, unclaimed.grantedAt + this.limits.claimSeconds * 1000);
    for (const lane of this.lanes.values()) {
      const t = lane.first();
      if (t) at = Math.min(at, t.lastPoll + 2 * t.retryAfterSeconds * 1000);
    }
    return at === Infinity ? null : at;
  }

  // ---- persistence ------------------------------------------------------------------------------

  /** Ids of sessions and tickets changed since the last call (read them with `sessionRecord` etc.). */
  takeChanges(): Changes {
    const changes = { sessions: [...this.dirtySessions], tickets: [...this.dirtyTickets], meta: this.dirtyMeta };
    this.dirtySessions = new Set();
    this.dirtyTickets = new Set();
    this.dirtyMeta = false;
    return changes;
  }

  /** The persisted form of a session: active, ended, or gone (forget it). */
  sessionRecord(id: string): { active: SessionRecord } | { ended: EndedRecord } | null {
    const s = this.sessions.get(id);
    if (s) {
      const { id, channelId, ticket, grantedAt, maxBandwidth, costBps, holder, claimed } = s;
      return { active: { id, channelId, ticket, grantedAt, lastSeen: s.persistedSeen, maxBandwidth, costBps, holder, claimed } };
    }
    const endedAt = this.ended.get(id);
    return endedAt === undefined ? null : { ended: { id, endedAt } };
  }

  ticketRecord(ticket: string): TicketRecord | null {
    const t = this.tickets.get(ticket);
    return t ? { ticket: t.ticket, seq: t.seq, channelId: t.channelId, retryAfterSeconds: t.retryAfterSeconds, holder: t.holder } : null;
  }

  metaRecord(): MetaRecord {
    return {
      limits: { ...this.limits },
      overload: this.overload,
      clock: this.clock,
      admittedTotal: this.admittedTotal,
      nextSeq: this.nextSeq,
      promisedThrough: this.promisedThrough,
      freeRate: { ...this.freeRate },
      queueRate: { ...this.queueRate },
      ladders: Object.fromEntries(this.ladders),
    };
  }

  /**
   * Loads persisted state into a fresh model. Lease renewals are persisted at most every quarter
   * lease, so a restored session is taken as seen a quarter lease after its stored time (capped at
   * now); polls are not persisted, so every restored ticket gets a fresh drop-out deadline.
   * The egress window is not persisted: after a restart it is refilled by the next reports.
   */
  restore(state: PersistedState, now: number): void {
    if (state.meta) {
      const m = state.meta;
      // Limits stored before a limit existed take its default.
      this.limits = withDefaults(m.limits);
      this.overload = m.overload;
      this.clock = m.clock;
      this.admittedTotal = m.admittedTotal;
      this.nextSeq = m.nextSeq;
      this.promisedThrough = m.promisedThrough;
      this.freeRate = { ...m.freeRate };
      this.queueRate = { ...m.queueRate };
      for (const [ch, ladder] of Object.entries(m.ladders)) this.ladders.set(ch, ladder);
    }
    const t = this.tick(now);
    const slack = (this.limits.leaseSeconds * 1000) / 4;
    for (const r of [...state.sessions].sort((a, b) => a.lastSeen - b.lastSeen)) {
      const s: Session = { ...r, lastSeen: Math.min(t, r.lastSeen + slack), persistedSeen: r.lastSeen, link: null, claimLink: null };
      s.link = this.byActivity.push(s);
      this.sessions.set(r.id, s);
      if (r.ticket !== null) this.grantedTickets.set(r.ticket, r.id);
    }
    // Grant order, which the unclaimed list and each holder's sessions keep.
    for (const s of [...this.sessions.values()].sort((a, b) => a.grantedAt - b.grantedAt)) {
      this.holdings.addSession(s);
      if (!s.claimed) s.claimLink = this.unclaimed.push(s);
    }
    for (const e of [...state.ended].sort((a, b) => a.endedAt - b.endedAt)) this.remember(e.id, e.endedAt);
    for (const r of [...state.tickets].sort((a, b) => a.seq - b.seq)) {
      if (r.seq >= this.nextSeq) this.nextSeq = r.seq + 1;
      this.rank.add(r.seq);
      const ticket: Ticket = { ...r, lastPoll: t, link: null };
      this.tickets.set(r.ticket, ticket);
      this.holdings.addTicket(ticket);
      this.queuedPerChannel.set(r.channelId, (this.queuedPerChannel.get(r.channelId) ?? 0) + 1);
      ticket.link = this.laneOf(r.retryAfterSeconds).push(ticket);
    }
    this.tick(t);
  }

  // ---- decisions --------------------------------------------------------------------------------

  /** A queued or already granted viewer presents its ticket. */
  private poll(ticket: string, channelId: string, now: number, newSessionId: () => string): AdmissionDecision {
    const sessionId = this.grantedTickets.get(ticket);
    const granted = sessionId === undefined ? undefined : this.sessions.get(sessionId);
    if (granted) return granted.channelId === channelId ? this.grantedAnswer(granted) : { status: "invalid_ticket" };
    const t = this.tickets.get(ticket);
    if (!t || t.channelId !== channelId) return { status: "invalid_ticket" };
    return this.decide(t, now, false, newSessionId);
  }

  /** How long after its last renewal a session ends: the lease plus the report allowance. */
  private leaseMs(): number {
    return this.limits.leaseSeconds * 1000 + reportAllowanceMs(this.limits.leaseSeconds);
  }

  /** Advances the clock (never backwards) and applies every lease expiry and drop-out due by then. */
  private tick(now: number, expired?: string[], dropped?: string[]): number {
    if (!Number.isFinite(now)) throw new TypeError("now must be a finite number of milliseconds");
    // The clock is persisted with other meta changes only: a restart loses at most a little of it.
    if (now > this.clock) this.clock = now;
    const t = this.clock;
    const leaseMs = this.leaseMs();
    for (let s = this.byActivity.first(); s && s.lastSeen + leaseMs <= t; s = this.byActivity.first()) {
      this.endSession(s, t);
      expired?.push(s.id);
    }
    const claimMs = this.limits.claimSeconds * 1000;
    for (let s = this.unclaimed.first(); s && s.grantedAt + claimMs <= t; s = this.unclaimed.first()) {
      this.endSession(s, t);
      expired?.push(s.id);
    }
    for (const lane of this.lanes.values()) {
      for (let tk = lane.first(); tk && tk.lastPoll + 2 * tk.retryAfterSeconds * 1000 <= t; tk = lane.first()) {
        this.removeTicket(tk);
        dropped?.push(tk.ticket);
      }
    }
    while (this.endedHead < this.endedOrder.length) {
      const e = this.endedOrder[this.endedHead]!;
      if (e.at + this.endedMemoryMs > t && this.ended.size <= this.endedMemoryMax) break;
      this.endedHead++;
      this.ended.delete(e.id);
      this.markSession(e.id);
    }
    if (this.endedHead > 1024 && this.endedHead * 2 > this.endedOrder.length) {
      this.endedOrder = this.endedOrder.slice(this.endedHead);
      this.endedHead = 0;
    }
    return t;
  }

  private decide(t: Ticket, now: number, fresh: boolean, newSessionId: () => string): AdmissionDecision {
    const position = this.rank.rank(t.seq);
    const replacing = this.replaceOldest(t.holder, now);
    if (!this.overload || replacing) {
      const granted = this.tryGrant(t, position, now, fresh, newSessionId, replacing);
      if (granted) return granted;
    }
    const retryAfterSeconds = retryAfterFor(position);
    if (t.link) this.laneOf(t.retryAfterSeconds).unlink(t.link);
    t.lastPoll = now;
    t.retryAfterSeconds = retryAfterSeconds;
    t.link = this.laneOf(retryAfterSeconds).push(t);
    return { status: "queued", ticket: t.ticket, position, estimatedWaitSeconds: this.estimateWait(position, now), retryAfterSeconds };
  }

  /**
   * A signed-in viewer at its session limit: ends its oldest sessions so one slot is left for the new
   * grant, which then takes that slot at once (true). Anyone else: nothing (false).
   */
  private replaceOldest(holder: Holder | null, now: number): boolean {
    if (!isViewer(holder)) return false;
    const held = this.holdings.sessions(holder);
    const excess = held.length - this.limits.maxSessionsPerViewer + 1;
    if (excess <= 0) return false;
    for (const s of held.slice(0, excess)) this.endSession(s, now);
    return true;
  }

  /** `replacing`: the grant takes a slot its viewer just gave up, so it skips the queue and is not a promise to earlier tickets. */
  private tryGrant(t: Ticket, position: number, now: number, fresh: boolean, newSessionId: () => string, replacing: boolean): AdmissionDecision | null {
    const { maxSessions, maxEgressMbps } = this.limits;
    const free = maxSessions === undefined ? Infinity : maxSessions - this.sessions.size;
    // Checked even for promised tickets: only lowering maxSessions can make a promise unkeepable.
    if (free < 1) return null;
    const promised = replacing || t.seq < this.promisedThrough;
    if (!promised && position > free) return null;
    const ladder = this.ladders.get(t.channelId);
    let rung: number | undefined;
    if (maxEgressMbps !== undefined) {
      const remaining = maxEgressMbps * 1e6 - this.committedBps(now);
      let budget = remaining;
      if (!promised) {
        // Keep one unit for each earlier ticket, so granting this one cannot starve them.
        const unit = this.unitCostBps(now);
        if (unit > 0) {
          if (position * unit > remaining) return null;
          budget = remaining - (position - 1) * unit;
        } else if (remaining <= 0) return null;
      }
      if (ladder) {
        rung = highestAtMost(ladder, budget) ?? (promised ? ladder[0] : undefined);
        if (rung === undefined) return null;
      }
    }
    const top = ladder?.[ladder.length - 1];
    const maxBandwidth = rung !== undefined && top !== undefined && rung < top ? rung : undefined;
    const costBps = rung ?? top ?? this.perSessionBps(now);

    this.removeTicket(t);
    if (!replacing && t.seq > this.promisedThrough) this.promisedThrough = t.seq;
    const id = newSessionId();
    if (this.sessions.has(id) || this.ended.has(id)) throw new Error("newSessionId returned an id already in use");
    const session: Session = {
      id,
      channelId: t.channelId,
      ticket: fresh ? null : t.ticket,
      grantedAt: now,
      lastSeen: now,
      persistedSeen: now,
      maxBandwidth: maxBandwidth ?? null,
      costBps,
      holder: t.holder,
      claimed: false,
      link: null,
      claimLink: null,
    };
    session.link = this.byActivity.push(session);
    session.claimLink = this.unclaimed.push(session);
    this.sessions.set(id, session);
    this.holdings.addSession(session);
    if (!fresh) {
      this.grantedTickets.set(t.ticket, id);
      this.queueRate = bump(this.queueRate, now);
    }
    this.admittedTotal++;
    this.ramp.add(now, costBps);
    this.markSession(id);
    this.markMeta();
    return this.grantedAnswer(session);
  }

  private grantedAnswer(s: Session): AdmissionDecision {
    const answer: AdmissionDecision = { status: "granted", sessionId: s.id, leaseSeconds: this.limits.leaseSeconds };
    if (s.maxBandwidth !== null) answer.maxBandwidth = s.maxBandwidth;
    return answer;
  }

  /** Seconds until `position` is reached at the admission rate observed over about the last minute. */
  private estimateWait(position: number, now: number): number {
    const observed = Math.max(decayed(this.freeRate, now), decayed(this.queueRate, now));
    const rate = observed > 0 ? observed : Math.max(1, this.sessions.size) / ASSUMED_SESSION_SECONDS;
    return Math.ceil(Math.min(position / rate, MAX_ESTIMATE_SECONDS));
  }

  private committedBps(now: number): number {
    return this.meter.bps("edge", now) + this.meter.bps("node", now) + this.ramp.value(now);
  }

  private perSessionBps(now: number): number {
    if (this.sessions.size === 0) return 0;
    return (this.meter.bps("edge", now) + this.meter.bps("node", now)) / this.sessions.size;
  }

  /** The most a queued ticket ahead may need: the highest lowest-rendition among queued channels. */
  private unitCostBps(now: number): number {
    let unit = 0;
    for (const channelId of this.queuedPerChannel.keys()) {
      const ladder = this.ladders.get(channelId);
      unit = Math.max(unit, ladder ? ladder[0]! : this.perSessionBps(now));
    }
    return unit;
  }

  private learnLadder(channelId: string, renditionsBps: readonly number[]): void {
    const known = this.ladders.get(channelId);
    // The common case, checked before any allocation: the same ladder as last time.
    if (known && known.length === renditionsBps.length && known.every((b, i) => b === renditionsBps[i])) return;
    const ladder = [...new Set(renditionsBps.filter((b) => Number.isFinite(b) && b > 0))].sort((a, b) => a - b).slice(0, MAX_LADDER);
    if (ladder.length === 0) return;
    if (known && known.length === ladder.length && known.every((b, i) => b === ladder[i])) return;
    this.ladders.set(channelId, ladder);
    this.markMeta();
  }

  private endSession(s: Session, at: number): void {
    this.sessions.delete(s.id);
    if (s.link) this.byActivity.unlink(s.link);
    s.link = null;
    if (s.claimLink) this.unclaimed.unlink(s.claimLink);
    s.claimLink = null;
    this.holdings.removeSession(s);
    if (s.ticket !== null) this.grantedTickets.delete(s.ticket);
    this.remember(s.id, at);
    this.freeRate = bump(this.freeRate, at);
    this.markSession(s.id);
    this.markMeta();
  }

  private removeTicket(t: Ticket): void {
    this.tickets.delete(t.ticket);
    this.holdings.removeTicket(t);
    if (t.link) this.laneOf(t.retryAfterSeconds).unlink(t.link);
    t.link = null;
    this.rank.remove(t.seq);
    const left = (this.queuedPerChannel.get(t.channelId) ?? 1) - 1;
    if (left > 0) this.queuedPerChannel.set(t.channelId, left);
    else this.queuedPerChannel.delete(t.channelId);
    this.markTicket(t.ticket);
  }

  private remember(id: string, at: number): void {
    this.ended.set(id, at);
    this.endedOrder.push({ id, at });
  }

  private laneOf(retryAfterSeconds: number): OrderedList<Ticket> {
    let lane = this.lanes.get(retryAfterSeconds);
    if (!lane) {
      lane = new OrderedList();
      this.lanes.set(retryAfterSeconds, lane);
    }
    return lane;
  }

  private markSession(id: string): void {
    if (this.track) this.dirtySessions.add(id);
  }
  private markTicket(ticket: string): void {
    if (this.track) this.dirtyTickets.add(ticket);
  }
  private markMeta(): void {
    if (this.track) this.dirtyMeta = true;
  }
}

/** The limits an event runs with: the operator's, and the defaults of those it left out. */
function withDefaults(input: LimitsInput): Limits {
  const limits: Limits = {
    leaseSeconds: input.leaseSeconds ?? DEFAULT_LEASE_SECONDS,
    claimSeconds: input.claimSeconds ?? DEFAULT_CLAIM_SECONDS,
    maxSessionsPerViewer: input.maxSessionsPerViewer ?? DEFAULT_MAX_SESSIONS_PER_VIEWER,
  };
  if (input.maxSessions !== undefined) limits.maxSessions = input.maxSessions;
  if (input.maxEgressMbps !== undefined) limits.maxEgressMbps = input.maxEgressMbps;
  if (input.maxSessionsPerAddress !== undefined) limits.maxSessionsPerAddress = input.maxSessionsPerAddress;
  return limits;
}

function highestAtMost(ladder: readonly number[], budget: number): number | undefined {
  for (let i = ladder.length - 1; i >= 0; i--) if (ladder[i]! <= budget) return ladder[i];
  return undefined;
}

function decayed(r: Rate, now: number): number {
  return r.value * Math.exp(-Math.max(0, now - r.at) / RATE_TAU_MS);
}

/** One more event in the exponentially weighted rate (events per second). */
function bump(r: Rate, now: number): Rate {
  return { value: decayed(r, now) + 1000 / RATE_TAU_MS, at: Math.max(now, r.at) };
}
