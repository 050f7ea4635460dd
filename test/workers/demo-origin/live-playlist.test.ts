// The pure live-playlist builders: the clock in, RFC 8216 text out; `now` is injected, nothing sleeps.
import { describe, expect, it } from "vitest";
import {
  buildLiveMediaPlaylist,
  buildMultivariantPlaylist,
  discontinuitySequence,
  liveWindow,
  segmentInReach,
  type LiveMediaPlaylistOptions,
} from "../../../workers/demo-origin/live-playlist";
import goldenTs from "./golden/live-ts-wrap.expected.m3u8?raw";
import goldenFmp4 from "./golden/live-fmp4-wrap.expected.m3u8?raw";

const SEGMENT_MS = 2000;
// 2026-11-28T12:00:04Z is msn 897_933_602: the six-segment window (…597 to …602) holds a wrap at …600.
const T = Date.UTC(2026, 10, 28, 12, 0, 4);

function options(now: number, extra: Partial<LiveMediaPlaylistOptions> = {}): LiveMediaPlaylistOptions {
  return {
    now,
    segmentMs: SEGMENT_MS,
    windowSegments: 6,
    loopSegments: 5,
    segmentUri: (msn) => `seg-${msn}.ts`,
    segmentDuration: () => 2,
    ...extra,
  };
}

function tag(playlist: string, name: string): string | undefined {
  return playlist.split("\n").find((l) => l.startsWith(`#${name}:`))?.slice(name.length + 2);
}

/** [msn, discontinuity sequence number] of every segment, computed as RFC 8216 §4.3.3.3 defines it. */
function segmentDsns(playlist: string): [number, number][] {
  let msn = Number(tag(playlist, "EXT-X-MEDIA-SEQUENCE"));
  let dsn = Number(tag(playlist, "EXT-X-DISCONTINUITY-SEQUENCE") ?? 0);
  const out: [number, number][] = [];
  for (const line of playlist.split("\n")) {
    if (line === "#EXT-X-DISCONTINUITY") dsn++;
    else if (line !== "" && !line.startsWith("#")) out.push([msn++, dsn]);
  }
  return out;
}

