// Sharded admission of one event as pure state machines: gate shards that grant only from the slots
// they hold, and the coordinator that moves slots between them and publishes the admission horizon.
// Every call takes `now` (ms); no timers, I/O or randomness, and every message is plain JSON, so the
// shard objects and the coordinator object can run this as it is, over RPC.
import { fnv1a32 } from "../../workers/shared/fnv";
import { ASSUMED_SESSION_SECONDS, retryAfterFor } from "./model";
import { OrderedList, type Link } from "./order";
import { RankIndex } from "./rank";

/** Arrival-time buckets: FIFO across shards holds to within one bucket. */
export const BUCKET_MS = 1_000;
/** How often the coordinator reads the shards and moves slots (the design allows 1–2 s; FIFO holds either way). */
export const COORDINATOR_INTERVAL_MS = 1_000;
/** The admission rate behind wait estimates: over the last 5–30 s, the shortest that saw 200 slots free. */
const RATE_WINDOW_MS = 30_000;
const RATE_MIN_WINDOW_MS = 5_000;
const RATE_MIN_EVENTS = 200;
const MAX_ESTIMATE_SECONDS = 86_400;

export function bucketOf(at: number): number {
  return Math.floor(at / BUCKET_MS);
}

/** The shard a viewer's first access goes to: FNV-1a of its client identity, modulo the shard count. */
export function shardOf(clientKey: string, shards: number): number {
  return fnv1a32(clientKey) % shards;
}

/** What a shard tells the coordinator: its slots, and who waits, by arrival bucket. */
export interface ShardReport {
  shard: number;
  /** The last coordinator order this shard applied (0: none yet). */
  epoch: number;
  at: number;
  /** Slots this shard holds: it grants only while `active + reserved < held`. */
  held: number;
  /** Sessions granted and not ended. */
  active: number;
  /** Tickets admitted from the queue whose viewer has not yet come back for the grant; each holds a slot. */
  reserved: number;
  /** Waiting tickets (not yet admitted) by arrival bucket, ascending: [bucket, count]. */
  waiting: [number, number][];
  /** Ever since the shard started: slots freed (sessions ended, admitted tickets never picked up). */
  freedTotal: number;
  /** Ever since the shard started: tickets admitted from the queue. */
  admittedTotal: number;
  /** Ever since the shard started: waiting tickets dropped because their viewer stopped polling. */
  droppedTotal: number;
}

/** What the coordinator publishes to every shard with its slots each round. */
export interface ShardView {
  /** Admit only tickets that arrived before this time (ms). */
  horizon: number;
  /** Waiting tickets of the other shards by arrival bucket, ascending, as of `reportedAt`. */
  others: [number, number][];
  reportedAt: number;
  /** Waiting tickets of every shard at `reportedAt`. */
  waitingTotal: number;
  /** Slots the whole event freed per second, recently (what the queue's head advances by). */
  admitPerSecond: number;
  /** The part of it that admits the other shards' tickets. */
  othersAdmitPerSecond: number;
  /** Waiting tickets dropped per second (viewers who gave up), over every shard. */
  dropPerSecond: number;
  overload: boolean;
}

/** A coordinator order: hold `held` slots (never fewer than those in use), and, when given, the new view. */
export interface ShardOrder {
  shard: number;
  /** Orders carry increasing epochs; a shard ignores one older than the last it applied. */
  epoch: number;
  held: number;
  view?: ShardView;
}

export type ShardDecision =
  | { status: "granted"; sessionId: string }
  | {
      status: "queued";
      ticket: string;
      shard: number;
      arrivedAt: number;
      /** Tickets ahead of this one across every shard, this one included (exact in this shard, estimated in the others). */
      position: number;
      estimatedWaitSeconds: number;
      retryAfterSeconds: number;
    }
  | { status: "invalid_ticket" };

export interface ShardOptions {
  /** Called for every admission, of a fresh arrival (ticket null) or of a queued ticket, as it happens. */
  onAdmit?: (ticket: string | null, arrivedAt: number, now: number) => void;
  /** Record which sessions and tickets changed, for `takeChanges()` (the Durable Object's write-through). */
  trackChanges?: boolean;
}

interface Session {
  id: string;
  lastSeen: number;
  /** The last renewal written to storage: renewals are written at most every quarter lease. */
  persistedSeen: number;
  grantedAt: number;
  /** Renewed at least once (reported playing); until then it ends `claimMs` after its grant. */
  claimed: boolean;
  link: Link<Session> | null;
  claimLink: Link<Session> | null;
}

