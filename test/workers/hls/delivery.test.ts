// What an LL-HLS blocking reload asks for, and whether a playlist a cache holds already answers it.
import { describe, expect, it } from "vitest";
import { blockingReloadOf, satisfiesReload } from "../../../workers/hls/delivery";
import { parsePlaylist } from "../../../workers/hls/parse";

/** Segments 10 and 11 whole, then parts 0 and 1 of segment 12 (0.5 s parts of 2 s segments). */
const PLAYLIST = [
  "#EXTM3U",
  "#EXT-X-VERSION:9",
  "#EXT-X-TARGETDURATION:2",
  "#EXT-X-PART-INF:PART-TARGET=0.5",
  "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.5",
  "#EXT-X-MEDIA-SEQUENCE:10",
  "#EXT-X-MAP:URI=\"init.mp4\"",
  "#EXTINF:2.0,",
  "seg-10.m4s",
  ...[0, 1, 2, 3].map((p) => `#EXT-X-PART:DURATION=0.5,URI="part-11-${p}.m4s"${p === 0 ? ",INDEPENDENT=YES" : ""}`),
  "#EXTINF:2.0,",
  "seg-11.m4s",
  "#EXT-X-PART:DURATION=0.5,URI=\"part-12-0.m4s\",INDEPENDENT=YES",
  "#EXT-X-PART:DURATION=0.5,URI=\"part-12-1.m4s\"",
  "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part-12-2.m4s\"",
  "",
].join("\n");
const info = parsePlaylist(PLAYLIST);

describe("blockingReloadOf", () => {
  it("reads _HLS_msn, _HLS_part and _HLS_skip from a play key", () => {
    expect(blockingReloadOf("360p/index.m3u8?_HLS_msn=12&_HLS_part=1")).toEqual({ msn: 12, part: 1, skip: false });
    expect(blockingReloadOf("index.m3u8?_HLS_msn=12&_HLS_skip=YES")).toEqual({ msn: 12, skip: true });
  });
  it("is null for a key that asks for no reload, or asks one malformed", () => {
    for (const key of ["index.m3u8", "index.m3u8?_HLS_skip=YES", "index.m3u8?_HLS_part=1", "index.m3u8?_HLS_msn=-1", "index.m3u8?_HLS_msn=1e3", "index.m3u8?_HLS_msn=12&_HLS_part=x"]) {
      expect(blockingReloadOf(key), key).toBeNull();
    }
  });
});

describe("satisfiesReload", () => {
  const at = (msn: number, part?: number) => satisfiesReload(info, { msn, ...(part === undefined ? {} : { part }), skip: false });
  it("holds a whole segment once it is listed whole, not while only its parts are", () => {
    expect(at(11)).toBe(true);
    expect(at(10)).toBe(true);
    expect(at(12)).toBe(false);
  });
  it("holds a part once it or anything after it is listed, and not the hinted part", () => {
    expect(at(12, 0)).toBe(true);
    expect(at(12, 1)).toBe(true);
    expect(at(12, 2)).toBe(false);
    expect(at(11, 3)).toBe(true);
    expect(at(13, 0)).toBe(false);
  });
  it("takes a part past the last of a finished segment as the next segment's first", () => {
    // Segment 11 had four parts; a fifth is part 0 of 12, which is listed.
    expect(at(11, 4)).toBe(true);
    // Segment 10's parts are no longer listed: it is finished, any part of it is in it.
    expect(at(10, 2)).toBe(true);
  });
  it("never answers from a multivariant playlist", () => {
    const multivariant = parsePlaylist("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\n360p/index.m3u8\n");
    expect(satisfiesReload(multivariant, { msn: 0, skip: false })).toBe(false);
  });
});
