// The pure LL-HLS builders and decisions: the clock in, RFC 8216bis text and verdicts out; `now` is injected, nothing sleeps.
import { describe, expect, it } from "vitest";
import {
  buildLlMediaPlaylist,
  llWindow,
  newestPart,
  partAvailability,
  partReadyAt,
  reloadDecision,
  type LlMediaPlaylistOptions,
  type LlTimeline,
} from "../../../workers/demo-origin/ll-playlist";
import goldenParts from "./golden/ll-parts-wrap.expected.m3u8?raw";
import goldenDelta from "./golden/ll-delta-update.expected.m3u8?raw";

const TIMELINE: LlTimeline = { segmentMs: 2000, partsPerSegment: 4 };
// 2026-11-28T12:00:01.250Z: segment 897_933_600 (a loop wrap, 897_933_600 % 4 = 0) has parts 0 and 1.
const T = Date.UTC(2026, 10, 28, 12, 0, 1, 250);
const MSN = 897_933_600;

function options(now: number, extra: Partial<LlMediaPlaylistOptions> = {}): LlMediaPlaylistOptions {
  return {
    ...TIMELINE,
    now,
    partHoldBack: 1.5,
    canSkipUntil: 12,
    windowSegments: 10,
    loopSegments: 4,
    onAirMsn: Math.floor(Date.UTC(2026, 10, 1) / 2000),
    mapUri: "init.mp4",
    segmentUri: (msn) => `seg-${msn}.m4s`,
    partUri: ({ msn, part }) => `part-${msn}-${part}.m4s`,
    segmentDuration: () => 2,
    partDuration: () => 0.5,
    renditionReports: ["../180p/index.m3u8"],
    ...extra,
  };
}

const lines = (playlist: string) => playlist.split("\n");
const tag = (playlist: string, name: string) => lines(playlist).find((l) => l.startsWith(`#${name}:`))?.slice(name.length + 2);
const partUris = (playlist: string) => lines(playlist).filter((l) => l.startsWith("#EXT-X-PART:")).map((l) => /URI="([^"]+)"/.exec(l)![1]);
const segmentUris = (playlist: string) => lines(playlist).filter((l) => l.startsWith("seg-"));

describe("LL-HLS media playlist", () => {
  // RFC 8216bis §4.4.4.9: "A Partial Segment ... Servers SHOULD remove Partial Segments from the Playlist
  // when they are greater than three Target Durations from the end of the Playlist."
  it("lists the parts of the last three target durations, then a preload hint and a rendition report (golden)", () => {
    expect(buildLlMediaPlaylist(options(T))).toBe(goldenParts);
  });

  // RFC 8216bis §6.2.5.1: "the Server MUST replace the skipped Media Segments with an EXT-X-SKIP tag";
  // CAN-SKIP-UNTIL "indicates ... the Skip Boundary".
  it("answers a delta update with EXT-X-SKIP in place of the segments beyond the skip boundary (golden)", () => {
    expect(buildLlMediaPlaylist(options(T, { skip: true }))).toBe(goldenDelta);
  });

  it("skips only segments that end at least CAN-SKIP-UNTIL seconds before the end of the playlist", () => {
    for (let now = T; now < T + 4000; now += 125) {
      const full = buildLlMediaPlaylist(options(now));
      const delta = buildLlMediaPlaylist(options(now, { skip: true }));
      const skipped = Number(/SKIPPED-SEGMENTS=(\d+)/.exec(delta)![1]);
      const end = llWindow(now, TIMELINE, 10).endMs;
      const first = Number(tag(full, "EXT-X-MEDIA-SEQUENCE"));
      expect(tag(delta, "EXT-X-MEDIA-SEQUENCE")).toBe(String(first));
      expect(tag(delta, "EXT-X-DISCONTINUITY-SEQUENCE")).toBe(tag(full, "EXT-X-DISCONTINUITY-SEQUENCE"));
      expect(segmentUris(delta)).toEqual(segmentUris(full).slice(skipped));
      expect((first + skipped) * 2000 - end).toBeLessThanOrEqual(-12_000); // the last skipped one ended in time
      expect((first + skipped + 1) * 2000 - end).toBeGreaterThan(-12_000); // the first kept one did not
      expect(partUris(delta)).toEqual(partUris(full));
    }
  });

  it("lists a part only once its time has passed, and hints the next one", () => {
    const ready = partReadyAt({ msn: MSN, part: 2 }, TIMELINE); // T + 250 ms
    const before = buildLlMediaPlaylist(options(ready - 1));
    expect(partUris(before).at(-1)).toBe(`part-${MSN}-1.m4s`);
    expect(tag(before, "EXT-X-PRELOAD-HINT")).toBe(`TYPE=PART,URI="part-${MSN}-2.m4s"`);
    const after = buildLlMediaPlaylist(options(ready));
    expect(partUris(after).at(-1)).toBe(`part-${MSN}-2.m4s`);
    expect(tag(after, "EXT-X-PRELOAD-HINT")).toBe(`TYPE=PART,URI="part-${MSN}-3.m4s"`);
    expect(tag(after, "EXT-X-RENDITION-REPORT")).toBe(`URI="../180p/index.m3u8",LAST-MSN=${MSN},LAST-PART=2`);
  });

  it("publishes a segment's URI with its last part and then hints part 0 of the next segment", () => {
    const complete = buildLlMediaPlaylist(options((MSN + 1) * 2000));
    expect(segmentUris(complete).at(-1)).toBe(`seg-${MSN}.m4s`);
    expect(partUris(complete).at(-1)).toBe(`part-${MSN}-3.m4s`);
    expect(tag(complete, "EXT-X-PRELOAD-HINT")).toBe(`TYPE=PART,URI="part-${MSN + 1}-0.m4s"`);
    expect(lines(complete).filter((l) => l.startsWith("#EXT-X-PROGRAM-DATE-TIME:")).at(-1)).toBe(`#EXT-X-PROGRAM-DATE-TIME:${new Date(MSN * 2000).toISOString()}`);
    const inProgress = buildLlMediaPlaylist(options((MSN + 1) * 2000 - 1));
    expect(segmentUris(inProgress).at(-1)).toBe(`seg-${MSN - 1}.m4s`);
  });

  it("dates every segment, the one in progress included, from the wall clock: msn × 2 s", () => {
    const playlist = buildLlMediaPlaylist(options(T));
    const dates = lines(playlist).filter((l) => l.startsWith("#EXT-X-PROGRAM-DATE-TIME:"));
    const first = Number(tag(playlist, "EXT-X-MEDIA-SEQUENCE"));
    expect(dates).toEqual(Array.from({ length: 11 }, (_, i) => `#EXT-X-PROGRAM-DATE-TIME:${new Date((first + i) * 2000).toISOString()}`));
  });

  it("declares blocking reloads, delta updates and a part hold-back of three parts", () => {
    const playlist = buildLlMediaPlaylist(options(T));
    expect(tag(playlist, "EXT-X-SERVER-CONTROL")).toBe("CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12.0,PART-HOLD-BACK=1.500");
    expect(tag(playlist, "EXT-X-PART-INF")).toBe("PART-TARGET=0.500");
  });
});

