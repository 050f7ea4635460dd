// Admission cases written once and run against both the pure model (Node) and the EventGate Durable Object (workerd).
import { describe, expect, it } from "vitest";
import type {
  AdmissionDecision,
  AdmissionSnapshot,
  EgressSource,
  LimitsInput,
  ReleaseResult,
} from "../../../durable-objects/event-gate/model";

/** What both implementations offer; time only moves through `advance`. */
export interface AdmissionSubject {
  configure(limits: LimitsInput): Promise<unknown>;
  admit(input: { ticket?: string; channelId: string; renditionsBps?: number[]; rejoinIfInvalid?: boolean; viewerId?: string; address?: string }): Promise<AdmissionDecision>;
  report(input: { activeSessionIds: string[]; bytes: number; source: EgressSource }): Promise<{ expiredSessionIds: string[] }>;
  release(sessionId: string): Promise<ReleaseResult>;
  setOverload(enabled: boolean): Promise<boolean>;
  snapshot(): Promise<AdmissionSnapshot>;
  advance(ms: number): Promise<void>;
}

type Granted = Extract<AdmissionDecision, { status: "granted" }>;
type Queued = Extract<AdmissionDecision, { status: "queued" }>;

function granted(d: AdmissionDecision): Granted {
  expect(d.status).toBe("granted");
  return d as Granted;
}
function queued(d: AdmissionDecision): Queued {
  expect(d.status).toBe("queued");
  return d as Queued;
}

const LADDER = [800_000, 2_500_000, 5_000_000];
/** Bytes that, reported now, measure as `mbps` over the 30-second egress window. */
const bytesFor = (mbps: number) => (mbps * 1e6 * 30) / 8;

/** The two 1,000-viewer cases make a few thousand calls; through a Durable Object that takes seconds. */
const CROWD_TIMEOUT_MS = 120_000;

