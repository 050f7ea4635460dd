// The EventGate keeps what matters across an eviction: sessions, the queue, limits, the switch and counters.
import { env } from "cloudflare:workers";
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { eventGate } from "../../../durable-objects/event-gate/client";

describe("EventGate storage", () => {
  it("keeps sessions, queue positions, limits, the overload switch and counters across an eviction", async () => {
    const gate = eventGate(env, `storage-${crypto.randomUUID()}`);
    const now = Date.now();
    await gate.configure({ maxSessions: 2, maxEgressMbps: 50, leaseSeconds: 30 }, now);
    const a = await gate.admit({ channelId: "main", now });
    await gate.admit({ channelId: "main", now });
    const q1 = await gate.admit({ channelId: "main", now });
    const q2 = await gate.admit({ channelId: "main", now });
    await gate.setOverload(true, now);
    if (a.status !== "granted" || q1.status !== "queued" || q2.status !== "queued") throw new Error("unexpected decisions");
    const before = await gate.snapshot(now);

    await evictDurableObject(gate);

    const after = await gate.snapshot(now + 1000);
    expect(after).toMatchObject({ activeSessions: 2, queued: 2, admittedTotal: 2, overload: true, limits: before.limits });
    expect(await gate.getOverload()).toBe(true);
    expect(await gate.admit({ ticket: q2.ticket, channelId: "main", now: now + 1000 })).toMatchObject({ status: "queued", position: 2 });
    expect((await gate.report({ activeSessionIds: [a.sessionId], bytes: 0, source: "edge", now: now + 1000 })).expiredSessionIds).toEqual([]);
    await gate.setOverload(false, now + 1000);
    expect(await gate.release(a.sessionId, now + 1000)).toBe("released");
    expect(await gate.admit({ ticket: q1.ticket, channelId: "main", now: now + 1000 })).toMatchObject({ status: "granted" });
  });

  it("keeps counting report calls across an eviction, so operator stats show what viewers cost it", async () => {
    const gate = eventGate(env, `storage-${crypto.randomUUID()}`);
    await gate.report({ activeSessionIds: [], bytes: 10, source: "edge" });
    await gate.report({ activeSessionIds: [], bytes: 10, source: "node" });
    await evictDurableObject(gate);
    await gate.report({ activeSessionIds: [], bytes: 10, source: "edge" });
    expect((await gate.snapshot()).reportCalls).toEqual({ edge: 2, node: 1 });
  });

  it("remembers an ended session across an eviction, so its playback links keep answering expired", async () => {
    const gate = eventGate(env, `storage-${crypto.randomUUID()}`);
    const a = await gate.admit({ channelId: "main" });
    if (a.status !== "granted") throw new Error("expected a grant");
    expect(await gate.release(a.sessionId)).toBe("released");
    await evictDurableObject(gate);
    expect(await gate.release(a.sessionId)).toBe("ended");
  });

  it("keeps which grants were claimed and whose they are across an eviction", async () => {
    const gate = eventGate(env, `storage-${crypto.randomUUID()}`);
    const t0 = Date.now() + 60_000;
    await gate.configure({ claimSeconds: 10, maxSessionsPerViewer: 2, maxSessionsPerAddress: 1 }, t0);
    const used = await gate.admit({ channelId: "main", viewerId: "u1", now: t0 });
    const unused = await gate.admit({ channelId: "main", viewerId: "u1", now: t0 });
    const anonymous = await gate.admit({ channelId: "main", address: "198.51.100.1", now: t0 });
    if (used.status !== "granted" || unused.status !== "granted" || anonymous.status !== "granted") throw new Error("expected grants");
    await gate.report({ activeSessionIds: [used.sessionId, anonymous.sessionId], bytes: 0, source: "edge", now: t0 + 1000 });
    await evictDurableObject(gate);
    expect((await gate.report({ activeSessionIds: [used.sessionId, unused.sessionId], bytes: 0, source: "edge", now: t0 + 11_000 })).expiredSessionIds).toEqual([unused.sessionId]);
    expect(await gate.admit({ channelId: "main", address: "198.51.100.1", now: t0 + 11_000 })).toEqual({ status: "address_limit", limit: 1 });
    await gate.admit({ channelId: "main", viewerId: "u1", now: t0 + 11_000 });
    const third = await gate.admit({ channelId: "main", viewerId: "u1", now: t0 + 11_000 });
    expect(third.status).toBe("granted");
    expect(await gate.release(used.sessionId, t0 + 11_000)).toBe("ended");
  });

  it("reads sessions and limits stored before claims and holders existed: the sessions count as claimed, the limits take their defaults", async () => {
    const gate = eventGate(env, `storage-${crypto.randomUUID()}`);
    const t0 = Date.now() + 60_000;
    await gate.configure({ maxSessions: 5 }, t0);
    const a = await gate.admit({ channelId: "main", now: t0 });
    if (a.status !== "granted") throw new Error("expected a grant");
    await runInDurableObject(gate, (_, state) => {
      const sql = state.storage.sql;
      sql.exec("ALTER TABLE sessions DROP COLUMN holder");
      sql.exec("ALTER TABLE sessions DROP COLUMN claimed");
      sql.exec("ALTER TABLE tickets DROP COLUMN holder");
      const meta = JSON.parse(sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'state'").one().v) as { limits: Record<string, unknown> };
      meta.limits = { maxSessions: 5, leaseSeconds: 60 };
      sql.exec("UPDATE meta SET v = ? WHERE k = 'state'", JSON.stringify(meta));
    });
    await evictDurableObject(gate);
    const after = await gate.snapshot(t0 + 40_000);
    expect(after).toMatchObject({ activeSessions: 1, limits: { maxSessions: 5, leaseSeconds: 60, claimSeconds: 30, maxSessionsPerViewer: 2 } });
    expect((await gate.admit({ channelId: "main", viewerId: "u1", now: t0 + 40_000 })).status).toBe("granted");
  });

  it("writes a steady viewer's renewals at most once per quarter lease", async () => {
    const gate = eventGate(env, `storage-${crypto.randomUUID()}`);
    // Ahead of the wall clock, so the object's own clock (which never runs backwards) is exactly t0.
    const t0 = Date.now() + 60_000;
    await gate.configure({ leaseSeconds: 60 }, t0);
    const a = await gate.admit({ channelId: "main", now: t0 });
    if (a.status !== "granted") throw new Error("expected a grant");
    const stored = () =>
      runInDurableObject(gate, (_, state) => state.storage.sql.exec<{ last_seen: number }>("SELECT last_seen FROM sessions WHERE id = ?", a.sessionId).one().last_seen);
    await gate.report({ activeSessionIds: [a.sessionId], bytes: 0, source: "edge", now: t0 + 5000 });
    expect(await stored()).toBe(t0);
    await gate.report({ activeSessionIds: [a.sessionId], bytes: 0, source: "edge", now: t0 + 15_000 });
    expect(await stored()).toBe(t0 + 15_000);
  });
});
