// Sharded admission (durable-objects/event-gate/shards.ts): shards grant only from the slots they hold,
// the coordinator moves slots without the total ever passing maxSessions, and FIFO holds across shards
// to within one arrival bucket; then a property test over random arrivals, polls, leaves, give-ups and rounds.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BUCKET_MS,
  Coordinator,
  coordinateInProcess,
  ShardGate,
  shardOf,
  type ShardDecision,
  type ShardSessionRecord,
  type ShardTicketRecord,
} from "../../../durable-objects/event-gate/shards";

const T0 = 1_700_000_000_000;

interface Admission {
  ticket: string | null;
  arrivedAt: number;
  at: number;
  shard: number;
}

/** An event of `shards` gates and a coordinator, recording every admission. */
function event(shards: number, maxSessions: number) {
  const admissions: Admission[] = [];
  let n = 0;
  const gates = Array.from({ length: shards }, (_, i) => new ShardGate(i, { onAdmit: (ticket, arrivedAt, at) => admissions.push({ ticket, arrivedAt, at, shard: i }) }));
  const coordinator = new Coordinator(shards, maxSessions);
  const ids = { newTicket: () => `tkt_${++n}`, newSessionId: () => `ses_${++n}` };
  return {
    gates,
    coordinator,
    admissions,
    arrive: (shard: number, now: number) => gates[shard]!.arrive({ now, ...ids }),
    poll: (shard: number, ticket: string, now: number) => gates[shard]!.poll({ ticket, now, newSessionId: ids.newSessionId }),
    round: (now: number) => coordinateInProcess(coordinator, gates, now),
    taken: () => gates.reduce((a, g) => a + g.taken, 0),
    held: () => gates.reduce((a, g) => a + g.held, 0),
  };
}

const queued = (d: ShardDecision) => {
  if (d.status !== "queued") throw new Error(`expected queued, got ${d.status}`);
  return d;
};

describe("shardOf", () => {
  it("sends the same client to the same shard, and spreads clients over every shard", () => {
    expect(shardOf("client-42", 16)).toBe(shardOf("client-42", 16));
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 16_000; i++) counts[shardOf(`client-${i}`, 16)]!++;
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1200);
  });
});