describe("live media playlist", () => {
  it("sets EXT-X-MEDIA-SEQUENCE to floor(now / 2 s) - 5 and lists six 2-second segments", () => {
    const playlist = buildLiveMediaPlaylist(options(T));
    expect(tag(playlist, "EXT-X-MEDIA-SEQUENCE")).toBe(String(Math.floor(T / SEGMENT_MS) - 5));
    expect(tag(playlist, "EXT-X-TARGETDURATION")).toBe("2");
    expect(playlist.split("\n").filter((l) => l.startsWith("#EXTINF:2.000,"))).toHaveLength(6);
  });

  it("advances the media sequence by exactly one every 2 seconds", () => {
    const start = Math.floor(T / SEGMENT_MS) * SEGMENT_MS;
    const at = (ms: number) => Number(tag(buildLiveMediaPlaylist(options(start + ms)), "EXT-X-MEDIA-SEQUENCE"));
    expect(at(1999)).toBe(at(0));
    expect(at(2000)).toBe(at(0) + 1);
    expect(at(4000)).toBe(at(0) + 2);
    expect(at(60_000)).toBe(at(0) + 30);
  });

  it("dates every segment with EXT-X-PROGRAM-DATE-TIME at msn × 2 s", () => {
    const playlist = buildLiveMediaPlaylist(options(T));
    const lines = playlist.split("\n");
    const first = Number(tag(playlist, "EXT-X-MEDIA-SEQUENCE"));
    const dates = lines.filter((l) => l.startsWith("#EXT-X-PROGRAM-DATE-TIME:")).map((l) => Date.parse(l.slice(25)));
    expect(dates).toEqual([0, 1, 2, 3, 4, 5].map((i) => (first + i) * SEGMENT_MS));
  });

  it("names segment URIs by media sequence number", () => {
    const playlist = buildLiveMediaPlaylist(options(T));
    const first = Number(tag(playlist, "EXT-X-MEDIA-SEQUENCE"));
    const uris = playlist.split("\n").filter((l) => l.startsWith("seg-"));
    expect(uris).toEqual([0, 1, 2, 3, 4, 5].map((i) => `seg-${first + i}.ts`));
  });

  // RFC 8216 §4.3.2.3: "The EXT-X-DISCONTINUITY tag indicates a discontinuity between the Media Segment
  // that follows it and the one that preceded it."
  it("puts EXT-X-DISCONTINUITY before every segment that wraps the source loop, and nowhere else", () => {
    for (let step = 0; step < 10; step++) {
      const lines = buildLiveMediaPlaylist(options(T + step * SEGMENT_MS)).split("\n");
      lines.forEach((line, i) => {
        if (!line.startsWith("seg-")) return;
        const msn = Number(/seg-(\d+)/.exec(line)?.[1]);
        const tagged = lines.slice(0, i).reverse().find((l) => l.startsWith("seg-") || l === "#EXT-X-DISCONTINUITY");
        expect(tagged === "#EXT-X-DISCONTINUITY", `msn ${msn}`).toBe(msn % 5 === 0);
      });
    }
  });

  // RFC 8216 §6.2.2: "If the server removes an EXT-X-DISCONTINUITY tag from the Media Playlist, it MUST
  // increment the value of the EXT-X-DISCONTINUITY-SEQUENCE tag so that the Discontinuity Sequence
  // Numbers of the segments still in the Media Playlist remain unchanged."
  it("keeps each segment's discontinuity sequence number unchanged as the window slides", () => {
    const seen = new Map<number, number>();
    for (let step = 0; step < 23; step++) {
      for (const [msn, dsn] of segmentDsns(buildLiveMediaPlaylist(options(T + step * SEGMENT_MS, { onAirMsn: 897_933_000 })))) {
        if (seen.has(msn)) expect(dsn, `msn ${msn}`).toBe(seen.get(msn));
        seen.set(msn, dsn);
      }
    }
    expect(seen.size).toBe(23 + 5);
  });

  it("counts discontinuities from the on-air segment, so the sequence stays small", () => {
    expect(discontinuitySequence(1001, 5, 1000)).toBe(0);
    expect(discontinuitySequence(1006, 5, 1000)).toBe(1);
    expect(discontinuitySequence(1005, 5, 1000)).toBe(0);
    expect(discontinuitySequence(10, 5, 1000)).toBe(0);
    expect(discontinuitySequence(11, 5)).toBe(2);
  });

  it("declares version 3 for TS and version 6 with EXT-X-MAP, restated after every discontinuity, for fMP4", () => {
    expect(tag(buildLiveMediaPlaylist(options(T)), "EXT-X-VERSION")).toBe("3");
    const fmp4 = buildLiveMediaPlaylist(options(T, { mapUri: "init.mp4", segmentUri: (msn) => `seg-${msn}.m4s` }));
    expect(tag(fmp4, "EXT-X-VERSION")).toBe("6");
    const lines = fmp4.split("\n");
    const firstMap = lines.indexOf('#EXT-X-MAP:URI="init.mp4"');
    expect(firstMap).toBeGreaterThan(-1);
    expect(firstMap).toBeLessThan(lines.findIndex((l) => l.startsWith("seg-")));
    lines.forEach((line, i) => {
      if (line === "#EXT-X-DISCONTINUITY") expect(lines[i + 1]).toBe('#EXT-X-MAP:URI="init.mp4"');
    });
  });

  it("matches the golden playlists for a window holding a loop wrap", () => {
    expect(buildLiveMediaPlaylist(options(T, { onAirMsn: 897_933_000 }))).toBe(goldenTs);
    const fmp4 = options(T, { onAirMsn: 897_933_000, mapUri: "init.mp4", segmentUri: (msn) => `seg-${msn}.m4s` });
    expect(buildLiveMediaPlaylist(fmp4)).toBe(goldenFmp4);
  });

  it("lists a shorter window instead of negative sequence numbers right after the epoch", () => {
    expect(liveWindow({ now: 4000, segmentMs: SEGMENT_MS, windowSegments: 6 })).toEqual({ first: 0, last: 2 });
  });
});

describe("segment reach", () => {
  const clock = { now: T, segmentMs: SEGMENT_MS, windowSegments: 6 };
  const { first, last } = liveWindow(clock);

  it("serves every segment of the window, lagging ones, and up to three ahead of the newest", () => {
    for (let msn = first; msn <= last; msn++) expect(segmentInReach(msn, clock)).toBe(true);
    expect(segmentInReach(first - 100, clock)).toBe(true);
    expect(segmentInReach(last + 3, clock)).toBe(true);
  });

  it("refuses segments far in the future, long gone, or not whole numbers", () => {
    expect(segmentInReach(last + 4, clock)).toBe(false);
    expect(segmentInReach(last + 1_000_000, clock)).toBe(false);
    expect(segmentInReach(first - 901, clock)).toBe(false);
    expect(segmentInReach(-1, clock)).toBe(false);
    expect(segmentInReach(1.5 + first, clock)).toBe(false);
  });
});

describe("multivariant playlist", () => {
  it("writes one EXT-X-STREAM-INF per variant with bandwidths, codecs, resolution and frame rate", () => {
    const text = buildMultivariantPlaylist([
      { uri: "a/index.m3u8", bandwidth: 500_000, averageBandwidth: 450_000, codecs: "avc1.64001e,mp4a.40.2", resolution: "640x360", frameRate: 25 },
    ]);
    expect(text).toBe(
      [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        '#EXT-X-STREAM-INF:BANDWIDTH=500000,AVERAGE-BANDWIDTH=450000,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=25.000',
        "a/index.m3u8",
        "",
      ].join("\n"),
    );
  });
});
