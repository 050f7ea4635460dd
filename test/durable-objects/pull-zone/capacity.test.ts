// A node's capacity (pure): the egress allowance per interval, the smoothed rate, full at 90 % and room under 80 %.
import { describe, expect, it } from "vitest";
import { DEFAULT_CAPACITY_MBPS, egressAllowance, fullnessAfter, smoothedRate } from "../../../durable-objects/pull-zone/capacity";

describe("egressAllowance", () => {
  it("is the capacity over the interval plus a second of slack; no capacity means a 100 Gbit/s link", () => {
    expect(egressAllowance(8, 2000)).toBe(3_000_000);
    expect(egressAllowance(8, 0)).toBe(1_000_000);
    expect(egressAllowance(null, 4000)).toBe((DEFAULT_CAPACITY_MBPS * 1e6 / 8) * 5);
    // A clock that went backwards gives no extra allowance.
    expect(egressAllowance(8, -5000)).toBe(1_000_000);
  });
});

describe("smoothedRate", () => {
  it("follows a steady rate and forgets a quiet second slowly", () => {
    let bps = 0;
    for (let t = 0; t < 60; t++) bps = smoothedRate(bps, 1_000_000, 1000); // 8 Mbit/s for a minute
    expect(bps).toBeGreaterThan(7.9e6);
    expect(bps).toBeLessThanOrEqual(8e6);
    const afterQuiet = smoothedRate(bps, 0, 1000);
    expect(afterQuiet).toBeGreaterThan(0.9 * bps);
    // Two heartbeats in the same instant say nothing new.
    expect(smoothedRate(bps, 1e12, 10)).toBe(bps);
  });
});

describe("fullnessAfter", () => {
  it("is full from 90 % until the rate drops under 80 %, keeping the time it became full", () => {
    const cap = 10; // Mbit/s
    let s = fullnessAfter({ fullSince: null }, 8.9e6, cap, 1);
    expect(s.fullSince).toBeNull();
    s = fullnessAfter(s, 9e6, cap, 2);
    expect(s.fullSince).toBe(2);
    s = fullnessAfter(s, 9.5e6, cap, 3);
    expect(s.fullSince).toBe(2);
    s = fullnessAfter(s, 8.1e6, cap, 4);
    expect(s.fullSince).toBe(2);
    s = fullnessAfter(s, 7.9e6, cap, 5);
    expect(s.fullSince).toBeNull();
    expect(fullnessAfter({ fullSince: 7 }, 1e12, null, 8).fullSince).toBeNull();
  });
});
