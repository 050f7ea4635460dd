import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parsePlaylist } from "../../../workers/hls/parse";
import { splitMediaPlaylist, StitchedTimeline } from "../../../workers/hls/stitch";

const T0 = Date.parse("2026-12-05T12:00:00.000Z");

/** A live window of `count` 2 s segments from `msn`, named `<prefix><name(msn)>`, dated from `pdtMsn` (or undated). */
function live(opts: { msn: number; count?: number; prefix?: string; name?: (n: number) => string; pdtOf?: (n: number) => number | null; map?: string; disc?: number; ll?: boolean }): string {
  const count = opts.count ?? 6;
  const name = opts.name ?? ((n) => `seg-${n}.ts`);
  const lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-TARGETDURATION:2", `#EXT-X-MEDIA-SEQUENCE:${opts.msn}`];
  if (opts.disc !== undefined) lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${opts.disc}`);
  if (opts.ll) lines.push("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.5", "#EXT-X-PART-INF:PART-TARGET=0.5");
  if (opts.map) lines.push(`#EXT-X-MAP:URI="${opts.prefix ?? ""}${opts.map}"`);
  for (let n = opts.msn; n < opts.msn + count; n++) {
    const pdt = opts.pdtOf?.(n);
    if (pdt != null) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(pdt).toISOString()}`);
    lines.push("#EXTINF:2.000,", `${opts.prefix ?? ""}${name(n)}`);
  }
  if (opts.ll) lines.push(`#EXT-X-PART:DURATION=0.5,URI="${opts.prefix ?? ""}part-${opts.msn + count}.0.m4s"`, `#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${opts.prefix ?? ""}part-${opts.msn + count}.1.m4s"`);
  return lines.join("\n") + "\n";
}

/** Each segment's (msn, discontinuity sequence, uri) as a player reads the playlist. */
function timeline(text: string): { msn: number; cc: number; uri: string }[] {
  const info = parsePlaylist(text);
  let cc = info.discontinuitySequence ?? 0;
  return info.segments.map((s, i) => {
    if (s.discontinuity) cc++;
    return { msn: (info.mediaSequence ?? 0) + i, cc, uri: s.uri };
  });
}

describe("splitMediaPlaylist", () => {
  it("numbers segments from the media sequence and counts discontinuities as a player does", () => {
    const text = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-DISCONTINUITY-SEQUENCE:2\n#EXTINF:2,\na.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:2,\nb.ts\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"c.m4s\"\n";
    const split = splitMediaPlaylist(text, "720p/index.m3u8");
    expect(split.blocks.map((b) => [b.msn, b.disc, b.key])).toEqual([
      [7, 2, "720p/a.ts"],
      [8, 3, "720p/b.ts"],
    ]);
    expect(split.tail).toEqual(['#EXT-X-PRELOAD-HINT:TYPE=PART,URI="c.m4s"']);
  });
});