/** A shard's state as a store keeps it: one row per session and ticket, and one meta record (see `ShardGate.restore`). */
export type ShardSessionRecord = Pick<Session, "id" | "lastSeen" | "grantedAt" | "claimed">;
export type ShardTicketRecord = Pick<Ticket, "ticket" | "seq" | "arrivedAt" | "retryAfterSeconds" | "reserved">;
export interface ShardMetaRecord {
  shard: number;
  heldSlots: number;
  epoch: number;
  clock: number;
  nextSeq: number;
  freedTotal: number;
  admittedTotal: number;
  droppedTotal: number;
  /** null: sessions end only when released. */
  leaseMs: number | null;
  /** null: a grant never used holds its slot for a whole lease. */
  claimMs: number | null;
  /** The view, with a horizon of null standing for "none yet" (JSON has no -Infinity). */
  view: Omit<ShardView, "horizon"> & { horizon: number | null };
}
export interface ShardChanges {
  sessions: string[];
  tickets: string[];
}

interface Ticket {
  ticket: string;
  seq: number;
  arrivedAt: number;
  lastPoll: number;
  retryAfterSeconds: number;
  /** Admitted: holds a slot until its viewer comes back for the grant, or drops out. */
  reserved: boolean;
  queueLink: Link<Ticket> | null;
  dropLink: Link<Ticket> | null;
}

/**
 * One gate shard of an event. It grants only from the slots it holds (`active + reserved ≤ held` at
 * every step), admits its own queue strictly in arrival order, and never admits a ticket that arrived
 * at or after the horizon the coordinator published. A ticket is admitted as soon as a slot and the
 * horizon allow, whatever call brings the shard there; the slot is held for it until its viewer's next
 * poll turns it into a session, or until it drops out (no poll for twice its retry interval).
 */
export class ShardGate {
  private heldSlots = 0;
  private epoch = 0;
  private clock = 0;
  private nextSeq = 1;
  private readonly sessions = new Map<string, Session>();
  /** Sessions in order of last renewal: lease expiry looks at the front only. */
  private readonly byActivity = new OrderedList<Session>();
  /** A session not renewed for this long ends (Infinity: sessions end only when released). */
  private leaseMs = Infinity;
  /** Sessions not yet renewed, in grant order: the claim deadline looks at the front only. */
  private readonly unclaimed = new OrderedList<Session>();
  /** A grant not renewed within this long ends, so an unused playback URL frees its slot quickly. */
  private claimMs = Infinity;
  private readonly tickets = new Map<string, Ticket>();
  private readonly waitingQueue = new OrderedList<Ticket>();
  private readonly rank = new RankIndex(() => this.waitingSeqs());
  private readonly waitingByBucket = new Map<number, number>();
  private readonly lanes = new Map<number, OrderedList<Ticket>>();
  private reservedCount = 0;
  private freedTotal = 0;
  private admittedTotal = 0;
  private droppedTotal = 0;
  /** Until the coordinator's first order: no slots, nothing admitted, the wait unknown. */
  private view: ShardView = { horizon: -Infinity, others: [], reportedAt: 0, waitingTotal: 0, admitPerSecond: 0, othersAdmitPerSecond: 0, dropPerSecond: 0, overload: false };
  /** Prefix sums of `view.others`: waiting in the other shards in buckets up to and including each. */
  private othersCumulative: number[] = [];
  private dirtySessions = new Set<string>();
  private dirtyTickets = new Set<string>();

  constructor(
    readonly shard: number,
    private readonly options: ShardOptions = {},
  ) {}

  /** Slots in use: sessions plus admitted tickets not yet picked up. */
  get taken(): number {
    return this.sessions.size + this.reservedCount;
  }
  get held(): number {
    return this.heldSlots;
  }
  get waiting(): number {
    return this.rank.size;
  }
  /** The coordinator's view this shard runs with: the horizon, the overload switch. */
  get published(): Readonly<ShardView> {
    return this.view;
  }
  /** Arrival time of the oldest ticket still waiting here, or null. */
  oldestWaiting(): number | null {
    return this.waitingQueue.first()?.arrivedAt ?? null;
  }

