// Queue positions from the Fenwick index agree with counting, across re-basing as tickets come and go.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RankIndex } from "../../../durable-objects/event-gate/rank";

describe("RankIndex", () => {
  it("gives every live ticket its position among live tickets, however far sequence numbers run past the tree", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat()), { minLength: 2000, maxLength: 6000 }), (steps) => {
        const live = new Set<number>();
        const index = new RankIndex(() => live);
        let next = 0;
        for (const [add, pick] of steps) {
          if (add || live.size === 0) {
            index.add(next);
            live.add(next++);
          } else {
            const seq = [...live][pick % live.size]!;
            index.remove(seq);
            live.delete(seq);
          }
        }
        const sorted = [...live].sort((a, b) => a - b);
        expect(index.size).toBe(sorted.length);
        sorted.forEach((seq, i) => expect(index.rank(seq)).toBe(i + 1));
      }),
      { numRuns: 30 },
    );
  });

  it("counts nothing below its oldest live ticket after re-basing", () => {
    const live = new Set<number>();
    const index = new RankIndex(() => live);
    for (let s = 0; s < 5000; s++) {
      index.add(s);
      live.add(s);
      if (s >= 10) {
        index.remove(s - 10);
        live.delete(s - 10);
      }
    }
    expect(index.rank(4990)).toBe(1);
    expect(index.rank(4999)).toBe(10);
    expect(index.rank(3)).toBe(0);
  });
});
