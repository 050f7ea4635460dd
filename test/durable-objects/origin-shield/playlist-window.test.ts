// The origin shield's playlist window: freshness, failure memory, renderings, the watch list, prefetch and bounds, with `now` given.
import { describe, expect, it } from "vitest";
import type { ChannelOrigin } from "../../../workers/hls/paths";
import type { Failure } from "../../../workers/shared/errors";
import {
  FAILURE_TTL_MS,
  LISTING_RECHECK_MS,
  MAX_FAILURES,
  MAX_PLAYLISTS,
  MAX_RENDERINGS,
  MAX_WATCHES,
  PlaylistWindow,
  segmentsToPrefetch,
  type FetchedPlaylist,
} from "../../../durable-objects/origin-shield/playlist-window";

const ORIGIN: ChannelOrigin = { originUrl: "https://origin.example/live/ch/index.m3u8", allowedHosts: [] };
const T0 = 1_000_000;
const MEDIA_KEY = "720p/index.m3u8";
const MEDIA_URL = new URL("https://origin.example/live/ch/720p/index.m3u8");

const MULTIVARIANT = [
  "#EXTM3U",
  "#EXT-X-STREAM-INF:BANDWIDTH=2000000",
  "720p/index.m3u8",
  "#EXT-X-STREAM-INF:BANDWIDTH=500000",
  "360p/index.m3u8",
  "",
].join("\n");

function live(first: number, count = 4, targetDuration = 4): string {
  const lines = ["#EXTM3U", `#EXT-X-TARGETDURATION:${targetDuration}`, `#EXT-X-MEDIA-SEQUENCE:${first}`];
  for (let n = first; n < first + count; n++) lines.push(`#EXTINF:${targetDuration}.0,`, `seg-${n}.ts`);
  return lines.join("\n") + "\n";
}

function store(w: PlaylistWindow, key: string, text: string, now: number, url = MEDIA_URL) {
  const kept = w.store(key, ORIGIN, { text, url }, now);
  if ("code" in kept) throw new Error(`not stored: ${JSON.stringify(kept)}`);
  return kept;
}

function watchLive(w: PlaylistWindow, key: string, now: number): FetchedPlaylist {
  const { stored } = store(w, key, live(10), now);
  w.watch({ key, origin: ORIGIN, url: MEDIA_URL }, stored, now);
  return stored;
}

const timeout: Failure = { code: "origin_timeout" };

