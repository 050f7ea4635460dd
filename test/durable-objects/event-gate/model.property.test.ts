// Property tests of the admission model against an independent oracle, under random interleavings of
// arrivals, polls, renewals, releases, time (lease expiry, drop-outs), egress reports and switch flips.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AdmissionModel, type AdmissionDecision, type EgressSource } from "../../../durable-objects/event-gate/model";

type Op =
  | { kind: "arrive"; channel: number }
  | { kind: "poll"; pick: number; wrongChannel: boolean; anyTicket: boolean }
  | { kind: "pollAll"; reverse: boolean }
  | { kind: "renew"; picks: number[] }
  | { kind: "release"; pick: number }
  | { kind: "advance"; ms: number }
  | { kind: "expire" }
  | { kind: "overload"; enabled: boolean }
  | { kind: "report"; source: EgressSource; bytes: number };

const CHANNELS = ["main", "tactical"];
const LADDERS: Record<string, number[]> = { main: [1_500_000, 3_000_000, 6_000_000], tactical: [300_000, 4_000_000] };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("arrive" as const), channel: fc.nat(1) }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant("poll" as const), pick: fc.nat(), wrongChannel: fc.constant(false), anyTicket: fc.constant(false) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("poll" as const), pick: fc.nat(), wrongChannel: fc.boolean(), anyTicket: fc.constant(true) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("pollAll" as const), reverse: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("renew" as const), picks: fc.array(fc.nat(), { maxLength: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("release" as const), pick: fc.nat() }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("advance" as const),
      ms: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: 3000 }) }, { weight: 1, arbitrary: fc.integer({ min: 3000, max: 40_000 }) }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "expire" as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("overload" as const), enabled: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("report" as const), source: fc.constantFrom<EgressSource>("edge", "node"), bytes: fc.integer({ min: 0, max: 60_000_000 }) }),
  },
);

interface Waiting {
  seq: number;
  arrival: number;
  channel: string;
  lastPoll: number;
  retry: number;
  position: number;
}

/** Measured plus reserved egress, as the model sees it at `now` (reading it changes nothing). */
function committedBps(model: AdmissionModel, now: number): number {
  const snap = model.snapshot(now);
  return snap.egressBps + snap.reservedBps;
}