describe("ShardGate and Coordinator", () => {
  it("queues every arrival until the coordinator's first round gives the shard slots", () => {
    const e = event(2, 10);
    expect(e.arrive(0, T0).status).toBe("queued");
    e.round(T0 + 1);
    expect(e.admissions).toHaveLength(1);
    expect(e.arrive(1, T0 + 2).status).toBe("granted");
  });

  it("grants exactly maxSessions over every shard, to the earliest arrivals", () => {
    const e = event(4, 10);
    e.round(T0);
    // 40 arrivals over 4 s, spread over the shards; the first 10 fill the event.
    const decisions: ShardDecision[] = [];
    for (let i = 0; i < 40; i++) decisions.push(e.arrive(i % 4, T0 + i * 100));
    e.round(T0 + 4_000);
    expect(e.taken()).toBe(10);
    expect(decisions.filter((d) => d.status === "granted").length + e.admissions.filter((a) => a.ticket !== null).length).toBe(10);
    for (const a of e.admissions) expect(a.arrivedAt).toBeLessThan(T0 + 10 * 100 + BUCKET_MS);
  });

  it("hands a freed slot to the earliest waiting viewer, whichever shard it is in", () => {
    const e = event(2, 2);
    e.round(T0);
    const a = e.arrive(0, T0 + 10);
    expect(a.status).toBe("granted");
    expect(e.arrive(1, T0 + 20).status).toBe("granted");
    const early = queued(e.arrive(1, T0 + 500));
    e.round(T0 + 1_000);
    const late = queued(e.arrive(0, T0 + 3_000));
    e.gates[0]!.release((a as { sessionId: string }).sessionId, T0 + 3_500);
    // Shard 0 now has a free slot, but its own viewer arrived after the horizon: it waits.
    expect(e.admissions).toHaveLength(2);
    e.round(T0 + 4_000);
    const admitted = e.admissions.map((x) => x.ticket);
    expect(admitted).toContain(early.ticket);
    expect(admitted).not.toContain(late.ticket);
    expect(e.poll(1, early.ticket, T0 + 4_500).status).toBe("granted");
    expect(e.taken()).toBe(2);
  });

  it("takes slots back from a shard that holds more than it needs before giving them to another", () => {
    const e = event(2, 4);
    e.round(T0);
    expect(e.gates.map((g) => g.held)).toEqual([2, 2]);
    for (let i = 0; i < 4; i++) e.arrive(1, T0 + 100 + i);
    // Shard 1 has 2 sessions and 2 waiting; shard 0 holds 2 it does not use.
    const shrink = e.coordinator.plan(
      e.gates.map((g) => g.report(T0 + 1_000)),
      T0 + 1_000,
    );
    expect(shrink.map((o) => [o.shard, o.held])).toEqual([[0, 0]]);
    // The grow order cannot go out before the shrink is confirmed: the pool is still empty.
    const early = e.coordinator.publish();
    expect(early.find((o) => o.shard === 1)!.held).toBe(2);
    e.coordinator.confirm(e.gates[0]!.apply(shrink[0]!, T0 + 1_000));
    for (const o of early) e.coordinator.confirm(e.gates[o.shard]!.apply(o, T0 + 1_000));
    expect(e.held()).toBeLessThanOrEqual(4);
    e.round(T0 + 2_000);
    expect(e.gates.map((g) => g.held)).toEqual([0, 4]);
    expect(e.taken()).toBe(4);
  });

  it("never gives back slots in use, and ignores an order older than the last it applied", () => {
    const e = event(1, 3);
    e.round(T0);
    e.arrive(0, T0 + 1);
    e.arrive(0, T0 + 2);
    const report = e.gates[0]!.apply({ shard: 0, epoch: 100, held: 0 }, T0 + 3);
    expect(report.held).toBe(2);
    expect(e.gates[0]!.apply({ shard: 0, epoch: 50, held: 3 }, T0 + 4).held).toBe(2);
  });

  it("reports positions from the global count of earlier arrivals", () => {
    const e = event(2, 0);
    e.round(T0);
    for (let i = 0; i < 5; i++) e.arrive(0, T0 + 100 + i);
    for (let i = 0; i < 3; i++) e.arrive(1, T0 + 200 + i);
    e.round(T0 + 1_000);
    // Shard 1's next viewer: its own 3 and shard 0's 5 from an earlier bucket ahead of it, then itself.
    expect(queued(e.arrive(1, T0 + 2_500)).position).toBe(9);
    e.round(T0 + 3_000);
    // Shard 0's next: its own 5, shard 1's 4, itself.
    expect(queued(e.arrive(0, T0 + 3_100)).position).toBe(10);
  });

  it("estimates the wait from the event's admission rate", () => {
    const e = event(2, 100);
    e.round(T0);
    const sessions: { shard: number; id: string }[] = [];
    for (let i = 0; i < 100; i++) {
      const d = e.arrive(i % 2, T0 + 10 + i);
      if (d.status === "granted") sessions.push({ shard: i % 2, id: d.sessionId });
    }
    expect(sessions).toHaveLength(100);
    for (let i = 0; i < 30; i++) queued(e.arrive(i % 2, T0 + 200 + i));
    e.round(T0 + 1_000);
    // 10 slots free at 1.5 s: over the 3 s the coordinator has measured, 10 / 3 a second.
    for (const s of sessions.slice(0, 10)) e.gates[s.shard]!.release(s.id, T0 + 1_500);
    e.round(T0 + 3_000);
    const d = queued(e.arrive(0, T0 + 3_100));
    expect(d.position).toBe(21);
    // Plus half its retry interval (4 s at position 21): it hears of its turn at its next poll.
    expect(d.estimatedWaitSeconds).toBe(Math.ceil(21 / (10 / 3) + 4 / 2));
  });

  it("queues every arrival while the overload switch is on, and admits again once it is off", () => {
    const e = event(2, 10);
    e.coordinator.setOverload(true);
    e.round(T0);
    expect(e.arrive(0, T0 + 10).status).toBe("queued");
    e.coordinator.setOverload(false);
    e.round(T0 + 1_000);
    expect(e.admissions).toHaveLength(1);
  });
});

type Op =
  | { kind: "arrive"; shard: number }
  | { kind: "poll"; pick: number }
  | { kind: "leave"; pick: number }
  | { kind: "abandon"; pick: number }
  | { kind: "advance"; ms: number }
  | { kind: "round" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("arrive" as const), shard: fc.nat(7) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("poll" as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("leave" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("abandon" as const), pick: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 2_500 }) }) },
  { weight: 3, arbitrary: fc.constant({ kind: "round" as const }) },
);

describe("ShardGate leases and claims", () => {
  it("ends a grant not renewed within the claim period and frees its slot, and keeps one renewed in time until its lease runs out", () => {
    let n = 0;
    const ids = { newTicket: () => `tkt_${++n}`, newSessionId: () => `ses_${++n}` };
    const gate = new ShardGate(0);
    gate.setLeaseMs(60_000, T0);
    gate.setClaimMs(30_000, T0);
    coordinateInProcess(new Coordinator(1, 2), [gate], T0);
    const used = gate.arrive({ now: T0, ...ids }) as { sessionId: string };
    const unused = gate.arrive({ now: T0, ...ids }) as { sessionId: string };
    expect(gate.renew([used.sessionId], T0 + 10_000)).toEqual([]);
    expect(gate.taken).toBe(2);
    expect(gate.renew([used.sessionId, unused.sessionId], T0 + 30_000)).toEqual([unused.sessionId]);
    expect(gate.taken).toBe(1);
    expect(gate.renew([used.sessionId], T0 + 80_000)).toEqual([]);
    expect(gate.renew([used.sessionId], T0 + 140_000)).toEqual([used.sessionId]);
    expect(gate.taken).toBe(0);
  });
});