/** Registers every case with vitest against subjects built by `make` (one fresh event per case). */
export function runAdmissionCases(make: () => Promise<AdmissionSubject>): void {
  describe("capacity and queue", () => {
    it("grants exactly maxSessions of 1,000 simultaneous arrivals and queues the rest at positions 1 to 900 in arrival order", async () => {
      const gate = await make();
      await gate.configure({ maxSessions: 100 });
      const answers = await Promise.all(Array.from({ length: 1000 }, () => gate.admit({ channelId: "main" })));
      expect(answers.slice(0, 100).every((a) => a.status === "granted")).toBe(true);
      const waiting = answers.slice(100).map(queued);
      expect(waiting.map((q) => q.position)).toEqual(Array.from({ length: 900 }, (_, i) => i + 1));
      expect(new Set(waiting.map((q) => q.ticket)).size).toBe(900);
      for (const q of waiting) {
        expect(q.retryAfterSeconds).toBeGreaterThanOrEqual(1);
        expect(q.retryAfterSeconds).toBeLessThanOrEqual(10);
        expect(q.estimatedWaitSeconds).toBeGreaterThan(0);
      }
      expect(await gate.snapshot()).toMatchObject({ activeSessions: 100, queued: 900, admittedTotal: 100 });
   }, CROWD_TIMEOUT_MS);

    it("admits exactly the 10 earliest tickets at their next poll when 10 sessions are released, even if later tickets poll first", async () => {
      const gate = await make();
      await gate.configure({ maxSessions: 100 });
      const answers = await Promise.all(Array.from({ length: 1000 }, () => gate.admit({ channelId: "main" })));
      const sessions = answers.slice(0, 100).map((a) => granted(a).sessionId);
      const tickets = answers.slice(100).map((a) => queued(a).ticket);
      await gate.advance(1000);
      for (const id of sessions.slice(0, 10)) expect(await gate.release(id)).toBe("released");
      const polls = await Promise.all([...tickets].reverse().map((ticket) => gate.admit({ ticket, channelId: "main" })));
      const byTicket = new Map([...tickets].reverse().map((t, i) => [t, polls[i]!]));
      expect(tickets.slice(0, 10).every((t) => byTicket.get(t)!.status === "granted")).toBe(true);
      expect(tickets.slice(10).every((t) => byTicket.get(t)!.status === "queued")).toBe(true);
      const again = await Promise.all(tickets.slice(10).map((ticket) => gate.admit({ ticket, channelId: "main" })));
      expect(again.map((a) => queued(a).position)).toEqual(Array.from({ length: 890 }, (_, i) => i + 1));
      expect(await gate.snapshot()).toMatchObject({ activeSessions: 100, queued: 890, admittedTotal: 110 });
   }, CROWD_TIMEOUT_MS);

    it("answers a ticket polled again after its grant with the same session", async () => {
      const gate = await make();
      await gate.configure({ maxSessions: 1 });
      const first = granted(await gate.admit({ channelId: "main" }));
      const { ticket } = queued(await gate.admit({ channelId: "main" }));
      await gate.release(first.sessionId);
      const second = granted(await gate.admit({ ticket, channelId: "main" }));
      expect(granted(await gate.admit({ ticket, channelId: "main" })).sessionId).toBe(second.sessionId);
      expect((await gate.snapshot()).activeSessions).toBe(1);
    });

    it("refuses a ticket presented on another channel and keeps its place on its own", async () => {
      const gate = await make();
      await gate.configure({ maxSessions: 0 });
      const a = queued(await gate.admit({ channelId: "main" }));
      queued(await gate.admit({ channelId: "main" }));
      expect(await gate.admit({ ticket: a.ticket, channelId: "other" })).toEqual({ status: "invalid_ticket" });
      expect(await gate.admit({ ticket: "tkt_made_up", channelId: "main" })).toEqual({ status: "invalid_ticket" });
      expect(queued(await gate.admit({ ticket: a.ticket, channelId: "main" })).position).toBe(1);
    });

    it("queues an unknown or other-channel ticket at the back as a fresh arrival when asked to rejoin, and grants it when there is room", async () => {
      const gate = await make();
      await gate.configure({ maxSessions: 0 });
      const a = queued(await gate.admit({ channelId: "main" }));
      const b = queued(await gate.admit({ channelId: "main" }));
      const stranger = queued(await gate.admit({ ticket: "tkt_made_up", channelId: "main", rejoinIfInvalid: true }));
      expect(stranger.ticket).not.toBe("tkt_made_up");
      expect(stranger.position).toBe(3);
      const moved = queued(await gate.admit({ ticket: a.ticket, channelId: "other", rejoinIfInvalid: true }));
      expect(moved.ticket).not.toBe(a.ticket);
      expect(moved.position).toBe(4);
      expect(queued(await gate.admit({ ticket: b.ticket, channelId: "main", rejoinIfInvalid: true }))).toMatchObject({ ticket: b.ticket, position: 2 });
      expect((await gate.snapshot()).queued).toBe(4);
      await gate.configure({ maxSessions: 5 });
      granted(await gate.admit({ ticket: "tkt_gone", channelId: "main", rejoinIfInvalid: true }));
      expect((await gate.snapshot()).activeSessions).toBe(1);
    });

    it("drops a ticket not polled for twice its retry interval and moves the ones behind it forward", async () => {
      const gate = await make();
      await gate.configure({ maxSessions: 0 });
      const [b, c, d] = [queued(await gate.admit({ channelId: "main" })), queued(await gate.admit({ channelId: "main" })), queued(await gate.admit({ channelId: "main" }))];
      expect([b.position, c.position, d.position]).toEqual([1, 2, 3]);
      const retryMs = b.retryAfterSeconds * 1000;
      await gate.advance(retryMs);
      expect(queued(await gate.admit({ ticket: c.ticket, channelId: "main" })).position).toBe(2);
      expect(queued(await gate.admit({ ticket: d.ticket, channelId: "main" })).position).toBe(3);
      await gate.advance(retryMs);
      expect(queued(await gate.admit({ ticket: c.ticket, channelId: "main" })).position).toBe(1);
      expect(queued(await gate.admit({ ticket: d.ticket, channelId: "main" })).position).toBe(2);
      expect(await gate.admit({ ticket: b.ticket, channelId: "main" })).toEqual({ status: "invalid_ticket" });
      expect((await gate.snapshot()).queued).toBe(2);
    });

    it("bases the wait estimate on the rate at which slots were seen to free", async () => {
      const gate = await make();
      await gate.configure({ maxSessions: 10 });
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) ids.push(granted(await gate.admit({ channelId: "main" })).sessionId);
      const tickets: Queued[] = [];
      for (let i = 0; i < 20; i++) tickets.push(queued(await gate.admit({ channelId: "main" })));
      const last = tickets[19]!;
      expect(last.position).toBe(20);
      for (const id of ids.slice(0, 6)) await gate.release(id);
      for (const t of tickets.slice(0, 6)) granted(await gate.admit({ ticket: t.ticket, channelId: "main" }));
      const now = queued(await gate.admit({ ticket: last.ticket, channelId: "main" }));
      expect(now.position).toBe(14);
      // Six slots freed within the last minute: about 0.1 per second, so position 14 is about 140 s away.
      expect(now.estimatedWaitSeconds).toBeGreaterThanOrEqual(100);
      expect(now.estimatedWaitSeconds).toBeLessThanOrEqual(200);
      expect(now.estimatedWaitSeconds).toBeLessThan(last.estimatedWaitSeconds);
    });
  });

  describe("leases", () => {
    it("frees the slot of a session whose lease ran out (leaseSeconds plus the report allowance) and reports that session expired", async () => {
      const gate = await make();
      await gate.configure({ maxSessions: 1, leaseSeconds: 10 });
      const a = granted(await gate.admit({ channelId: "main" }));
      expect(a.leaseSeconds).toBe(10);
      const b = queued(await gate.admit({ channelId: "main" }));
      // 10 s lease + 5 s allowance for the report in flight: still held at 14 s, freed at 16 s.
      for (let t = 2; t < 16; t += 2) {
        await gate.advance(2000);
        queued(await gate.admit({ ticket: b.ticket, channelId: "main" }));
      }
      await gate.advance(2000);
      expect((await gate.report({ activeSessionIds: [a.sessionId], bytes: 0, source: "edge" })).expiredSessionIds).toEqual([a.sessionId]);
      granted(await gate.admit({ ticket: b.ticket, channelId: "main" }));
      expect(await gate.release(a.sessionId)).toBe("ended");
    });

    it("keeps a lone viewer alive on one report per lease period, the report arriving a few seconds after it is due", async () => {
      const gate = await make();
      await gate.configure({ maxSessions: 1, leaseSeconds: 60 });
      const a = granted(await gate.admit({ channelId: "main" }));
      // The edge reports a session's first request on an isolate within a few seconds (its claim).
      await gate.advance(2_000);
      expect((await gate.report({ activeSessionIds: [a.sessionId], bytes: 1000, source: "edge" })).expiredSessionIds).toEqual([]);
      for (let i = 0; i < 10; i++) {
        await gate.advance(60_000 + 4_000); // due after one lease; sent with the viewer's next playlist reload
        expect((await gate.report({ activeSessionIds: [a.sessionId], bytes: 1000, source: "edge" })).expiredSessionIds).toEqual([]);
      }
      expect((await gate.snapshot()).activeSessions).toBe(1);
      // Once the reports stop, the slot frees a lease and an allowance (30 s) later, not before.
      await gate.advance(89_000);
      expect((await gate.snapshot()).activeSessions).toBe(1);
      await gate.advance(2_000);
      expect((await gate.snapshot()).activeSessions).toBe(0);
    });

    it("keeps a session alive while an edge reports its activity", async () => {
      const gate = await make();
      await gate.configure({ maxSessions: 1, leaseSeconds: 10 });
      const a = granted(await gate.admit({ channelId: "main" }));
      for (let t = 0; t < 60; t += 5) {
        await gate.advance(5000);
        expect((await gate.report({ activeSessionIds: [a.sessionId], bytes: 1000, source: "edge" })).expiredSessionIds).toEqual([]);
      }
      expect((await gate.snapshot()).activeSessions).toBe(1);
    });

    it("frees a released session's slot at once and tells released, ended and unknown apart", async () => {
      const gate = await make();
      await gate.configure({ maxSessions: 1 });
      const a = granted(await gate.admit({ channelId: "main" }));
      queued(await gate.admit({ channelId: "main" }));
      expect(await gate.release(a.sessionId)).toBe("released");
      expect(await gate.release(a.sessionId)).toBe("ended");
      expect(await gate.release("ses_never_granted")).toBe("unknown");
      expect((await gate.snapshot()).activeSessions).toBe(0);
    });
  });

  describe("claims: a grant must be used", () => {
    it("frees the slot of a grant not reported playing within claimSeconds, and reports that session expired", async () => {
      const gate = await make();
      await gate.configure({ maxSessions: 1, claimSeconds: 10, leaseSeconds: 60 });
      const a = granted(await gate.admit({ channelId: "main" }));
      const b = queued(await gate.admit({ channelId: "main" }));
      for (let t = 3; t < 10; t += 3) {
        await gate.advance(3000);
        queued(await gate.admit({ ticket: b.ticket, channelId: "main" }));
      }
      await gate.advance(1000);
      granted(await gate.admit({ ticket: b.ticket, channelId: "main" }));
      expect((await gate.report({ activeSessionIds: [a.sessionId], bytes: 0, source: "edge" })).expiredSessionIds).toEqual([a.sessionId]);
      expect(await gate.release(a.sessionId)).toBe("ended");
    });

    it("keeps a grant reported playing within claimSeconds for its whole lease", async () => {
      const gate = await make();
      await gate.configure({ maxSessions: 1, claimSeconds: 10, leaseSeconds: 60 });
      const a = granted(await gate.admit({ channelId: "main" }));
      await gate.advance(9_000);
      expect((await gate.report({ activeSessionIds: [a.sessionId], bytes: 1000, source: "node" })).expiredSessionIds).toEqual([]);
      await gate.advance(80_000);
      expect((await gate.snapshot()).activeSessions).toBe(1);
      await gate.advance(10_000);
      expect((await gate.snapshot()).activeSessions).toBe(0);
    });

    it("runs an event configured without the new limits with their defaults: 30 s claims, 2 sessions per viewer, no address limit", async () => {
      const gate = await make();
      await gate.configure({ maxSessions: 100 });
      const limits = (await gate.snapshot()).limits;
      expect(limits).toMatchObject({ claimSeconds: 30, maxSessionsPerViewer: 2, leaseSeconds: 60 });
      expect(limits.maxSessionsPerAddress).toBeUndefined();
      for (let i = 0; i < 5; i++) granted(await gate.admit({ channelId: "main", address: "203.0.113.7" }));
      await gate.advance(29_000);
      expect((await gate.snapshot()).activeSessions).toBe(5);
      await gate.advance(1_000);
      expect((await gate.snapshot()).activeSessions).toBe(0);
    });
  });

  describe("per-viewer and per-address limits", () => {
    it("ends a signed-in viewer's oldest session when a new grant takes it past maxSessionsPerViewer, at once even when the event is full", async () => {
      const gate = await make();
      await gate.configure({ maxSessions: 2, maxSessionsPerViewer: 2 });
      const first = granted(await gate.admit({ channelId: "main", viewerId: "u1" }));
      const second = granted(await gate.admit({ channelId: "main", viewerId: "u1" }));
      const stranger = queued(await gate.admit({ channelId: "main", address: "198.51.100.1" }));
      await gate.advance(1000);
      const third = granted(await gate.admit({ channelId: "other", viewerId: "u1" }));
      const { expiredSessionIds } = await gate.report({ activeSessionIds: [first.sessionId, second.sessionId, third.sessionId], bytes: 0, source: "edge" });
      expect(expiredSessionIds).toEqual([first.sessionId]);
      expect(await gate.snapshot()).toMatchObject({ activeSessions: 2, queued: 1 });
      // The stranger keeps its place: the viewer took back its own slot, not one the queue was owed.
      expect(queued(await gate.admit({ ticket: stranger.ticket, channelId: "main" })).position).toBe(1);
    });

    it("gives a signed-in viewer at most maxSessionsPerViewer places in the queue, a new one dropping its oldest", async () => {
      const gate = await make();
      await gate.configure({ maxSessions: 0, maxSessionsPerViewer: 2 });
      const tickets = [];
      for (let i = 0; i < 3; i++) tickets.push(queued(await gate.admit({ channelId: "main", viewerId: "u1" })));
      expect(await gate.admit({ ticket: tickets[0]!.ticket, channelId: "main" })).toEqual({ status: "invalid_ticket" });
      expect(queued(await gate.admit({ ticket: tickets[2]!.ticket, channelId: "main" })).position).toBe(2);
      expect((await gate.snapshot()).queued).toBe(2);
    });

    it("gives an anonymous arrival from an address at maxSessionsPerAddress its own ticket back instead of a new place", async () => {
      const gate = await make();
      await gate.configure({ maxSessions: 0, maxSessionsPerAddress: 2 });
      const a = queued(await gate.admit({ channelId: "main", address: "198.51.100.1" }));
      queued(await gate.admit({ channelId: "main", address: "198.51.100.1" }));
      for (let i = 0; i < 5; i++) expect(queued(await gate.admit({ channelId: "main", address: "198.51.100.1" }))).toMatchObject({ ticket: a.ticket, position: 1 });
      expect(queued(await gate.admit({ channelId: "main", address: "198.51.100.2" })).position).toBe(3);
      expect((await gate.snapshot()).queued).toBe(3);
    });

    it("refuses an anonymous arrival from an address holding maxSessionsPerAddress sessions, but not a signed-in viewer there, and admits it again once one ends", async () => {
      const gate = await make();
      await gate.configure({ maxSessions: 10, maxSessionsPerAddress: 2 });
      const a = granted(await gate.admit({ channelId: "main", address: "198.51.100.1" }));
      granted(await gate.admit({ channelId: "main", address: "198.51.100.1" }));
      expect(await gate.admit({ channelId: "main", address: "198.51.100.1" })).toEqual({ status: "address_limit", limit: 2 });
      expect(await gate.admit({ ticket: "tkt_made_up", channelId: "main", address: "198.51.100.1", rejoinIfInvalid: true })).toEqual({ status: "address_limit", limit: 2 });
      granted(await gate.admit({ channelId: "main", address: "198.51.100.2" }));
      granted(await gate.admit({ channelId: "main", viewerId: "u1" }));
      await gate.release(a.sessionId);
      granted(await gate.admit({ channelId: "main", address: "198.51.100.1" }));
      expect((await gate.snapshot()).activeSessions).toBe(4);
    });

    it("never refuses a queued ticket's poll, and counts the session it turns into among its address's places", async () => {
      const gate = await make();
      await gate.configure({ maxSessions: 1, maxSessionsPerAddress: 2 });
      const other = granted(await gate.admit({ channelId: "main", address: "198.51.100.9" }));
      const t1 = queued(await gate.admit({ channelId: "main", address: "198.51.100.1" }));
      const t2 = queued(await gate.admit({ channelId: "main", address: "198.51.100.1" }));
      await gate.release(other.sessionId);
      granted(await gate.admit({ ticket: t1.ticket, channelId: "main" }));
      expect(queued(await gate.admit({ ticket: t2.ticket, channelId: "main" })).position).toBe(1);
      // One session and one ticket: the address is at its limit, and its ticket for the channel comes back.
      expect(queued(await gate.admit({ channelId: "main", address: "198.51.100.1" })).ticket).toBe(t2.ticket);
      expect(await gate.admit({ channelId: "other", address: "198.51.100.1" })).toEqual({ status: "address_limit", limit: 2 });
    });
  });

  describe("overload switch", () => {
    it("queues the next new viewer when switched on while granted sessions keep renewing, and admits the queue in order when switched off", async () => {
      const gate = await make();
      await gate.configure({ maxSessions: 2, leaseSeconds: 10 });
      const a = granted(await gate.admit({ channelId: "main" }));
      expect(await gate.setOverload(true)).toBe(true);
      const b = queued(await gate.admit({ channelId: "main" }));
      const c = queued(await gate.admit({ channelId: "main" }));
      expect([b.position, c.position]).toEqual([1, 2]);
      for (let t = 0; t < 30; t += 2) {
        await gate.advance(2000);
        expect((await gate.report({ activeSessionIds: [a.sessionId], bytes: 0, source: "edge" })).expiredSessionIds).toEqual([]);
        queued(await gate.admit({ ticket: b.ticket, channelId: "main" }));
        queued(await gate.admit({ ticket: c.ticket, channelId: "main" }));
      }
      expect((await gate.snapshot()).overload).toBe(true);
      await gate.setOverload(false);
      expect(queued(await gate.admit({ ticket: c.ticket, channelId: "main" })).position).toBe(2);
      granted(await gate.admit({ ticket: b.ticket, channelId: "main" }));
      expect(queued(await gate.admit({ ticket: c.ticket, channelId: "main" })).position).toBe(1);
      await gate.release(a.sessionId);
      granted(await gate.admit({ ticket: c.ticket, channelId: "main" }));
      expect(await gate.snapshot()).toMatchObject({ activeSessions: 2, queued: 0, overload: false });
    });
  });

  describe("egress budget", () => {
    it("grants every rendition while the budget has room for the top one", async () => {
      const gate = await make();
      await gate.configure({ maxEgressMbps: 100 });
      const a = granted(await gate.admit({ channelId: "main", renditionsBps: LADDER }));
      expect(a.maxBandwidth).toBeUndefined();
    });

    it("grants a ladder capped at the lowest rendition when only that fits, and queues when even it does not", async () => {
      const gate = await make();
      await gate.configure({ maxEgressMbps: 10 });
      await gate.report({ activeSessionIds: [], bytes: bytesFor(6), source: "edge" });
      await gate.report({ activeSessionIds: [], bytes: bytesFor(2.5), source: "node" });
      const snap = await gate.snapshot();
      expect(snap.egressBpsEdge).toBeCloseTo(6e6, -3);
      expect(snap.egressBpsNodes).toBeCloseTo(2.5e6, -3);
      expect(snap.egressBps).toBeCloseTo(8.5e6, -3);
      const capped = granted(await gate.admit({ channelId: "main", renditionsBps: LADDER }));
      expect(capped.maxBandwidth).toBe(800_000);
      const waiting = queued(await gate.admit({ channelId: "main", renditionsBps: LADDER }));
      expect(waiting.position).toBe(1);
    });

    it("admits a queued viewer once the measured egress falls out of the window", async () => {
      const gate = await make();
      await gate.configure({ maxEgressMbps: 10 });
      await gate.report({ activeSessionIds: [], bytes: bytesFor(9.9), source: "edge" });
      const waiting = queued(await gate.admit({ channelId: "main", renditionsBps: LADDER }));
      for (let t = 0; t < 30; t += 2) {
        await gate.advance(2000);
        await gate.admit({ ticket: waiting.ticket, channelId: "main", renditionsBps: LADDER });
      }
      await gate.advance(1000);
      const admitted = granted(await gate.admit({ ticket: waiting.ticket, channelId: "main", renditionsBps: LADDER }));
      expect(admitted.maxBandwidth).toBeUndefined();
    });
  });
}
