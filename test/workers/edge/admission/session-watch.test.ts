// The edge's batching of admission activity: how many calls a steady viewer costs the event gate, and
// what the edge learns from the answers. The gate is a stand-in that records calls (the real one is
// tested in test/durable-objects/); time is passed in, so ten simulated minutes take no real time.
import { describe, expect, it } from "vitest";
import { SessionWatch } from "../../../../workers/edge/admission/session-watch";
import type { ReportInput } from "../../../../durable-objects/event-gate/client";

interface Call {
  eventId: string;
  input: ReportInput;
  at: number;
}

function fakeEnv(options: { leaseSeconds?: number; expired?: string[]; failing?: () => boolean } = {}) {
  const calls: Call[] = [];
  let clock = 0;
  const env = {
    EVENT_GATE: {
      idFromName: (name: string) => name,
      get: (eventId: string) => ({
        report: async (input: ReportInput) => {
          if (options.failing?.()) throw new Error("gate unreachable");
          calls.push({ eventId, input, at: clock });
          return { expiredSessionIds: options.expired ?? [], overload: false, leaseSeconds: options.leaseSeconds ?? 60 };
        },
      }),
    },
  } as unknown as Env;
  return { env, calls, setClock: (t: number) => (clock = t) };
}

/** Viewers each reloading a playlist every `everyMs` for `durationMs`; returns after every report landed. */
const T0 = Date.UTC(2030, 0, 1);

async function play(watch: SessionWatch, gate: ReturnType<typeof fakeEnv>, sessions: string[], everyMs: number, durationMs: number, start = T0) {
  for (let t = start; t < start + durationMs; t += everyMs) {
    gate.setClock(t);
    for (const s of sessions) {
      const report = watch.record(gate.env, "ev", s, 1000, t);
      if (report) await report;
    }
  }
}