  /** A viewer's first access. */
  arrive(req: { now: number; newTicket: (arrivedAt: number) => string; newSessionId: () => string }): ShardDecision {
    const now = this.tick(req.now);
    if (this.waitingQueue.first() === undefined && this.canAdmit(now)) {
      const sessionId = this.startSession(req.newSessionId);
      this.options.onAdmit?.(null, now, now);
      return { status: "granted", sessionId };
    }
    const ticket = req.newTicket(now);
    if (this.tickets.has(ticket)) throw new Error("newTicket returned a ticket already in use");
    const t: Ticket = { ticket, seq: this.nextSeq++, arrivedAt: now, lastPoll: now, retryAfterSeconds: 0, reserved: false, queueLink: null, dropLink: null };
    this.tickets.set(ticket, t);
    this.markTicket(ticket);
    t.queueLink = this.waitingQueue.push(t);
    this.rank.add(t.seq);
    this.waitingByBucket.set(bucketOf(now), (this.waitingByBucket.get(bucketOf(now)) ?? 0) + 1);
    this.admitDue(now);
    return this.answer(t, now, req.newSessionId);
  }

  /** A queued viewer presents its ticket. */
  poll(req: { ticket: string; now: number; newSessionId: () => string }): ShardDecision {
    const now = this.tick(req.now);
    const t = this.tickets.get(req.ticket);
    return t ? this.answer(t, now, req.newSessionId) : { status: "invalid_ticket" };
  }

  /** Ends a session (the viewer left, or its lease ran out), freeing its slot. */
  release(sessionId: string, now: number): boolean {
    const t = this.tick(now);
    const s = this.sessions.get(sessionId);
    if (!s) return false;
    this.endSession(s);
    this.admitDue(t);
    return true;
  }

  /** How long a session lives without a renewal (the real objects: the lease plus the report allowance). */
  setLeaseMs(ms: number, now: number): void {
    if (!(ms > 0)) throw new RangeError("a lease must be longer than 0 ms");
    this.leaseMs = ms;
    this.tick(now);
  }

  /** How long a grant may go unused (no renewal) before it ends. */
  setClaimMs(ms: number, now: number): void {
    if (!(ms > 0)) throw new RangeError("a claim period must be longer than 0 ms");
    this.claimMs = ms;
    this.tick(now);
  }

  /** Renews the leases of sessions seen playing; returns those that are not active here (ended or unknown). */
  renew(sessionIds: readonly string[], now: number): string[] {
    const t = this.tick(now);
    const ended: string[] = [];
    for (const id of sessionIds) {
      const s = this.sessions.get(id);
      if (!s) {
        ended.push(id);
        continue;
      }
      s.lastSeen = t;
      if (!s.claimed) {
        s.claimed = true;
        if (s.claimLink) this.unclaimed.unlink(s.claimLink);
        s.claimLink = null;
        s.persistedSeen = t;
        this.markSession(id);
      } else if (t - s.persistedSeen >= this.leaseMs / 4) {
        s.persistedSeen = t;
        this.markSession(id);
      }
      if (s.link) this.byActivity.unlink(s.link);
      s.link = this.byActivity.push(s);
    }
    return ended;
  }

  /** Whether a session is active here. */
  hasSession(sessionId: string): boolean {
    return this.sessions.has(sessionId);
  }

  /** Drops tickets whose viewer stopped polling; call it from the object's alarm. */
  expire(now: number): void {
    this.admitDue(this.tick(now));
  }

  report(now: number): ShardReport {
    const at = this.tick(now);
    return {
      shard: this.shard,
      epoch: this.epoch,
      at,
      held: this.heldSlots,
      active: this.sessions.size,
      reserved: this.reservedCount,
      waiting: [...this.waitingByBucket].sort((a, b) => a[0] - b[0]),
      freedTotal: this.freedTotal,
      admittedTotal: this.admittedTotal,
      droppedTotal: this.droppedTotal,
    };
  }

  /** Applies a coordinator order and answers with the report it confirms. Slots in use are never given back. */
  apply(order: ShardOrder, now: number): ShardReport {
    const t = this.tick(now);
    if (order.shard === this.shard && order.epoch > this.epoch) {
      this.epoch = order.epoch;
      this.heldSlots = Math.max(order.held, this.taken);
      if (order.view) {
        this.view = order.view;
        let sum = 0;
        this.othersCumulative = order.view.others.map(([, n]) => (sum += n));
      }
      this.admitDue(t);
    }
    return this.report(t);
  }

  // ---- persistence ------------------------------------------------------------------------------

  /** The sessions and tickets changed since the last call (with `trackChanges`); read each with `*Record`. */
  takeChanges(): ShardChanges {
    const changes = { sessions: [...this.dirtySessions], tickets: [...this.dirtyTickets] };
    this.dirtySessions = new Set();
    this.dirtyTickets = new Set();
    return changes;
  }

  /** A session as stored, or null when it ended (delete its row). */
  sessionRecord(id: string): ShardSessionRecord | null {
    const s = this.sessions.get(id);
    return s ? { id, lastSeen: s.persistedSeen, grantedAt: s.grantedAt, claimed: s.claimed } : null;
  }