describe("ShardGate persistence", () => {
  it("restores from its stored records: the same report, positions and sessions, leases and admitted tickets kept", () => {
    let n = 0;
    const ids = { newTicket: () => `tkt_${++n}`, newSessionId: () => `ses_${++n}` };
    const store = { sessions: new Map<string, ShardSessionRecord>(), tickets: new Map<string, ShardTicketRecord>() };
    const gate = new ShardGate(0, { trackChanges: true });
    const write = () => {
      const changes = gate.takeChanges();
      for (const id of changes.sessions) {
        const r = gate.sessionRecord(id);
        if (r) store.sessions.set(id, r);
        else store.sessions.delete(id);
      }
      for (const t of changes.tickets) {
        const r = gate.ticketRecord(t);
        if (r) store.tickets.set(t, r);
        else store.tickets.delete(t);
      }
      return gate.metaRecord();
    };
    const coordinator = new Coordinator(1, 3);
    gate.setLeaseMs(60_000, T0);
    coordinateInProcess(coordinator, [gate], T0);
    const granted = [1, 2, 3].map((i) => gate.arrive({ now: T0 + i, ...ids }));
    expect(granted.every((d) => d.status === "granted")).toBe(true);
    const queued = [4, 5, 6].map((i) => gate.arrive({ now: T0 + i, ...ids })) as Extract<ShardDecision, { status: "queued" }>[];
    expect(queued.map((d) => d.status)).toEqual(["queued", "queued", "queued"]);
    // One session leaves: the earliest ticket is admitted and holds the slot until its viewer polls.
    gate.release((granted[0] as { sessionId: string }).sessionId, T0 + 10);
    const meta = JSON.parse(JSON.stringify(write())) as ReturnType<typeof gate.metaRecord>;

    const restored = new ShardGate(0, { trackChanges: true });
    restored.restore({ meta, sessions: [...store.sessions.values()], tickets: [...store.tickets.values()] }, T0 + 20);
    expect(restored.report(T0 + 20)).toEqual(gate.report(T0 + 20));
    expect(restored.poll({ ticket: queued[2]!.ticket, now: T0 + 20, newSessionId: ids.newSessionId })).toMatchObject({ status: "queued", position: 2 });
    expect(restored.poll({ ticket: queued[0]!.ticket, now: T0 + 20, newSessionId: ids.newSessionId }).status).toBe("granted");
    expect(restored.renew([(granted[1] as { sessionId: string }).sessionId, "ses_unknown"], T0 + 20)).toEqual(["ses_unknown"]);
    expect(restored.taken).toBe(3);
    // Leases still run: without renewals, the restored sessions end a lease after their stored renewal.
    expect(restored.renew([(granted[2] as { sessionId: string }).sessionId], T0 + 200_000)).toEqual([(granted[2] as { sessionId: string }).sessionId]);
  });
});

describe("sharded admission under random interleavings", () => {
  it("never grants past maxSessions, and admits nobody more than one bucket after a viewer still waiting", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 8 }), fc.array(opArb, { minLength: 10, maxLength: 120, size: "max" }), (shards, maxSessions, ops) => {
        const e = event(shards, maxSessions);
        let now = T0;
        const waiting: { shard: number; ticket: string }[] = [];
        const playing: { shard: number; sessionId: string }[] = [];
        const track = (shard: number, d: ShardDecision) => {
          if (d.status === "granted") playing.push({ shard, sessionId: d.sessionId });
          else if (d.status === "queued") waiting.push({ shard, ticket: d.ticket });
        };
        for (const op of ops) {
          const seen = e.admissions.length;
          switch (op.kind) {
            case "arrive": {
              const shard = op.shard % shards;
              track(shard, e.arrive(shard, now));
              break;
            }
            case "poll": {
              if (waiting.length === 0) break;
              const [w] = waiting.splice(op.pick % waiting.length, 1);
              track(w!.shard, e.poll(w!.shard, w!.ticket, now));
              break;
            }
            case "leave": {
              if (playing.length === 0) break;
              const [p] = playing.splice(op.pick % playing.length, 1);
              expect(e.gates[p!.shard]!.release(p!.sessionId, now)).toBe(true);
              break;
            }
            case "abandon":
              // The viewer stops polling; its shard drops the ticket after twice its retry interval.
              if (waiting.length > 0) waiting.splice(op.pick % waiting.length, 1);
              break;
            case "advance":
              now += op.ms;
              break;
            case "round":
              e.round(now);
              break;
          }
          expect(e.taken()).toBeLessThanOrEqual(maxSessions);
          expect(e.held()).toBeLessThanOrEqual(e.coordinator.allocated);
          expect(e.coordinator.allocated).toBeLessThanOrEqual(maxSessions);
          // FIFO: everyone admitted by this step arrived less than one bucket after anyone still waiting.
          const oldest = Math.min(...e.gates.map((g) => g.oldestWaiting() ?? Infinity));
          for (const a of e.admissions.slice(seen)) expect(a.arrivedAt - oldest).toBeLessThanOrEqual(BUCKET_MS);
        }
      }),
      { numRuns: 300 },
    );
  });
});
