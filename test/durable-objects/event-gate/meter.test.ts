// The egress meter averages reported bytes over its window; a new session's reservation fades as its bytes arrive.
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