  /** A ticket as stored, or null when it is gone (delete its row). */
  ticketRecord(ticket: string): ShardTicketRecord | null {
    const t = this.tickets.get(ticket);
    return t ? { ticket, seq: t.seq, arrivedAt: t.arrivedAt, retryAfterSeconds: t.retryAfterSeconds, reserved: t.reserved } : null;
  }

  /** Everything else, small: written with every call that changed anything. */
  metaRecord(): ShardMetaRecord {
    const { horizon, ...view } = this.view;
    return {
      shard: this.shard,
      heldSlots: this.heldSlots,
      epoch: this.epoch,
      clock: this.clock,
      nextSeq: this.nextSeq,
      freedTotal: this.freedTotal,
      admittedTotal: this.admittedTotal,
      droppedTotal: this.droppedTotal,
      leaseMs: Number.isFinite(this.leaseMs) ? this.leaseMs : null,
      claimMs: Number.isFinite(this.claimMs) ? this.claimMs : null,
      view: { ...view, horizon: Number.isFinite(horizon) ? horizon : null },
    };
  }

  /**
   * Loads stored state into a fresh shard. As in the unsharded gate, a restored session counts as
   * renewed a quarter lease after its stored renewal (capped at now), and every restored ticket gets a
   * fresh drop-out deadline (polls are not stored); admitted tickets keep their slots.
   */
  restore(state: { meta: ShardMetaRecord; sessions: readonly ShardSessionRecord[]; tickets: readonly ShardTicketRecord[] }, now: number): void {
    const m = state.meta;
    if (m.shard !== this.shard) throw new Error(`stored state of shard ${m.shard} restored into shard ${this.shard}`);
    this.heldSlots = m.heldSlots;
    this.epoch = m.epoch;
    this.clock = m.clock;
    this.nextSeq = m.nextSeq;
    this.freedTotal = m.freedTotal;
    this.admittedTotal = m.admittedTotal;
    this.droppedTotal = m.droppedTotal;
    this.leaseMs = m.leaseMs ?? Infinity;
    this.claimMs = m.claimMs ?? Infinity;
    this.view = { ...m.view, horizon: m.view.horizon ?? -Infinity };
    let sum = 0;
    this.othersCumulative = this.view.others.map(([, n]) => (sum += n));
    if (now > this.clock) this.clock = now;
    const t = this.clock;
    const slack = Number.isFinite(this.leaseMs) ? this.leaseMs / 4 : 0;
    for (const r of [...state.sessions].sort((a, b) => a.lastSeen - b.lastSeen)) {
      const s: Session = { id: r.id, lastSeen: Math.min(t, r.lastSeen + slack), persistedSeen: r.lastSeen, grantedAt: r.grantedAt, claimed: r.claimed, link: null, claimLink: null };
      s.link = this.byActivity.push(s);
      this.sessions.set(r.id, s);
    }
    for (const s of [...this.sessions.values()].sort((a, b) => a.grantedAt - b.grantedAt)) if (!s.claimed) s.claimLink = this.unclaimed.push(s);
    for (const r of [...state.tickets].sort((a, b) => a.seq - b.seq)) {
      if (r.seq >= this.nextSeq) this.nextSeq = r.seq + 1;
      const tk: Ticket = { ticket: r.ticket, seq: r.seq, arrivedAt: r.arrivedAt, lastPoll: t, retryAfterSeconds: r.retryAfterSeconds, reserved: r.reserved, queueLink: null, dropLink: null };
      this.tickets.set(r.ticket, tk);
      if (r.reserved) this.reservedCount++;
      else {
        tk.queueLink = this.waitingQueue.push(tk);
        this.rank.add(tk.seq);
        this.waitingByBucket.set(bucketOf(tk.arrivedAt), (this.waitingByBucket.get(bucketOf(tk.arrivedAt)) ?? 0) + 1);
      }
      tk.dropLink = this.laneOf(tk.retryAfterSeconds).push(tk);
    }
    this.tick(t);
  }

  // ---- internals --------------------------------------------------------------------------------

  private markSession(id: string): void {
    if (this.options.trackChanges) this.dirtySessions.add(id);
  }
  private markTicket(ticket: string): void {
    if (this.options.trackChanges) this.dirtyTickets.add(ticket);
  }

  private canAdmit(now: number): boolean {
    return !this.view.overload && this.taken < this.heldSlots && now < this.view.horizon;
  }