describe("PlaylistWindow", () => {
  it("serves a live media playlist until half its target duration has passed, then asks for it again", () => {
    const w = new PlaylistWindow();
    store(w, MEDIA_KEY, live(10, 4, 4), T0);
    expect(w.fresh(MEDIA_KEY, T0 + 1999)).toBeDefined();
    expect(w.fresh(MEDIA_KEY, T0 + 2000)).toBeUndefined();
    expect(w.stored(MEDIA_KEY)).toBeDefined();
  });

  it("keeps a multivariant playlist for 10 s and an ended media playlist for 60 s", () => {
    const w = new PlaylistWindow();
    store(w, "index.m3u8", MULTIVARIANT, T0, new URL(ORIGIN.originUrl));
    store(w, MEDIA_KEY, live(10) + "#EXT-X-ENDLIST\n", T0);
    expect(w.fresh("index.m3u8", T0 + 9_999)).toBeDefined();
    expect(w.fresh("index.m3u8", T0 + 10_000)).toBeUndefined();
    expect(w.fresh(MEDIA_KEY, T0 + 59_999)).toBeDefined();
    expect(w.fresh(MEDIA_KEY, T0 + 60_000)).toBeUndefined();
  });

  it("answers a failed fetch from memory for one second, and forgets it when the playlist is fetched", () => {
    const w = new PlaylistWindow();
    expect(w.fail(MEDIA_KEY, timeout, T0)).toEqual(timeout);
    expect(w.failure(MEDIA_KEY, T0 + FAILURE_TTL_MS - 1)).toEqual(timeout);
    expect(w.failure(MEDIA_KEY, T0 + FAILURE_TTL_MS)).toBeUndefined();
    w.fail(MEDIA_KEY, timeout, T0);
    store(w, MEDIA_KEY, live(10), T0 + 10);
    expect(w.failure(MEDIA_KEY, T0 + 20)).toBeUndefined();
  });

  it("refuses a malformed playlist as bad_origin_playlist and remembers that failure", () => {
    const w = new PlaylistWindow();
    const kept = w.store(MEDIA_KEY, ORIGIN, { text: "not a playlist", url: MEDIA_URL }, T0);
    expect(kept).toMatchObject({ code: "bad_origin_playlist" });
    expect(w.failure(MEDIA_KEY, T0 + 1)).toMatchObject({ code: "bad_origin_playlist" });
    expect(w.stored(MEDIA_KEY)).toBeUndefined();
  });

  it("renders a playlist once per set of variant options and serves the same text after", () => {
    const w = new PlaylistWindow();
    const { stored } = store(w, "index.m3u8", MULTIVARIANT, T0, new URL(ORIGIN.originUrl));
    const req = { key: "index.m3u8", origin: ORIGIN };
    const whole = w.rendering(stored, req);
    const capped = w.rendering(stored, { ...req, variant: { maxBandwidth: 1_000_000 } });
    expect(whole).toContain("720p/index.m3u8");
    expect(capped).not.toContain("720p/index.m3u8");
    expect(capped).toContain("360p/index.m3u8");
    expect(w.rendering(stored, { ...req, variant: { maxBandwidth: 1_000_000 } })).toBe(capped);
    expect(stored.rendered.size).toBe(2);
  });

  it("answers unavailable, for this request only, when no variant fits the bandwidth cap", () => {
    const w = new PlaylistWindow();
    const { stored } = store(w, "index.m3u8", MULTIVARIANT, T0, new URL(ORIGIN.originUrl));
    expect(w.rendering(stored, { key: "index.m3u8", origin: ORIGIN, variant: { maxBandwidth: 100 } })).toMatchObject({ code: "unavailable", retryAfterSeconds: 5 });
    expect(w.failure("index.m3u8", T0 + 1)).toBeUndefined();
  });

  it("lists the ladder's bandwidths lowest first, and none for a lone media playlist", () => {
    const w = new PlaylistWindow();
    store(w, "index.m3u8", MULTIVARIANT, T0, new URL(ORIGIN.originUrl));
    expect(w.ladder("index.m3u8")).toEqual([500_000, 2_000_000]);
    store(w, MEDIA_KEY, live(10), T0);
    expect(w.ladder(MEDIA_KEY)).toEqual([]);
  });

  it("watches a live media playlist once, and never an ended one, a multivariant one or a blocking reload", () => {
    const w = new PlaylistWindow();
    const target = { key: MEDIA_KEY, origin: ORIGIN, url: MEDIA_URL };
    const { stored } = store(w, MEDIA_KEY, live(10), T0);
    expect(w.watch(target, stored, T0)).toBe(true);
    expect(w.watch(target, stored, T0 + 100)).toBe(false);
    const ended = store(w, "ended.m3u8", live(10) + "#EXT-X-ENDLIST\n", T0).stored;
    expect(w.watch({ ...target, key: "ended.m3u8" }, ended, T0)).toBe(false);
    const multivariant = store(w, "index.m3u8", MULTIVARIANT, T0, new URL(ORIGIN.originUrl)).stored;
    expect(w.watch({ ...target, key: "index.m3u8" }, multivariant, T0)).toBe(false);
    expect(w.watch({ ...target, key: `${MEDIA_KEY}?_HLS_msn=12` }, stored, T0)).toBe(false);
  });

  it("a live media playlist is polled again once half its target duration has passed", () => {
    const w = new PlaylistWindow();
    watchLive(w, MEDIA_KEY, T0);
    expect(w.due(T0 + 1999)).toEqual([]);
    expect(w.due(T0 + 2000)).toEqual([{ key: MEDIA_KEY, origin: ORIGIN, url: MEDIA_URL }]);
  });

  it("stops polling a playlist nobody asked for in two and a half target durations", () => {
    const w = new PlaylistWindow();
    watchLive(w, MEDIA_KEY, T0);
    expect(w.due(T0 + 10_000)).toHaveLength(1);
    expect(w.due(T0 + 10_001)).toEqual([]);
    expect(w.alarmAt(T0 + 10_001, null)).toBeNull();
  });

  it("keeps polling while viewers keep asking", () => {
    const w = new PlaylistWindow();
    const stored = watchLive(w, MEDIA_KEY, T0);
    w.watch({ key: MEDIA_KEY, origin: ORIGIN, url: MEDIA_URL }, stored, T0 + 9_000);
    expect(w.due(T0 + 15_000)).toHaveLength(1);
  });

  it("sets the alarm for when the first watched playlist goes stale, unless one is set sooner", () => {
    const w = new PlaylistWindow();
    expect(w.alarmAt(T0, null)).toBeNull();
    watchLive(w, MEDIA_KEY, T0);
    expect(w.alarmAt(T0, null)).toBe(T0 + 2000);
    expect(w.alarmAt(T0, T0 + 3000)).toBe(T0 + 2000);
    expect(w.alarmAt(T0, T0 + 2000)).toBeNull();
    expect(w.alarmAt(T0, T0 + 1000)).toBeNull();
  });

  it("sets the alarm no sooner than 50 ms from now, even for an overdue playlist", () => {
    const w = new PlaylistWindow();
    watchLive(w, MEDIA_KEY, T0);
    expect(w.alarmAt(T0 + 5000, null)).toBe(T0 + 5050);
  });

  it("comes back in half a second for a watched playlist whose copy is gone", () => {
    const w = new PlaylistWindow();
    watchLive(w, MEDIA_KEY, T0);
    for (let i = 0; i < MAX_PLAYLISTS; i++) store(w, `other-${i}.m3u8`, live(10), T0);
    expect(w.stored(MEDIA_KEY)).toBeUndefined();
    expect(w.alarmAt(T0, null)).toBe(T0 + 500);
  });

  it("prefetches the newest two segments a live playlist adds, and nothing of an ended one", () => {
    const w = new PlaylistWindow();
    const first = store(w, MEDIA_KEY, live(10, 4), T0);
    expect(segmentsToPrefetch(first.stored, first.previous).map(String)).toEqual([
      "https://origin.example/live/ch/720p/seg-12.ts",
      "https://origin.example/live/ch/720p/seg-13.ts",
    ]);
    const next = store(w, MEDIA_KEY, live(11, 4), T0 + 2000);
    expect(segmentsToPrefetch(next.stored, next.previous).map(String)).toEqual(["https://origin.example/live/ch/720p/seg-14.ts"]);
    const same = store(w, MEDIA_KEY, live(11, 4), T0 + 4000);
    expect(segmentsToPrefetch(same.stored, same.previous)).toEqual([]);
    const ended = store(w, "ended.m3u8", live(10) + "#EXT-X-ENDLIST\n", T0);
    expect(segmentsToPrefetch(ended.stored, ended.previous)).toEqual([]);
  });

  it("leaves byte-range segments to be fetched whole on first request", () => {
    const w = new PlaylistWindow();
    const text = ["#EXTM3U", "#EXT-X-TARGETDURATION:4", "#EXTINF:4.0,", "#EXT-X-BYTERANGE:1000@0", "all.ts", "#EXTINF:4.0,", "seg-2.ts", ""].join("\n");
    const { stored, previous } = store(w, MEDIA_KEY, text, T0);
    expect(segmentsToPrefetch(stored, previous).map(String)).toEqual(["https://origin.example/live/ch/720p/seg-2.ts"]);
  });

  it("holds at most MAX_PLAYLISTS playlists under a flood of distinct keys, keeping the ones in use", () => {
    const w = new PlaylistWindow();
    store(w, MEDIA_KEY, live(10, 4, 60), T0);
    store(w, "flood-0.m3u8", live(10), T0);
    for (let i = 1; i < MAX_PLAYLISTS * 4; i++) {
      store(w, `flood-${i}.m3u8`, live(10), T0);
      expect(w.fresh(MEDIA_KEY, T0)).toBeDefined(); // a viewer keeps reading it
    }
    expect(w.stored("flood-0.m3u8")).toBeUndefined();
    expect(w.stored(`flood-${MAX_PLAYLISTS * 4 - 1}.m3u8`)).toBeDefined();
    const held = Array.from({ length: MAX_PLAYLISTS * 4 }, (_, i) => w.stored(`flood-${i}.m3u8`)).filter(Boolean);
    expect(held.length).toBe(MAX_PLAYLISTS - 1);
  });

  it("remembers at most MAX_FAILURES failures under a flood of unknown keys, forgetting the oldest", () => {
    const w = new PlaylistWindow();
    for (let i = 0; i <= MAX_FAILURES * 4; i++) w.fail(`missing-${i}.m3u8`, { code: "not_found" }, T0);
    const remembered = Array.from({ length: MAX_FAILURES * 4 + 1 }, (_, i) => w.failure(`missing-${i}.m3u8`, T0)).filter(Boolean);
    expect(remembered.length).toBe(MAX_FAILURES);
    expect(w.failure(`missing-${MAX_FAILURES * 4}.m3u8`, T0)).toEqual({ code: "not_found" });
  });

  it("polls at most MAX_WATCHES playlists under a flood of distinct live keys, dropping the least recently asked for", () => {
    const w = new PlaylistWindow();
    for (let i = 0; i < MAX_WATCHES * 4; i++) watchLive(w, `live-${i}.m3u8?v=${i}`, T0 + i);
    const due = w.due(T0 + 2000 + MAX_WATCHES * 4);
    expect(due).toHaveLength(MAX_WATCHES);
    expect(due.map((t) => t.key)).not.toContain("live-0.m3u8?v=0");
    expect(due.map((t) => t.key)).toContain(`live-${MAX_WATCHES * 4 - 1}.m3u8?v=${MAX_WATCHES * 4 - 1}`);
  });

  it("keeps at most MAX_RENDERINGS renderings of one playlist", () => {
    const w = new PlaylistWindow();
    const { stored } = store(w, "index.m3u8", MULTIVARIANT, T0, new URL(ORIGIN.originUrl));
    for (let b = 0; b < MAX_RENDERINGS * 4; b++) w.rendering(stored, { key: "index.m3u8", origin: ORIGIN, variant: { maxBandwidth: 600_000 + b } });
    expect(stored.rendered.size).toBe(MAX_RENDERINGS);
  });
});

