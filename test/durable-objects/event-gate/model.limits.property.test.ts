// Property tests of the hoarding limits: under random arrivals of signed-in viewers, anonymous addresses
// and callers with neither, polls, renewals, releases and time, no viewer or address ever holds more than
// its limit, a viewer at its limit is granted at once in place of its oldest session, and only a fresh
// anonymous arrival from a full address is ever refused.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AdmissionModel, type AdmissionDecision } from "../../../durable-objects/event-gate/model";

type Op =
  | { kind: "arrive"; who: number; channel: number }
  | { kind: "poll"; pick: number }
  | { kind: "renew"; picks: number[] }
  | { kind: "release"; pick: number }
  | { kind: "advance"; ms: number }
  | { kind: "overload"; enabled: boolean };

const CHANNELS = ["main", "tactical"];
/** Who asks: three signed-in viewers, three anonymous addresses, and a caller with neither. */
const WHO = [{ viewerId: "u0" }, { viewerId: "u1" }, { viewerId: "u2" }, { address: "a0" }, { address: "a1" }, { address: "a2" }, {}] as const;
const holderOf = (who: number): string | null => {
  const w: { viewerId?: string; address?: string } = WHO[who]!;
  return w.viewerId !== undefined ? `viewer:${w.viewerId}` : w.address !== undefined ? `address:${w.address}` : null;
};

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant("arrive" as const), who: fc.nat(WHO.length - 1), channel: fc.nat(1) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("poll" as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("renew" as const), picks: fc.array(fc.nat(), { maxLength: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("release" as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 12_000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("overload" as const), enabled: fc.boolean() }) },
);

interface Limits {
  maxSessions: number;
  leaseSeconds: number;
  claimSeconds: number;
  maxSessionsPerViewer: number;
  maxSessionsPerAddress?: number;
}

function check(limits: Limits, ops: Op[]): void {
  const model = new AdmissionModel();
  let now = 1_000_000;
  let ids = 0;
  model.configure(limits, now);
  // Everything ever handed out, with whom it counts for; the model says what is still live.
  const granted: { id: string; holder: string | null }[] = [];
  const issued: { ticket: string; holder: string | null; channel: string }[] = [];
  const liveSessions = (holder: string) => granted.filter((g) => g.holder === holder && model.sessionState(g.id, now) === "active");
  const liveTickets = (holder: string) => issued.filter((t) => t.holder === holder && model.ticketRecord(t.ticket) !== null);
  const ask = (input: { ticket?: string; channelId: string; viewerId?: string; address?: string }, holder: string | null): AdmissionDecision => {
    const d = model.request({ ...input, rejoinIfInvalid: true, now, newTicket: () => `tkt_${++ids}`, newSessionId: () => `ses_${++ids}` });
    if (d.status === "granted" && !granted.some((g) => g.id === d.sessionId)) granted.push({ id: d.sessionId, holder });
    if (d.status === "queued" && !issued.some((t) => t.ticket === d.ticket)) issued.push({ ticket: d.ticket, holder, channel: input.channelId });
    return d;
  };

  for (const op of ops) {
    switch (op.kind) {
      case "advance":
        now += op.ms;
        break;
      case "overload":
        model.setOverload(op.enabled, now);
        break;
      case "arrive": {
        const holder = holderOf(op.who);
        const channelId = CHANNELS[op.channel]!;
        const sessionsBefore = holder ? liveSessions(holder) : [];
        const ticketsBefore = holder ? liveTickets(holder) : [];
        const d = ask({ channelId, ...WHO[op.who] }, holder);
        if (holder?.startsWith("viewer:") && sessionsBefore.length >= limits.maxSessionsPerViewer) {
          // At its limit: granted at once, in place of its oldest sessions.
          expect(d.status).toBe("granted");
          const ended = sessionsBefore.slice(0, sessionsBefore.length - limits.maxSessionsPerViewer + 1);
          for (const s of ended) expect(model.sessionState(s.id, now)).toBe("expired");
        }
        const cap = limits.maxSessionsPerAddress;
        const full = holder?.startsWith("address:") && cap !== undefined && sessionsBefore.length + ticketsBefore.length >= cap;
        if (!full) expect(d.status).not.toBe("address_limit");
        else {
          const own = ticketsBefore.filter((t) => t.channel === channelId).map((t) => t.ticket);
          if (own.length === 0) expect(d).toEqual({ status: "address_limit", limit: cap });
          else if (d.status === "queued") expect(own).toContain(d.ticket);
          else expect(d.status).toBe("granted");
        }
        break;
      }
      case "poll": {
        const live = issued.filter((t) => model.ticketRecord(t.ticket) !== null);
        if (live.length === 0) break;
        const t = live[op.pick % live.length]!;
        // A live ticket's poll is never refused, whoever asks.
        const d = ask({ ticket: t.ticket, channelId: t.channel }, t.holder);
        expect(["granted", "queued"]).toContain(d.status);
        break;
      }
      case "renew": {
        if (granted.length === 0) break;
        model.activity({ sessionIds: op.picks.map((p) => granted[p % granted.length]!.id), now });
        break;
      }
      case "release": {
        if (granted.length === 0) break;
        model.release(granted[op.pick % granted.length]!.id, now);
        break;
      }
    }
    for (const who of WHO.keys()) {
      const holder = holderOf(who);
      if (!holder) continue;
      const sessions = liveSessions(holder).length;
      const tickets = liveTickets(holder).length;
      if (holder.startsWith("viewer:")) {
        expect(sessions).toBeLessThanOrEqual(limits.maxSessionsPerViewer);
        expect(tickets).toBeLessThanOrEqual(limits.maxSessionsPerViewer);
      } else if (limits.maxSessionsPerAddress !== undefined) {
        expect(sessions + tickets).toBeLessThanOrEqual(limits.maxSessionsPerAddress);
      }
    }
    expect(model.snapshot(now).activeSessions).toBeLessThanOrEqual(limits.maxSessions);
  }
}

describe("admission model properties: hoarding limits", () => {
  it("keeps every viewer and address within its limit, replaces a viewer's oldest session at the limit, and refuses only fresh anonymous arrivals from a full address", () => {
    fc.assert(
      fc.property(
        fc.record({
          maxSessions: fc.integer({ min: 0, max: 6 }),
          leaseSeconds: fc.integer({ min: 5, max: 60 }),
          claimSeconds: fc.integer({ min: 5, max: 30 }),
          maxSessionsPerViewer: fc.integer({ min: 1, max: 3 }),
          maxSessionsPerAddress: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
        }),
        fc.array(opArb, { minLength: 30, maxLength: 200 }),
        (limits, ops) => check(limits, ops),
      ),
      { numRuns: 200 },
    );
  }, 120_000);
});
