// The egress meter: each named reporter's rate over its last period, anonymous bytes averaged over its window; a new session's reservation fades as its bytes arrive.
import { describe, expect, it } from "vitest";
import { EgressMeter, RampReservation } from "../../../durable-objects/event-gate/meter";

describe("EgressMeter", () => {
  it("reports bytes served in the last window as bits per second, per source", () => {
    const meter = new EgressMeter(30);
    const t0 = 1_700_000_000_000;
    meter.add("edge", 3_750_000, t0); // 1 Mbit/s over 30 s
    meter.add("node", 7_500_000, t0 + 10_000);
    expect(meter.bps("edge", t0 + 10_000)).toBe(1_000_000);
    expect(meter.bps("node", t0 + 10_000)).toBe(2_000_000);
    expect(meter.bps("edge", t0 + 29_999)).toBe(1_000_000);
    expect(meter.bps("edge", t0 + 30_000)).toBe(0);
    expect(meter.bps("node", t0 + 30_000)).toBe(2_000_000);
  });

  it("forgets a bucket's old bytes when the ring comes round to it again", () => {
    const meter = new EgressMeter(30);
    const t0 = 1_700_000_000_000;
    meter.add("edge", 1000, t0);
    meter.add("edge", 2000, t0 + 30_000);
    expect(meter.bps("edge", t0 + 30_000)).toBeCloseTo((2000 * 8) / 30);
  });
});

describe("EgressMeter, reporters that name themselves", () => {
  it("shows each reporter's bytes over its last period until its next report is due, where the 30 s window read 0", () => {
    const meter = new EgressMeter(30);
    const t0 = 1_700_000_000_000;
    // An edge isolate reporting once per 60 s lease: 45 MB over the minute is 6 Mbit/s.
    meter.add("edge", 45_000_000, t0, { reporter: "iso_a", periodMs: 60_000, intervalMs: 60_000 });
    meter.add("edge", 7_500_000, t0 + 1_000, { reporter: "iso_b", periodMs: 10_000, intervalMs: 60_000 });
    expect(meter.bps("edge", t0 + 1_000)).toBe(6_000_000 + 6_000_000);
    // 40 s later, with no report since, the window alone would read 0; each rate stands until 60 s + 30 s.
    expect(meter.bps("edge", t0 + 40_000)).toBe(12_000_000);
    meter.add("edge", 22_500_000, t0 + 60_000, { reporter: "iso_a", periodMs: 60_000, intervalMs: 60_000 });
    expect(meter.bps("edge", t0 + 60_000)).toBe(3_000_000 + 6_000_000);
    // iso_b never reported again: its rate lapses once its next report is overdue.
    expect(meter.bps("edge", t0 + 1_000 + 90_000)).toBe(3_000_000);
    expect(meter.bps("node", t0 + 60_000)).toBe(0);
  });
});

describe("RampReservation", () => {
  it("holds a new session's estimated bits per second and fades it linearly over the window", () => {
    const ramp = new RampReservation(30_000);
    const t0 = 1_700_000_000_000;
    ramp.add(t0, 3_000_000);
    expect(ramp.value(t0)).toBeCloseTo(3_000_000);
    ramp.add(t0 + 15_000, 1_000_000);
    expect(ramp.value(t0 + 15_000)).toBeCloseTo(1_500_000 + 1_000_000);
    expect(ramp.value(t0 + 30_000)).toBeCloseTo(500_000);
    expect(ramp.value(t0 + 45_000)).toBe(0);
  });
});