  /** Admits waiting tickets in arrival order while slots and the horizon allow. */
  private admitDue(now: number): void {
    if (this.view.overload) return;
    for (let t = this.waitingQueue.first(); t && this.taken < this.heldSlots && t.arrivedAt < this.view.horizon; t = this.waitingQueue.first()) {
      this.unwait(t);
      t.reserved = true;
      this.markTicket(t.ticket);
      this.reservedCount++;
      this.admittedTotal++;
      this.options.onAdmit?.(t.ticket, t.arrivedAt, now);
    }
  }

  private answer(t: Ticket, now: number, newSessionId: () => string): ShardDecision {
    if (t.reserved) {
      this.forget(t);
      this.reservedCount--;
      return { status: "granted", sessionId: this.startSession(newSessionId) };
    }
    const position = this.rank.rank(t.seq) + this.othersAhead(t.arrivedAt, now);
    const retryAfterSeconds = retryAfterFor(position);
    if (t.dropLink) this.laneOf(t.retryAfterSeconds).unlink(t.dropLink);
    t.lastPoll = now;
    if (t.retryAfterSeconds !== retryAfterSeconds) this.markTicket(t.ticket);
    t.retryAfterSeconds = retryAfterSeconds;
    t.dropLink = this.laneOf(retryAfterSeconds).push(t);
    // The viewer hears of its admission at its next poll: on average half a retry interval later.
    const estimatedWaitSeconds = Math.ceil(this.estimateWait(position) + retryAfterSeconds / 2);
    return { status: "queued", ticket: t.ticket, shard: this.shard, arrivedAt: t.arrivedAt, position, estimatedWaitSeconds, retryAfterSeconds };
  }

  private startSession(newSessionId: () => string): string {
    const id = newSessionId();
    if (this.sessions.has(id)) throw new Error("newSessionId returned an id already in use");
    const s: Session = { id, lastSeen: this.clock, persistedSeen: this.clock, grantedAt: this.clock, claimed: false, link: null, claimLink: null };
    s.link = this.byActivity.push(s);
    s.claimLink = this.unclaimed.push(s);
    this.sessions.set(id, s);
    this.markSession(id);
    return id;
  }

  private endSession(s: Session): void {
    this.sessions.delete(s.id);
    this.markSession(s.id);
    if (s.link) this.byActivity.unlink(s.link);
    s.link = null;
    if (s.claimLink) this.unclaimed.unlink(s.claimLink);
    s.claimLink = null;
    this.freedTotal++;
  }