describe("blocking playlist reload (RFC 8216bis §6.2.5.2)", () => {
  const newest = newestPart(T, TIMELINE); // part 1 of MSN

  it("answers at once without delivery directives, or when the asked-for part already exists", () => {
    expect(reloadDecision({}, T, TIMELINE)).toEqual({ kind: "answer", at: T });
    expect(reloadDecision({ msn: MSN, part: 1 }, T, TIMELINE)).toEqual({ kind: "answer", at: T });
    expect(reloadDecision({ msn: MSN - 1 }, T, TIMELINE)).toEqual({ kind: "answer", at: T });
  });

  it("holds until the part exists, or with _HLS_msn alone until the segment is complete", () => {
    expect(newest).toEqual({ msn: MSN, part: 1 });
    expect(reloadDecision({ msn: MSN, part: 2 }, T, TIMELINE)).toEqual({ kind: "answer", at: T + 250 });
    expect(reloadDecision({ msn: MSN }, T, TIMELINE)).toEqual({ kind: "answer", at: (MSN + 1) * 2000 });
    // A part index past the segment's last part counts on into the next segment.
    expect(reloadDecision({ msn: MSN, part: 5 }, T, TIMELINE)).toEqual({ kind: "answer", at: partReadyAt({ msn: MSN + 1, part: 1 }, TIMELINE) });
  });

  // "If the _HLS_msn is greater than the Media Sequence Number of the last Media Segment in the current
  // Playlist plus two, or if the _HLS_part exceeds the last Partial Segment in the current Playlist by
  // the Advance Part Limit, then the server SHOULD immediately return Bad Request, such as HTTP 400."
  it("refuses an _HLS_msn more than two segments ahead, or an _HLS_part more than 3 s of parts ahead", () => {
    expect(reloadDecision({ msn: MSN + 3 }, T, TIMELINE).kind).toBe("refuse");
    expect(reloadDecision({ msn: MSN + 2 }, T, TIMELINE).kind).toBe("answer");
    expect(reloadDecision({ msn: MSN + 1, part: 3 }, T, TIMELINE)).toEqual({ kind: "answer", at: partReadyAt({ msn: MSN + 1, part: 3 }, TIMELINE) });
    expect(reloadDecision({ msn: MSN + 2, part: 0 }, T, TIMELINE).kind).toBe("refuse");
  });

  it("refuses _HLS_part without _HLS_msn", () => {
    expect(reloadDecision({ part: 1 }, T, TIMELINE).kind).toBe("refuse");
  });

  it("never holds a request longer than three target durations", () => {
    for (let now = T; now < T + 2000; now += 50) {
      const last = newestPart(now, TIMELINE);
      for (let msn = last.msn - 1; msn <= last.msn + 3; msn++) {
        for (const part of [undefined, 0, 1, 2, 3, 7]) {
          const d = reloadDecision({ msn, part }, now, TIMELINE);
          if (d.kind === "answer") expect(d.at - now).toBeLessThanOrEqual(6000);
        }
      }
    }
  });
});

describe("part availability", () => {
  it("serves an existing part, holds the preload-hinted one until it exists, and has no later ones yet", () => {
    expect(partAvailability({ msn: MSN, part: 1 }, T, TIMELINE)).toEqual({ kind: "ready" });
    expect(partAvailability({ msn: MSN, part: 2 }, T, TIMELINE)).toEqual({ kind: "hold", until: T + 250 });
    expect(partAvailability({ msn: MSN, part: 3 }, T, TIMELINE)).toEqual({ kind: "missing" });
  });
});