describe("PlaylistWindow listing: what a token of the channel opens", () => {
  it("opens the channel's entry always, and other keys only once a stored playlist listed them", () => {
    const w = new PlaylistWindow();
    expect(w.isListed("index.m3u8")).toBe(true);
    expect(w.isListed("720p/index.m3u8")).toBe(false);
    store(w, "index.m3u8", MULTIVARIANT, T0, new URL(ORIGIN.originUrl));
    expect(w.isListed("720p/index.m3u8")).toBe(true);
    expect(w.isListed("720p/seg-10.ts")).toBe(false);
    store(w, MEDIA_KEY, live(10), T0);
    expect(w.isListed("720p/seg-10.ts")).toBe(true);
    expect(w.isListed("720p/index.m3u8?_HLS_msn=14&_HLS_part=1")).toBe(true);
  });

  it("knows the lowest variant BANDWIDTH that reaches each key, so a capped viewer cannot ask for a higher one by name", () => {
    const w = new PlaylistWindow();
    store(w, "index.m3u8", MULTIVARIANT, T0, new URL(ORIGIN.originUrl));
    expect(w.bandwidth("index.m3u8")).toBe(0);
    expect(w.bandwidth("720p/index.m3u8")).toBe(2_000_000);
    expect(w.bandwidth("360p/index.m3u8")).toBe(500_000);
    // The 360p playlist reports on 720p (LL-HLS rendition report): that must not open 720p at 360p's rate.
    const low = live(10).replace("#EXTM3U\n", '#EXTM3U\n#EXT-X-RENDITION-REPORT:URI="../720p/index.m3u8",LAST-MSN=13\n');
    store(w, "360p/index.m3u8", low, T0, new URL("https://origin.example/live/ch/360p/index.m3u8"));
    store(w, MEDIA_KEY, live(10), T0);
    expect(w.bandwidth("360p/seg-10.ts")).toBe(500_000);
    expect(w.bandwidth("720p/seg-10.ts")).toBe(2_000_000);
    expect(w.bandwidth("720p/index.m3u8")).toBe(2_000_000);
    expect(w.bandwidth("720p/index.m3u8?_HLS_msn=14")).toBe(2_000_000);
  });

  it("keeps refusing a listed key with a query the origin did not write, and a path that leaves the listed tree", () => {
    const w = new PlaylistWindow();
    store(w, MEDIA_KEY, live(10), T0);
    expect(w.isListed("720p/seg-10.ts?bust=1")).toBe(false);
    expect(w.isListed("720p/../premium/seg-10.ts")).toBe(false);
    expect(w.isListed("_ext/https/origin.example/live/premium/index.m3u8")).toBe(false);
  });

  it("remembers a segment the live playlist no longer lists, so a viewer behind the live edge still plays it", () => {
    const w = new PlaylistWindow();
    store(w, MEDIA_KEY, live(10), T0);
    store(w, MEDIA_KEY, live(20), T0 + 60_000);
    expect(w.isListed("720p/seg-10.ts")).toBe(true);
    expect(w.isListed("720p/seg-23.ts")).toBe(true);
  });

  it("lets an unlisted key make the listing be read again at most once per recheck interval", () => {
    const w = new PlaylistWindow();
    expect(w.recheckListing(T0)).toBe(true);
    expect(w.recheckListing(T0 + 1)).toBe(false);
    expect(w.recheckListing(T0 + LISTING_RECHECK_MS - 1)).toBe(false);
    expect(w.recheckListing(T0 + LISTING_RECHECK_MS)).toBe(true);
  });

  it("names the media playlists of the stored multivariant entry for a listing read", () => {
    const w = new PlaylistWindow();
    expect(w.listedPlaylists()).toEqual([]);
    store(w, "index.m3u8", MULTIVARIANT, T0, new URL(ORIGIN.originUrl));
    expect(w.listedPlaylists()).toEqual(["720p/index.m3u8", "360p/index.m3u8"]);
  });
});