  /**
   * Waiting tickets of the other shards that arrived before `arrivedAt`, from the coordinator's last
   * counts: whole earlier buckets, the same bucket pro rata, less what those shards admitted since.
   */
  private othersAhead(arrivedAt: number, now: number): number {
    const { others, reportedAt, othersAdmitPerSecond } = this.view;
    const b = bucketOf(arrivedAt);
    // The last bucket index below b (binary search over the ascending buckets).
    let lo = 0;
    let hi = others.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (others[mid]![0] < b) lo = mid + 1;
      else hi = mid;
    }
    let ahead = lo > 0 ? this.othersCumulative[lo - 1]! : 0;
    const same = others[lo];
    if (same && same[0] === b) {
      const start = b * BUCKET_MS;
      const span = Math.min(BUCKET_MS, Math.max(1, reportedAt - start));
      ahead += same[1] * Math.min(1, Math.max(0, arrivedAt - start) / span);
    }
    ahead -= (othersAdmitPerSecond * Math.max(0, now - reportedAt)) / 1000;
    return Math.max(0, Math.round(ahead));
  }

  /**
   * Seconds until the queue's head reaches `position`: it advances by the event's admissions (rate r)
   * and by the viewers ahead who give up, a share of the drop rate proportional to how far back one
   * is (δ = drops ÷ waiting). Solving dp/dt = −(r + δp) gives ln(1 + δp/r) / δ.
   */
  private estimateWait(position: number): number {
    const { admitPerSecond, dropPerSecond, waitingTotal } = this.view;
    const r = admitPerSecond > 0 ? admitPerSecond : 1 / ASSUMED_SESSION_SECONDS;
    const delta = waitingTotal > 0 ? dropPerSecond / waitingTotal : 0;
    const seconds = delta > 0 ? Math.log1p((delta * position) / r) / delta : position / r;
    return Math.min(seconds, MAX_ESTIMATE_SECONDS);
  }

  /** Advances the clock (never backwards) and drops tickets not polled for twice their retry interval. */
  private tick(now: number): number {
    if (!Number.isFinite(now)) throw new TypeError("now must be a finite number of milliseconds");
    if (now > this.clock) this.clock = now;
    const t = this.clock;
    let freed = false;
    for (let s = this.byActivity.first(); s && s.lastSeen + this.leaseMs <= t; s = this.byActivity.first()) {
      this.endSession(s);
      freed = true;
    }
    for (let s = this.unclaimed.first(); s && s.grantedAt + this.claimMs <= t; s = this.unclaimed.first()) {
      this.endSession(s);
      freed = true;
    }
    for (const lane of this.lanes.values()) {
      for (let tk = lane.first(); tk && tk.lastPoll + 2 * tk.retryAfterSeconds * 1000 <= t; tk = lane.first()) {
        if (tk.reserved) {
          this.reservedCount--;
          this.freedTotal++;
          freed = true;
        } else {
          this.unwait(tk);
          this.droppedTotal++;
        }
        this.forget(tk);
      }
    }
    if (freed) this.admitDue(t);
    return t;
  }

  /** Takes a ticket out of the waiting line (admitted or dropped). */
  private unwait(t: Ticket): void {
    if (t.queueLink) this.waitingQueue.unlink(t.queueLink);
    t.queueLink = null;
    this.rank.remove(t.seq);
    const b = bucketOf(t.arrivedAt);
    const left = (this.waitingByBucket.get(b) ?? 1) - 1;
    if (left > 0) this.waitingByBucket.set(b, left);
    else this.waitingByBucket.delete(b);
  }

  private forget(t: Ticket): void {
    this.tickets.delete(t.ticket);
    this.markTicket(t.ticket);
    if (t.dropLink) this.laneOf(t.retryAfterSeconds).unlink(t.dropLink);
    t.dropLink = null;
  }

  private *waitingSeqs(): Iterable<number> {
    for (const t of this.tickets.values()) if (!t.reserved) yield t.seq;
  }

  /** Tickets by retry interval, each lane in poll order, so the next drop-out is at a lane's front. */
  private laneOf(retryAfterSeconds: number): OrderedList<Ticket> {
    const lane = this.lanes.get(retryAfterSeconds) ?? new OrderedList<Ticket>();
    this.lanes.set(retryAfterSeconds, lane);
    return lane;
  }
}

interface Plan {
  at: number;
  targets: number[];
  views: ShardView[];
  /** Shards in the order their publish orders go out: the earliest waiting first. */
  publishOrder: number[];
}

/**
 * The coordinator of one event's shards. Each round (every `COORDINATOR_INTERVAL_MS`):
 *
 * 1. `plan(reports)`: from every shard's report, how many slots each should hold, and the horizon.
 *    The free slots (`maxSessions` − slots in use everywhere) go to waiting tickets bucket by bucket,
 *    earliest first, over every shard; the first bucket that does not fit is shared pro rata and the
 *    horizon closes at its end (or now, if sooner). When everyone waiting fits, the rest is split
 *    evenly for new arrivals and the horizon is now + one bucket. Returns the shrink orders: shards
 *    holding more than their target give slots back first.
 * 2. `confirm(report)` for each answer to an order.
 * 3. `publish()`: every shard's order with the new view, growing shards toward their targets only
 *    from slots no shard holds, earliest waiting first.
 *
 * The ledger is an upper bound on what each shard holds: it rises before a grow order goes out and
 * falls only when a shard confirms a shrink, so the shards' held slots, and with them the sessions
 * they grant, never sum past `maxSessions`, whatever order the calls land in.
 *
 * FIFO: a shard admits only tickets before the horizon. In the partial case every ticket in earlier
 * buckets got a slot, so an admitted ticket is at most one bucket later than any still waiting. In
 * the open case everyone waiting at the round got a slot, so a ticket admitted later (arrived before
 * now + one bucket) is less than one bucket later than any that waits (arrived after the round).
 */
export class Coordinator {
  private readonly ledger: number[];
  private readonly sent: number[];
  private epoch = 0;
  private overload = false;
  private current: Plan | null = null;
  private samples: { at: number; freed: number; admitted: number; dropped: number }[] = [];

  constructor(
    readonly shards: number,
    private cap: number,
  ) {
    if (!Number.isInteger(shards) || shards < 1) throw new RangeError("shards must be a positive integer");
    if (!Number.isInteger(cap) || cap < 0) throw new RangeError("maxSessions must be a non-negative integer");
    this.ledger = new Array<number>(shards).fill(0);
    this.sent = new Array<number>(shards).fill(0);
  }

  get maxSessions(): number {
    return this.cap;
  }

