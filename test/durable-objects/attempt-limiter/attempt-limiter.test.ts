// AttemptLimiter: a sliding window of attempts per key, decided at the `now` it is given; its alarm empties idle objects.
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";

const WINDOW = 300_000;
const T0 = 1_800_000_000_000;

function limiter() {
  return env.ATTEMPT_LIMITER.get(env.ATTEMPT_LIMITER.newUniqueId());
}

describe("AttemptLimiter", () => {
  it("allows five attempts in the window and refuses the sixth until the oldest expires", async () => {
    const l = limiter();
    for (let i = 0; i < 5; i++) expect(await l.attempt(T0 + i * 1000, 5, WINDOW)).toMatchObject({ allowed: true });
    expect(await l.attempt(T0 + 10_000, 5, WINDOW)).toEqual({ allowed: false, retryAfterSeconds: 290 });
    // The first attempt leaves the window at T0 + 300 s: one slot frees up.
    expect(await l.attempt(T0 + WINDOW, 5, WINDOW)).toMatchObject({ allowed: true });
    expect(await l.attempt(T0 + WINDOW, 5, WINDOW)).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
  });

  it("uncounts a forgiven attempt", async () => {
    const l = limiter();
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const d = await l.attempt(T0, 5, WINDOW);
      if (d.allowed) ids.push(d.attemptId);
    }
    await l.forgive(ids[2]!);
    expect(await l.count(T0)).toBe(4);
    expect(await l.attempt(T0, 5, WINDOW)).toMatchObject({ allowed: true });
  });

  it("refuses all but five of many simultaneous attempts", async () => {
    const l = limiter();
    const decisions = await Promise.all(Array.from({ length: 25 }, () => l.attempt(T0, 5, WINDOW)));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
  });

  it("arms one alarm, keeps it while attempts remain, and deletes everything once the window has passed", async () => {
    const l = limiter();
    // An hour ahead, so the real alarm does not fire while the test drives the sweep by hand.
    const t = Date.now() + 3_600_000;
    await l.attempt(t - WINDOW + 50, 5, WINDOW); // leaves the window at t + 50
    await l.attempt(t, 5, WINDOW);
    const alarmOf = () => runInDurableObject(l, (_, state) => state.storage.getAlarm());
    expect(await alarmOf()).toBe(t + 50);
    await l.sweep(t + 100);
    expect(await l.count(t + 100)).toBe(1);
    expect(await alarmOf()).toBe(t + WINDOW);
    await l.sweep(t + WINDOW);
    expect(await alarmOf()).toBeNull();
    const tables = await runInDurableObject(l, (_, state) => state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 'attempts'").toArray());
    expect(tables).toEqual([]);
    // Emptied, the object still works.
    expect(await l.attempt(t + WINDOW, 5, WINDOW)).toMatchObject({ allowed: true });
  });

  it("runs its alarm safely twice, keeping attempts that are still in the window", async () => {
    const l = limiter();
    await l.attempt(Date.now(), 5, WINDOW);
    expect(await runDurableObjectAlarm(l)).toBe(true);
    expect(await runDurableObjectAlarm(l)).toBe(true);
    expect(await l.count(Date.now())).toBe(1);
  });
});