/** Runs `ops` against a fresh model and an oracle built only from the documented rules. */
function check(limits: { maxSessions?: number; maxEgressMbps?: number; leaseSeconds: number; claimSeconds: number }, ops: Op[]): void {
  const model = new AdmissionModel();
  let now = 1_000_000;
  let ids = 0;
  model.configure(limits, now);
  const max = limits.maxSessions ?? Infinity;
  // Documented rule: a lease ends leaseSeconds plus the report allowance (half a lease, at least 5 s) after its last renewal.
  const leaseMs = limits.leaseSeconds * 1000 + Math.max(5_000, limits.leaseSeconds * 500);
  // Documented rule: a grant never reported playing ends claimSeconds after it was granted.
  const claimMs = limits.claimSeconds * 1000;

  const waiting = new Map<string, Waiting>(); // ticket → oracle's view, live tickets only
  const sessions = new Map<string, { lastSeen: number; grantedAt: number; claimed: boolean; ticket?: string }>();
  const ended = new Set<string>();
  const grantedTicket = new Map<string, string>(); // ticket → session, while the session is active
  const everIssued: { ticket: string; channel: string }[] = [];
  const everGranted: string[] = [];
  const outcome: ("granted" | "queued" | "dropped")[] = [];
  let nextSeq = 0;
  let promisedThrough = -1;
  let overload = false;
  let grants = 0;

  const settle = () => {
    const expired: string[] = [];
    const dropped: string[] = [];
    for (const [id, s] of sessions) {
      if (now < s.lastSeen + leaseMs && (s.claimed || now < s.grantedAt + claimMs)) continue;
      sessions.delete(id);
      ended.add(id);
      if (s.ticket) grantedTicket.delete(s.ticket);
      expired.push(id);
    }
    for (const [ticket, w] of waiting) {
      if (now < w.lastPoll + 2 * w.retry * 1000) continue;
      waiting.delete(ticket);
      expect(outcome[w.arrival]).toBe("queued");
      outcome[w.arrival] = "dropped";
      dropped.push(ticket);
    }
    return { expired, dropped };
  };

  /** Checks a decision for a live waiting ticket (or a fresh arrival) and applies it to the oracle. */
  const judge = (d: AdmissionDecision, me: Waiting, ticket: string | undefined, fresh: boolean, committedBps: number) => {
    const free = max - sessions.size;
    const earlier = [...waiting.values()].filter((w) => w.seq < me.seq).length;
    const expectedPosition = earlier + 1;
    const promised = me.seq < promisedThrough;
    // Egress rule: one lowest rendition reserved per earlier ticket, the unit being the dearest lowest among queued channels.
    const unit = Math.max(LADDERS[me.channel]![0]!, ...[...waiting.values()].map((w) => LADDERS[w.channel]![0]!));
    const budget = limits.maxEgressMbps === undefined ? Infinity : limits.maxEgressMbps * 1e6 - committedBps - (expectedPosition - 1) * unit;
    if (d.status === "granted") {
      // FIFO: granted only within the free slots counted from the head, every earlier live ticket included.
      expect(overload).toBe(false);
      expect(expectedPosition).toBeLessThanOrEqual(free);
      if (limits.maxEgressMbps === undefined) expect(d.maxBandwidth).toBeUndefined();
      else if (d.maxBandwidth !== undefined) expect(LADDERS[me.channel]!.slice(0, -1)).toContain(d.maxBandwidth);
      if (!promised && limits.maxEgressMbps !== undefined) expect(unit).toBeLessThanOrEqual(budget);
      if (!promised) {
        // The highest rendition that fits what is left once every earlier ticket has its unit.
        const ladder = LADDERS[me.channel]!;
        const chosen = d.maxBandwidth ?? ladder[ladder.length - 1]!;
        expect(chosen).toBeLessThanOrEqual(budget);
        const above = ladder.find((b) => b > chosen);
        if (above !== undefined) expect(above).toBeGreaterThan(budget);
      }
      expect(sessions.has(d.sessionId) || ended.has(d.sessionId)).toBe(false);
      sessions.set(d.sessionId, { lastSeen: now, grantedAt: now, claimed: false, ticket: fresh ? undefined : ticket });
      if (!fresh && ticket) grantedTicket.set(ticket, d.sessionId);
      if (ticket) waiting.delete(ticket);
      everGranted.push(d.sessionId);
      promisedThrough = Math.max(promisedThrough, me.seq);
      grants++;
      expect(outcome[me.arrival]).toBe(fresh ? undefined : "queued");
      outcome[me.arrival] = "granted";
      return;
    }
    expect(d.status).toBe("queued");
    if (d.status !== "queued") return;
    expect(d.position).toBe(expectedPosition);
    expect(d.position).toBeLessThanOrEqual(me.position);
    expect(d.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(d.retryAfterSeconds).toBeLessThanOrEqual(10);
    expect(d.estimatedWaitSeconds).toBeGreaterThanOrEqual(0);
    if (!overload && free >= 1) {
      // Sessions alone decide: the rule is exact. With an egress budget, a promise must still be kept.
      if (limits.maxEgressMbps === undefined) expect(expectedPosition).toBeGreaterThan(free);
      else if (expectedPosition <= free) expect(unit).toBeGreaterThan(budget);
      expect(promised).toBe(false);
    }
    if (fresh) {
      expect(outcome[me.arrival]).toBeUndefined();
      outcome[me.arrival] = "queued";
      everIssued.push({ ticket: d.ticket, channel: me.channel });
      channelOf.set(d.ticket, me.channel);
    } else {
      expect(d.ticket).toBe(ticket);
    }
    waiting.set(d.ticket, { ...me, lastPoll: now, retry: d.retryAfterSeconds, position: d.position });
  };

  const channelOf = new Map<string, string>();
  const poll = (ticket: string, wrongChannel: boolean) => {
    const channel = channelOf.get(ticket)!;
    const asked = wrongChannel ? CHANNELS.find((c) => c !== channel)! : channel;
    const committed = committedBps(model, now);
    const d = model.request({ ticket, channelId: asked, now, newTicket: () => `tkt_${++ids}`, newSessionId: () => `ses_${++ids}`, renditionsBps: LADDERS[asked] });
    const w = waiting.get(ticket);
    const sessionId = grantedTicket.get(ticket);
    if (wrongChannel) expect(d).toEqual({ status: "invalid_ticket" });
    else if (w) judge(d, w, ticket, false, committed);
    else if (sessionId) expect(d).toMatchObject({ status: "granted", sessionId });
    else expect(d).toEqual({ status: "invalid_ticket" });
  };

  for (const op of ops) {
    switch (op.kind) {
      case "advance":
        now += op.ms;
        break;
      case "arrive": {
        settle();
        const channel = CHANNELS[op.channel]!;
        const me: Waiting = { seq: nextSeq++, arrival: outcome.length, channel, lastPoll: now, retry: 0, position: Infinity };
        outcome.length++;
        const committed = committedBps(model, now);
        const d = model.request({ channelId: channel, now, newTicket: () => `tkt_${++ids}`, newSessionId: () => `ses_${++ids}`, renditionsBps: LADDERS[channel] });
        judge(d, me, undefined, true, committed);
        break;
      }
      case "poll": {
        settle();
        const live = [...waiting.keys()];
        const pool = op.anyTicket ? everIssued.map((t) => t.ticket) : live;
        if (pool.length > 0) poll(pool[op.pick % pool.length]!, op.wrongChannel);
        break;
      }
      case "pollAll": {
        settle();
        const live = [...waiting.entries()].sort((a, b) => a[1].seq - b[1].seq).map(([t]) => t);
        for (const ticket of op.reverse ? live.reverse() : live) poll(ticket, false);
        break;
      }
      case "renew": {
        settle();
        if (everGranted.length === 0) break;
        const picked = [...new Set(op.picks.map((p) => everGranted[p % everGranted.length]!))];
        const { ended: notActive } = model.activity({ sessionIds: picked, now });
        expect(notActive.sort()).toEqual(picked.filter((id) => !sessions.has(id)).sort());
        for (const id of picked) {
          const s = sessions.get(id);
          if (s) {
            s.lastSeen = now;
            s.claimed = true;
          }
        }
        break;
      }
      case "release": {
        settle();
        if (everGranted.length === 0) break;
        const id = everGranted[op.pick % everGranted.length]!;
        const s = sessions.get(id);
        expect(model.release(id, now)).toBe(s ? "released" : "ended");
        if (s) {
          sessions.delete(id);
          ended.add(id);
          if (s.ticket) grantedTicket.delete(s.ticket);
        }
        break;
      }
      case "expire": {
        const due = settle();
        const got = model.expire(now);
        expect(got.sessions.sort()).toEqual(due.expired.sort());
        expect(got.tickets.sort()).toEqual(due.dropped.sort());
        break;
      }
      case "overload":
        settle();
        model.setOverload(op.enabled, now);
        overload = op.enabled;
        break;
      case "report":
        settle();
        model.reportEgress({ source: op.source, bytes: op.bytes, now });
        break;
    }
    settle();
    const snap = model.snapshot(now);
    expect(snap.activeSessions).toBe(sessions.size);
    expect(snap.activeSessions).toBeLessThanOrEqual(max);
    expect(snap.queued).toBe(waiting.size);
    expect(snap.admittedTotal).toBe(grants);
    expect(snap.overload).toBe(overload);
  }

  // Every arrival ended up granted, queued or dropped, exactly once.
  const counts = { granted: 0, queued: 0, dropped: 0 };
  for (const o of outcome) counts[o]++;
  expect(counts.granted + counts.queued + counts.dropped).toBe(outcome.length);
  expect(counts.queued).toBe(waiting.size);
  expect(counts.granted).toBe(grants);
}

const leaseArb = fc.integer({ min: 5, max: 60 });
const claimArb = fc.integer({ min: 5, max: 60 });

describe("admission model properties", () => {
  it("never exceeds maxSessions, settles every arrival once, reports positions that never increase, admits strictly in FIFO order and ends unclaimed grants after claimSeconds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 8 }), leaseArb, claimArb, fc.array(opArb, { minLength: 50, maxLength: 300, size: "max" }), (maxSessions, leaseSeconds, claimSeconds, ops) => {
        check({ maxSessions, leaseSeconds, claimSeconds }, ops);
      }),
      { numRuns: 150 },
    );
  }, 120_000);

  it("keeps the same guarantees under an egress budget, and keeps every promise made to earlier tickets", () => {
    fc.assert(
      fc.property(
        fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
        fc.integer({ min: 0, max: 25 }),
        leaseArb,
        claimArb,
        fc.array(opArb, { minLength: 50, maxLength: 300, size: "max" }),
        (maxSessions, maxEgressMbps, leaseSeconds, claimSeconds, ops) => {
          check({ maxSessions, maxEgressMbps, leaseSeconds, claimSeconds }, ops);
        },
      ),
      { numRuns: 150 },
    );
  }, 120_000);
});