describe("StitchedTimeline", () => {
  it("passes the serving origin's own playlist through unchanged while nothing was switched", () => {
    const t = new StitchedTimeline(0);
    const a = live({ msn: 100, ll: true });
    expect(t.update(0, a, "index.m3u8").text).toBe(a);
    const b = live({ msn: 101, ll: true });
    expect(t.update(0, b, "index.m3u8").text).toBe(b);
  });

  it("continues an aligned backup (same names, same numbers) with no discontinuity", () => {
    const t = new StitchedTimeline(0);
    t.update(0, live({ msn: 100 }), "index.m3u8");
    const out = t.update(1, live({ msn: 102, prefix: "_b1/" }), "index.m3u8");
    expect(out.switched).toEqual({ aligned: true });
    const segs = timeline(out.text);
    expect(segs.map((s) => s.msn)).toEqual([102, 103, 104, 105, 106, 107]);
    expect(new Set(segs.map((s) => s.cc)).size).toBe(1);
    // What the primary listed stays under its own keys; what only the backup has comes from the backup.
    expect(segs.find((s) => s.msn === 105)!.uri).toBe("seg-105.ts");
    expect(segs.find((s) => s.msn === 106)!.uri).toBe("_b1/seg-106.ts");
  });

  it("continues a misaligned backup at the same moment, numbers rising, behind one discontinuity", () => {
    const t = new StitchedTimeline(0);
    // The primary numbers from 100 and the backup from 5000 over the same wall clock (2 s segments).
    const pdt = (base: number) => (n: number) => T0 + (n - base) * 2000;
    t.update(0, live({ msn: 100, pdtOf: pdt(100) }), "index.m3u8");
    // The primary died after seg-105 (ends at T0 + 12 s); the backup has reached T0 + 16 s.
    const out = t.update(1, live({ msn: 5002, prefix: "_b1/", name: (n) => `b${n}.ts`, pdtOf: pdt(5000) }), "index.m3u8");
    expect(out.switched).toEqual({ aligned: false });
    const segs = timeline(out.text);
    expect(segs.map((s) => s.msn)).toEqual([102, 103, 104, 105, 106, 107]);
    expect(segs.slice(-3).map((s) => s.uri)).toEqual(["seg-105.ts", "_b1/b5006.ts", "_b1/b5007.ts"]);
    expect(segs.at(-2)!.cc).toBe(segs.at(-3)!.cc + 1);
    expect(out.text).toMatch(/seg-105\.ts\n#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:2026-12-05T12:00:12\.000Z/);

    // Later reloads keep the numbering and the discontinuity's count once it slides out of the window.
    let later = t.update(1, live({ msn: 5004, prefix: "_b1/", name: (n) => `b${n}.ts`, pdtOf: pdt(5000) }), "index.m3u8").text;
    expect(timeline(later).at(-1)).toMatchObject({ msn: 109, uri: "_b1/b5009.ts" });
    later = t.update(1, live({ msn: 5010, prefix: "_b1/", name: (n) => `b${n}.ts`, pdtOf: pdt(5000) }), "index.m3u8").text;
    const slid = timeline(later);
    expect(slid.map((s) => s.msn)).toEqual([110, 111, 112, 113, 114, 115]);
    expect(slid.every((s) => s.cc === segs.at(-1)!.cc)).toBe(true);
    expect(later).not.toContain("#EXT-X-DISCONTINUITY\n");
  });

  it("without program date times continues from the backup's newest segment", () => {
    const t = new StitchedTimeline(0);
    t.update(0, live({ msn: 100 }), "720p/index.m3u8");
    const segs = timeline(t.update(1, live({ msn: 40, prefix: "../_b1/720p/", name: (n) => `x${n}.ts` }), "720p/index.m3u8").text);
    expect(segs.at(-1)).toMatchObject({ msn: 106, uri: "../_b1/720p/x45.ts" });
    expect(segs.at(-1)!.cc).toBe(segs.at(-2)!.cc + 1);
  });

  it("carries the backup's initialisation section to its first segment and leaves low-latency lines out", () => {
    const t = new StitchedTimeline(0);
    t.update(0, live({ msn: 100, map: "init.mp4", name: (n) => `s${n}.m4s`, ll: true }), "index.m3u8");
    const text = t.update(1, live({ msn: 9, prefix: "_b1/", map: "init.mp4", name: (n) => `s${n}.m4s`, ll: true }), "index.m3u8").text;
    expect(text).toMatch(/#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="_b1\/init.mp4"\n#EXTINF:2.000,\n_b1\/s14.m4s/);
    expect(text).not.toMatch(/#EXT-X-(?:PART|PRELOAD-HINT|SERVER-CONTROL|PART-INF)/);
    expect(() => parsePlaylist(text)).not.toThrow();
  });

  it("goes back to the primary with another discontinuity, numbers still rising", () => {
    const t = new StitchedTimeline(0);
    t.update(0, live({ msn: 100 }), "index.m3u8");
    t.update(1, live({ msn: 7, prefix: "_b1/", name: (n) => `b${n}.ts` }), "index.m3u8");
    const back = timeline(t.update(0, live({ msn: 110 }), "index.m3u8").text);
    expect(back.at(-1)).toMatchObject({ msn: 107, uri: "seg-115.ts" });
    expect(back.at(-1)!.cc).toBe(back.at(-2)!.cc + 1);
    expect(back.at(-2)!.uri).toBe("_b1/b12.ts");
  });

  it("keeps its numbers across a restart from the persisted offsets", () => {
    const t = new StitchedTimeline(0);
    t.update(0, live({ msn: 100 }), "index.m3u8");
    t.update(1, live({ msn: 7, prefix: "_b1/", name: (n) => `b${n}.ts` }), "index.m3u8");
    const saved = t.persisted();
    expect(saved).toEqual({ source: 1, msnOffset: 94, discOffset: 1 });
    const restarted = new StitchedTimeline(0, saved!);
    const segs = timeline(restarted.update(1, live({ msn: 9, prefix: "_b1/", name: (n) => `b${n}.ts` }), "index.m3u8").text);
    expect(segs.map((s) => s.msn)).toEqual([103, 104, 105, 106, 107, 108]);
    expect(segs.every((s) => s.cc === 1)).toBe(true);
  });

  it("answers an empty window after a restart with the source's own text, and stitches once segments come", () => {
    const restarted = new StitchedTimeline(0, { source: 1, msnOffset: 94, discOffset: 1 });
    const empty = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:9\n";
    expect(restarted.update(1, empty, "index.m3u8").text).toBe(empty);
    expect(timeline(restarted.update(1, live({ msn: 9, prefix: "_b1/", name: (n) => `b${n}.ts` }), "index.m3u8").text)[0]!.msn).toBe(103);
  });

  it("never takes back what a player saw: numbers rise, and a number keeps its segment and discontinuity count, over any switches", () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(fc.record({ source: fc.integer({ min: 0, max: 2 }), advance: fc.integer({ min: 0, max: 4 }) }), { minLength: 1, maxLength: 40 }),
        (aligned, steps) => {
          const t = new StitchedTimeline(0);
          // Three encoders of one clock: the primary numbers from 0, the backups from 0 (aligned) or far apart.
          const base = [0, aligned ? 0 : 70_000, aligned ? 0 : 90_000];
          const seen = new Map<number, { uri: string; cc: number }>();
          let clock = 200;
          let lastFirst = -Infinity;
          for (const { source, advance } of steps) {
            clock += advance;
            const prefix = source === 0 ? "" : `_b${source}/`;
            const text = live({ msn: clock + base[source]!, prefix, name: (n) => `s${n - base[source]!}-${source}.ts`, pdtOf: (n) => T0 + (n - base[source]!) * 2000 });
            const segs = timeline(t.update(source, text, "index.m3u8").text);
            expect(segs.length).toBeGreaterThan(0);
            expect(segs[0]!.msn).toBeGreaterThanOrEqual(lastFirst);
            lastFirst = segs[0]!.msn;
            for (const s of segs) {
              const before = seen.get(s.msn);
              if (before) expect(s).toMatchObject(before);
              else seen.set(s.msn, { uri: s.uri, cc: s.cc });
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
