// The EventGate's alarm: lease expiry and ticket drop-out without real sleeps (the wall clock is faked).
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { eventGate } from "../../../durable-objects/event-gate/client";

const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);

function freshGate() {
  return eventGate(env, `alarm-${crypto.randomUUID()}`);
}

async function armedAt(gate: ReturnType<typeof freshGate>): Promise<number | null> {
  return runInDurableObject(gate, (_, state) => state.storage.getAlarm());
}

describe("EventGate alarm", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(T0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("drops an unpolled ticket, then expires an idle lease, re-arming only while either remains", async () => {
    const gate = freshGate();
    await gate.configure({ maxSessions: 1, leaseSeconds: 10 });
    const a = await gate.admit({ channelId: "main" });
    const b = await gate.admit({ channelId: "main" });
    expect(a.status).toBe("granted");
    expect(b).toMatchObject({ status: "queued", position: 1, retryAfterSeconds: 3 });
    expect(await armedAt(gate)).toBe(T0 + 6000);

    vi.setSystemTime(T0 + 6000);
    expect(await runDurableObjectAlarm(gate)).toBe(true);
    expect((await gate.snapshot()).queued).toBe(0);
    // The lease: 10 s plus the 5 s allowance for an edge's report in flight.
    expect(await armedAt(gate)).toBe(T0 + 15_000);

    vi.setSystemTime(T0 + 15_000);
    expect(await runDurableObjectAlarm(gate)).toBe(true);
    expect(await gate.snapshot()).toMatchObject({ activeSessions: 0, queued: 0 });
    expect(await armedAt(gate)).toBeNull();
    expect(await runDurableObjectAlarm(gate)).toBe(false);
    if (a.status !== "granted") return;
    const report = await gate.report({ activeSessionIds: [a.sessionId], bytes: 0, source: "edge" });
    expect(report.expiredSessionIds).toEqual([a.sessionId]);
  });

  it("moves the lease deadline later when activity is reported, so the alarm leaves a playing session alone", async () => {
    const gate = freshGate();
    await gate.configure({ leaseSeconds: 10 });
    const a = await gate.admit({ channelId: "main" });
    if (a.status !== "granted") throw new Error("expected a grant");
    vi.setSystemTime(T0 + 8000);
    await gate.report({ activeSessionIds: [a.sessionId], bytes: 1000, source: "edge" });
    vi.setSystemTime(T0 + 15_000);
    expect(await runDurableObjectAlarm(gate)).toBe(true);
    expect((await gate.snapshot()).activeSessions).toBe(1);
    expect(await armedAt(gate)).toBe(T0 + 23_000);
    vi.setSystemTime(T0 + 23_000);
    expect(await runDurableObjectAlarm(gate)).toBe(true);
    expect((await gate.snapshot()).activeSessions).toBe(0);
  });

  it("changes nothing more when the alarm runs twice", async () => {
    const gate = freshGate();
    await gate.configure({ maxSessions: 2, leaseSeconds: 10 });
    await gate.admit({ channelId: "main" });
    vi.setSystemTime(T0 + 5000);
    await gate.admit({ channelId: "main" });
    vi.setSystemTime(T0 + 15_000);
    expect(await runDurableObjectAlarm(gate)).toBe(true);
    const once = await gate.snapshot();
    await runInDurableObject(gate, (instance) => instance.alarm());
    expect(await gate.snapshot()).toEqual(once);
    expect(once.activeSessions).toBe(1);
    expect(await armedAt(gate)).toBe(T0 + 20_000);
  });

  it("does not arm an alarm for an event with no sessions or tickets", async () => {
    const gate = freshGate();
    await gate.configure({ maxSessions: 10 });
    await gate.setOverload(true);
    expect(await armedAt(gate)).toBeNull();
    expect(await runDurableObjectAlarm(gate)).toBe(false);
  });
});