describe("SessionWatch", () => {
  it("costs a lone steady viewer one gate call per lease period, each within the lease plus its allowance", async () => {
    const watch = new SessionWatch();
    const gate = fakeEnv({ leaseSeconds: 60 });
    await play(watch, gate, ["ses_a"], 2_000, 10 * 60_000);
    // The first activity reports at once (it learns the lease); its span is one request, so the next three cover
    // doubling spans (2, 4, 8 s) for the egress rate the gate shows; then one report per 60 s lease.
    expect(gate.calls.length).toBe(13);
    expect(gate.calls.slice(0, 4).map((c) => c.at - T0)).toEqual([0, 2_000, 6_000, 14_000]);
    const gaps = gate.calls.slice(4).map((c, i) => c.at - gate.calls[i + 3]!.at);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(60_000);
      expect(gap).toBeLessThanOrEqual(60_000 + 2_000); // sent with the first reload after it is due
    }
    for (const c of gate.calls) expect(c.input.activeSessionIds).toEqual(["ses_a"]);
  });

  it("costs the gate no more calls for 500 viewers on the isolate than for one: every report names them all", async () => {
    const watch = new SessionWatch();
    const gate = fakeEnv({ leaseSeconds: 60 });
    const sessions = Array.from({ length: 500 }, (_, i) => `ses_${i}`);
    await play(watch, gate, sessions, 2_000, 5 * 60_000);
    expect(gate.calls.length).toBeLessThanOrEqual(4 + 5); // the first and three of doubling spans, then one per lease
    for (const c of gate.calls.slice(1)) expect(new Set(c.input.activeSessionIds)).toEqual(new Set(sessions));
    // Every byte is reported once; what the last report did not cover waits for the next (at most one lease of reloads).
    const reported = gate.calls.reduce((n, c) => n + c.input.bytes, 0);
    expect(reported).toBeLessThanOrEqual(500 * 1000 * 150);
    expect(reported).toBeGreaterThan(500 * 1000 * (150 - 31));
  });

  it("reports at least every 2 s while an event's bytes pile up past 64 MB, so the egress meter stays current", async () => {
    const watch = new SessionWatch();
    const gate = fakeEnv({ leaseSeconds: 600 });
    for (let t = T0; t < T0 + 20_000; t += 100) {
      gate.setClock(t);
      const r = watch.record(gate.env, "ev", "ses_big", 5_000_000, t); // 50 MB/s
      if (r) await r;
    }
    expect(gate.calls.length).toBeGreaterThanOrEqual(8);
  });

  it("reports a session new on the isolate within 2 s even right after a report, so the gate sees its grant used within the claim period", async () => {
    const watch = new SessionWatch();
    const gate = fakeEnv({ leaseSeconds: 60 });
    await play(watch, gate, ["ses_a"], 2_000, 20_000);
    expect(gate.calls).toHaveLength(4); // at once, then spans of 2, 4 and 8 s
    // A new viewer starts 20 s into the lease period: its first requests, not the next lease, bring a report.
    await play(watch, gate, ["ses_a", "ses_b"], 1_000, 5_000, T0 + 20_000);
    expect(gate.calls).toHaveLength(5);
    expect(gate.calls[4]!.at - (T0 + 20_000)).toBeLessThanOrEqual(2_000);
    expect(gate.calls[4]!.input.activeSessionIds).toContain("ses_b");
    // Known sessions do not: the steady pair costs nothing more until the lease period is up.
    await play(watch, gate, ["ses_a", "ses_b"], 1_000, 40_000, T0 + 25_000);
    expect(gate.calls).toHaveLength(5);
  });

  it("names its isolate and the span its bytes were served over, and counts each request once by the tier that answered it", async () => {
    const watch = new SessionWatch();
    const gate = fakeEnv({ leaseSeconds: 60 });
    await watch.record(gate.env, "ev", "ses_a", 1000, T0, "shield");
    watch.record(gate.env, "ev", "ses_a", 500_000, T0 + 500, "origin");
    watch.record(gate.env, "ev", "ses_a", 500_000, T0 + 1000, "memory");
    watch.record(gate.env, "ev", "ses_a", 200, T0 + 1500); // the rest of a chunked body: bytes, no second request
    gate.setClock(T0 + 2000);
    await watch.record(gate.env, "ev", "ses_a", 500_000, T0 + 2000, "cacheApi");
    expect(gate.calls).toHaveLength(2);
    const [first, second] = gate.calls.map((c) => c.input);
    expect(first!.reporter).toBe(second!.reporter);
    expect(first).toMatchObject({ periodMs: 0, served: { shield: 1, memory: 0, cacheApi: 0, origin: 0, node: 0 } });
    expect(second).toMatchObject({ bytes: 1_500_200, periodMs: 2000, intervalMs: 60_000, served: { shield: 0, origin: 1, memory: 1, cacheApi: 1, node: 0 } });
  });

  it("remembers the sessions the gate says are over, so their next playlist gets 410", async () => {
    const watch = new SessionWatch();
    const gate = fakeEnv({ expired: ["ses_gone"] });
    await watch.record(gate.env, "ev", "ses_gone", 0, T0);
    expect(watch.hasEnded("ses_gone", T0)).toBe(true);
    expect(watch.hasEnded("ses_other", T0)).toBe(false);
  });

  it("keeps the activity of a report the gate did not receive, and sends it with the next one", async () => {
    const watch = new SessionWatch();
    let down = true;
    const gate = fakeEnv({ failing: () => down });
    await watch.record(gate.env, "ev", "ses_a", 100, T0);
    expect(gate.calls).toEqual([]);
    down = false;
    expect(watch.record(gate.env, "ev", "ses_b", 200, T0 + 1_000)).toBeNull(); // not due yet
    gate.setClock(T0 + 60_000);
    await watch.record(gate.env, "ev", "ses_c", 300, T0 + 60_000);
    expect(gate.calls).toHaveLength(1);
    expect(new Set(gate.calls[0]!.input.activeSessionIds)).toEqual(new Set(["ses_a", "ses_b", "ses_c"]));
    expect(gate.calls[0]!.input.bytes).toBe(600);
  });
});