  /**
   * A new session limit. Raising it frees slots at the next round; lowering it below the slots allowed
   * out grows no shard until confirmed shrinks bring the ledger under it (slots in use are never taken).
   */
  setMaxSessions(maxSessions: number): void {
    if (!Number.isInteger(maxSessions) || maxSessions < 0) throw new RangeError("maxSessions must be a non-negative integer");
    this.cap = maxSessions;
  }

  /**
   * Takes over from a coordinator that stopped (the object restarted): each shard's report says what it
   * holds and the last epoch it applied, so the ledger starts at those slots and new orders outnumber old ones.
   */
  resume(reports: readonly ShardReport[]): void {
    for (const r of reports) {
      this.ledger[r.shard] = Math.max(this.ledger[r.shard]!, r.held);
      this.sent[r.shard] = Math.max(this.sent[r.shard]!, r.epoch);
      this.epoch = Math.max(this.epoch, r.epoch);
    }
  }

  /** The slots the coordinator has allowed out: never more than `maxSessions`. */
  get allocated(): number {
    return this.ledger.reduce((a, b) => a + b, 0);
  }

  /** Every shard queues every arrival while on; it reaches them with the next round's view. */
  setOverload(enabled: boolean): void {
    this.overload = enabled;
  }

  /** `newSlots`, when given, bounds the slots handed out beyond those in use (the egress budget's room). */
  plan(reports: readonly ShardReport[], now: number, newSlots = Infinity): ShardOrder[] {
    if (reports.length !== this.shards) throw new RangeError(`expected ${this.shards} reports, got ${reports.length}`);
    const byShard = [...reports].sort((a, b) => a.shard - b.shard);
    for (const r of byShard) this.confirm(r);
    const taken = byShard.map((r) => r.active + r.reserved);
    let free = Math.max(0, Math.min(this.cap - taken.reduce((a, b) => a + b, 0), Math.floor(newSlots)));

    // Waiting tickets by bucket, over every shard.
    const perBucket = new Map<number, number[]>();
    for (const r of byShard) {
      for (const [b, n] of r.waiting) {
        let row = perBucket.get(b);
        if (!row) perBucket.set(b, (row = new Array<number>(this.shards).fill(0)));
        row[r.shard] = n;
      }
    }
    const buckets = [...perBucket.keys()].sort((a, b) => a - b);
    const demand = new Array<number>(this.shards).fill(0);
    let horizon = now + BUCKET_MS;
    for (const b of buckets) {
      const row = perBucket.get(b)!;
      const total = row.reduce((a, c) => a + c, 0);
      if (total <= free) {
        row.forEach((n, i) => (demand[i]! += n));
        free -= total;
        continue;
      }
      shareOut(free, row).forEach((n, i) => (demand[i]! += n));
      free = 0;
      horizon = Math.min((b + 1) * BUCKET_MS, now);
      break;
    }
    const spare = shareOut(free, new Array<number>(this.shards).fill(1));
    const targets = taken.map((n, i) => n + demand[i]! + spare[i]!);

    const rates = this.rates(byShard, now);
    // Before any slot has been seen to free, assume sessions last ASSUMED_SESSION_SECONDS.
    if (rates.admit === 0) rates.admit = Math.max(1, taken.reduce((a, b) => a + b, 0)) / ASSUMED_SESSION_SECONDS;
    const waitingTotal = byShard.reduce((a, r) => a + r.waiting.reduce((s, [, n]) => s + n, 0), 0);
    const views = byShard.map((r): ShardView => {
      const own = new Map(r.waiting);
      const others: [number, number][] = [];
      let ownWaiting = 0;
      for (const b of buckets) {
        const mine = own.get(b) ?? 0;
        ownWaiting += mine;
        const n = perBucket.get(b)!.reduce((a, c) => a + c, 0) - mine;
        if (n > 0) others.push([b, n]);
      }
      const othersShare = waitingTotal > 0 ? (waitingTotal - ownWaiting) / waitingTotal : 0;
      return {
        horizon,
        others,
        reportedAt: now,
        waitingTotal,
        admitPerSecond: rates.admit,
        othersAdmitPerSecond: rates.admit * othersShare,
        dropPerSecond: rates.drop,
        overload: this.overload,
      };
    });
    const earliest = byShard.map((r) => r.waiting[0]?.[0] ?? Infinity);
    const publishOrder = byShard.map((r) => r.shard).sort((a, b) => earliest[a]! - earliest[b]! || a - b);
    this.current = { at: now, targets, views, publishOrder };

    const shrink: ShardOrder[] = [];
    for (let i = 0; i < this.shards; i++) if (targets[i]! < this.ledger[i]!) shrink.push(this.order(i, targets[i]!));
    return shrink;
  }

