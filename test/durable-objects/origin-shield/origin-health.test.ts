import { describe, expect, it } from "vitest";
import { FAILBACK_AFTER_MS, OriginHealth, PROBE_INTERVAL_MS } from "../../../durable-objects/origin-shield/origin-health";

describe("OriginHealth", () => {
  it("asks a failing origin once per probe interval for the whole channel", () => {
    const h = new OriginHealth(1);
    h.failed(0, 1_000, "origin_error");
    const asked = [];
    for (let t = 1_000; t < 11_000; t += 50) if (h.mayRequest(0, t)) asked.push(t);
    // The failed request at 1,000 was the first; then one at 2,000, 3,000 … 10,000.
    expect(asked).toEqual([2_000, 3_000, 4_000, 5_000, 6_000, 7_000, 8_000, 9_000, 10_000]);
    for (let i = 1; i < asked.length; i++) expect(asked[i]! - asked[i - 1]!).toBeGreaterThanOrEqual(PROBE_INTERVAL_MS);
    h.succeeded(0, 11_000);
    expect(h.mayRequest(0, 11_001) && h.mayRequest(0, 11_002)).toBe(true);
  });

  it("moves to the first usable backup when the serving origin fails, skipping one that fails too", () => {
    const h = new OriginHealth(3);
    h.failed(1, 500, "origin_timeout");
    h.failed(0, 1_000, "origin_error");
    expect(h.decide(1_000)).toMatchObject({ from: 0, to: 2, reason: "failed" });
    expect(h.serving()).toBe(2);
  });

  it("stays put when no other origin is usable", () => {
    const h = new OriginHealth(2);
    h.failed(1, 0, "origin_error");
    h.failed(0, 0, "origin_error");
    expect(h.decide(0)).toBeNull();
    expect(h.serving()).toBe(0);
  });

  it("calls an origin stale when its live playlist does not advance for 1.5 target durations", () => {
    const h = new OriginHealth(2);
    h.observed(0, "720p/index.m3u8", 100, 2, 0);
    h.observed(0, "720p/index.m3u8", 100, 2, 2_900);
    expect(h.decide(2_900)).toBeNull();
    h.observed(0, "720p/index.m3u8", 100, 2, 3_100);
    expect(h.decide(3_100)).toMatchObject({ to: 1, reason: "stale" });
  });

  it("goes back to the origin only after it has been healthy for FAILBACK_AFTER_MS", () => {
    const h = new OriginHealth(2);
    h.failed(0, 0, "origin_error");
    h.decide(0);
    expect(h.serving()).toBe(1);
    h.succeeded(0, 5_000);
    h.succeeded(0, 5_000 + FAILBACK_AFTER_MS - 1);
    expect(h.decide(5_000 + FAILBACK_AFTER_MS - 1)).toBeNull();
    h.succeeded(0, 5_000 + FAILBACK_AFTER_MS);
    expect(h.decide(5_000 + FAILBACK_AFTER_MS)).toMatchObject({ from: 1, to: 0, reason: "recovered" });
    expect(h.history().map((s) => s.reason)).toEqual(["failed", "recovered"]);
  });

  it("does not go back to an origin that recovered once and failed again meanwhile", () => {
    const h = new OriginHealth(2);
    h.failed(0, 0, "origin_error");
    h.decide(0);
    h.succeeded(0, 1_000);
    h.failed(0, 8_000, "origin_error");
    h.succeeded(0, 9_000);
    expect(h.decide(12_000)).toBeNull();
    h.succeeded(0, 18_500);
    expect(h.decide(18_900)).toBeNull();
    expect(h.decide(19_000)).toMatchObject({ to: 0 });
  });
});
