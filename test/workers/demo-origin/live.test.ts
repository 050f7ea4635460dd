// The live stream over real media: ladders, sliding media playlists, and segment bytes from the source loop.
import { describe, expect, it } from "vitest";
import { media } from "../../../workers/demo-origin/renditions";
import { expectErrorBody, get, listedSegments, sha256, textOf } from "./helpers";

const M3U8 = "application/vnd.apple.mpegurl";

function streamInfs(playlist: string): string[] {
  return playlist.split("\n").filter((l) => l.startsWith("#EXT-X-STREAM-INF:"));
}

describe("live multivariant playlists", () => {
  it("lists the two TS renditions with measured bandwidths, real codecs, resolution and frame rate", async () => {
    const res = await get("/live/main/index.m3u8");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(M3U8);
    expect(res.headers.get("cache-control")).toBe("public, max-age=1");
    const text = await textOf(res);
    const infs = streamInfs(text);
    expect(infs).toHaveLength(2);
    for (const inf of infs) {
      expect(inf).toMatch(/BANDWIDTH=\d+,AVERAGE-BANDWIDTH=\d+,CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2",RESOLUTION=\d+x\d+,FRAME-RATE=25\.000/);
    }
    expect(text).toContain('CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=640x360');
    expect(text).toContain('CODECS="avc1.4d4015,mp4a.40.2",RESOLUTION=320x180');
    expect(text.split("\n").filter((l) => l.endsWith(".m3u8"))).toEqual(["ts-360p/index.m3u8", "ts-180p/index.m3u8"]);
  });

  it("offers the fMP4 rendition in its own ladder and all three renditions in all.m3u8", async () => {
    const fmp4 = await textOf(await get("/live/main/fmp4.m3u8"));
    expect(streamInfs(fmp4)).toHaveLength(1);
    expect(fmp4).toContain("fmp4-360p/index.m3u8");
    const all = await textOf(await get("/live/main/all.m3u8"));
    expect(streamInfs(all)).toHaveLength(3);
    for (const r of media.renditions) {
      expect(all).toContain(`BANDWIDTH=${r.bandwidth},AVERAGE-BANDWIDTH=${r.averageBandwidth},CODECS="${r.codecs}"`);
    }
  });

  it("serves any stream name as its own channel over the same media", async () => {
    for (const stream of ["premium", "bench", "a_b-9"]) {
      const res = await get(`/live/${stream}/index.m3u8`);
      expect(res.status).toBe(200);
      expect(await textOf(res)).toBe(await textOf(await get("/live/main/index.m3u8")));
    }
  });
});

describe("live media playlists", () => {
  it("slide with the clock: six segments ending at floor(now / 2 s)", async () => {
    const before = Math.floor(Date.now() / 2000);
    const text = await textOf(await get("/live/main/ts-360p/index.m3u8"));
    const after = Math.floor(Date.now() / 2000);
    const msns = listedSegments(text);
    expect(msns).toHaveLength(6);
    expect(msns.at(-1)).toBeGreaterThanOrEqual(before);
    expect(msns.at(-1)).toBeLessThanOrEqual(after);
    expect(text).toContain(`#EXT-X-MEDIA-SEQUENCE:${msns[0]}`);
    expect(text).toMatch(/#EXT-X-DISCONTINUITY-SEQUENCE:\d+/);
  });

  it("point fMP4 segments at init.mp4 with EXT-X-MAP", async () => {
    const text = await textOf(await get("/live/main/fmp4-360p/index.m3u8"));
    expect(text).toContain("#EXT-X-VERSION:6");
    expect(text).toContain('#EXT-X-MAP:URI="init.mp4"');
    expect(text).toMatch(/\nseg-\d+\.m4s\n/);
  });
});

describe("live segments", () => {
  it("are the bytes of source file msn % 5, for every rendition and stream", async () => {
    for (const r of media.renditions) {
      const msns = listedSegments(await textOf(await get(`/live/main/${r.id}/index.m3u8`)));
      for (const msn of msns) {
        const res = await get(`/live/bench/${r.id}/seg-${msn}.${r.segmentExtension}`);
        expect(res.status).toBe(200);
        expect(res.headers.get("content-type")).toBe(r.container === "ts" ? "video/mp2t" : "video/iso.segment");
        expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
        expect(await sha256(await res.arrayBuffer()), `${r.id} msn ${msn}`).toBe(r.segmentSha256[msn % media.loopSegments]);
      }
    }
  });

  it("serve the fMP4 initialisation section as video/mp4", async () => {
    const r = media.renditions.find((x) => x.container === "fmp4")!;
    const res = await get(`/live/main/${r.id}/init.mp4`);
    expect(res.headers.get("content-type")).toBe("video/mp4");
    expect(await sha256(await res.arrayBuffer())).toBe(r.initSha256);
  });

  it("still answer for a lagging player but not for a segment far in the future", async () => {
    const [first] = listedSegments(await textOf(await get("/live/main/ts-180p/index.m3u8")));
    expect((await get(`/live/main/ts-180p/seg-${first! - 100}.ts`)).status).toBe(200);
    const future = await get(`/live/main/ts-180p/seg-${first! + 60}.ts`);
    expect(future.status).toBe(404);
    expectErrorBody(await future.json(), "not_found");
  });

  it("honour Range requests", async () => {
    const msn = listedSegments(await textOf(await get("/live/main/ts-360p/index.m3u8")))[0]!;
    const whole = new Uint8Array(await (await get(`/live/main/ts-360p/seg-${msn}.ts`)).arrayBuffer());
    const part = await get(`/live/main/ts-360p/seg-${msn}.ts`, { headers: { range: "bytes=188-375" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 188-375/${whole.byteLength}`);
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(whole.subarray(188, 376));
  });
});

describe("unknown live paths", () => {
  it.each([
    "/live/main/ts-999p/index.m3u8",
    "/live/main/ts-360p/seg-1.m4s",
    "/live/main/ts-180p/init.mp4",
    "/live/main/ts-360p/seg-x.ts",
    "/live/main/nope.m3u8",
    "/live/ma%20in/index.m3u8",
    "/live/main/ts-360p/seg-0.m2t",
  ])("answer 404 with an error body: %s", async (path) => {
    const res = await get(path);
    expect(res.status).toBe(404);
    expectErrorBody(await res.json(), "not_found");
  });
});