  /** A shard's answer to an order (or any report): what it holds, once it has applied the latest order sent to it. */
  confirm(report: ShardReport): void {
    const i = report.shard;
    // A report from before the latest order may not show it applied: the ledger keeps the higher bound.
    if (report.epoch === this.sent[i]) this.ledger[i] = Math.min(this.ledger[i]!, report.held);
  }

  /** Every shard's order with the new view, in publish order; growth comes only from slots no shard holds. */
  publish(): ShardOrder[] {
    const plan = this.current;
    if (!plan) return [];
    this.current = null;
    let pool = this.cap - this.allocated;
    return plan.publishOrder.map((i) => {
      const target = plan.targets[i]!;
      // A shrink not yet confirmed is repeated rather than undone; growth waits for free slots.
      const grow = Math.max(0, Math.min(target - this.ledger[i]!, pool));
      pool -= grow;
      return { ...this.order(i, target <= this.ledger[i]! ? target : this.ledger[i]! + grow), view: plan.views[i]! };
    });
  }

  private order(shard: number, held: number): ShardOrder {
    // Raised before the order goes out, lowered only when confirmed: always at least what the shard holds.
    this.ledger[shard] = Math.max(this.ledger[shard]!, held);
    this.sent[shard] = ++this.epoch;
    return { shard, epoch: this.epoch, held };
  }

  /**
   * Slots freed (or, if more, tickets admitted) and tickets dropped per second, over the shortest recent
   * window of at least RATE_MIN_WINDOW_MS that saw RATE_MIN_EVENTS (at most RATE_WINDOW_MS): the freeing
   * rate climbs with the sessions granted, so a long average would lag it (and overstate waits).
   */
  private rates(reports: readonly ShardReport[], now: number): { admit: number; drop: number } {
    const sum = (f: (r: ShardReport) => number) => reports.reduce((a, r) => a + f(r), 0);
    const sample = { at: now, freed: sum((r) => r.freedTotal), admitted: sum((r) => r.admittedTotal), dropped: sum((r) => r.droppedTotal) };
    this.samples.push(sample);
    while (this.samples.length > 2 && this.samples[1]!.at <= now - RATE_WINDOW_MS) this.samples.shift();
    const events = (s: { freed: number; admitted: number }) => Math.max(sample.freed - s.freed, sample.admitted - s.admitted);
    let first = this.samples[0]!;
    for (let k = this.samples.length - 2; k >= 0; k--) {
      const s = this.samples[k]!;
      if (now - s.at >= RATE_MIN_WINDOW_MS && events(s) >= RATE_MIN_EVENTS) {
        first = s;
        break;
      }
    }
    const seconds = (now - first.at) / 1000;
    if (seconds < 1) return { admit: 0, drop: 0 };
    return { admit: events(first) / seconds, drop: (sample.dropped - first.dropped) / seconds };
  }
}

/** Splits `amount` over `weights` in proportion (largest remainders), never giving a slot more than its weight. */
function shareOut(amount: number, weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  if (total === 0 || amount <= 0) return weights.map(() => 0);
  if (amount >= total && weights.every((w) => w === 1)) {
    // The even split of spare slots: whole shares plus the remainder to the first shards.
    const each = Math.floor(amount / weights.length);
    const rest = amount - each * weights.length;
    return weights.map((_, i) => each + (i < rest ? 1 : 0));
  }
  const exact = weights.map((w) => (w * Math.min(amount, total)) / total);
  const out = exact.map(Math.floor);
  let left = Math.min(amount, total) - out.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left <= 0) break;
    if (out[i]! < weights[i]!) {
      out[i]!++;
      left--;
    }
  }
  return out;
}

/**
 * One coordinator round over shards in the same process (the simulation, tests): report, shrink,
 * publish. The coordinator object makes the same calls over RPC, awaiting each phase before the next.
 * Returns how many calls each shard took.
 */
export function coordinateInProcess(coordinator: Coordinator, gates: readonly ShardGate[], now: number): number[] {
  const calls = gates.map(() => 1);
  const shrink = coordinator.plan(
    gates.map((g) => g.report(now)),
    now,
  );
  for (const o of shrink) {
    calls[o.shard]!++;
    coordinator.confirm(gates[o.shard]!.apply(o, now));
  }
  for (const o of coordinator.publish()) {
    calls[o.shard]!++;
    coordinator.confirm(gates[o.shard]!.apply(o, now));
  }
  return calls;
}
