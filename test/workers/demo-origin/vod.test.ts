// The ffmpeg-made VOD fixture sets, served as static files with the origin's headers.
import { describe, expect, it } from "vitest";
import { expectErrorBody, get, textOf } from "./helpers";

describe("VOD sets", () => {
  it.each(["ts", "fmp4", "aes128", "byterange", "alt-audio"])("serve %s/index.m3u8 as a multivariant playlist", async (set) => {
    const res = await get(`/vod/${set}/index.m3u8`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/vnd.apple.mpegurl");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(await textOf(res)).toMatch(/^#EXTM3U\n[\s\S]*#EXT-X-STREAM-INF:/);
  });

  it("serve TS segments under their .ts names as video/mp2t", async () => {
    const res = await get("/vod/ts/270p/seg-0.ts");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("video/mp2t");
    expect(new Uint8Array(await res.arrayBuffer())[0]).toBe(0x47);
  });

  it("serve the AES-128 set's playlist with EXT-X-KEY and its 16-byte key as octet-stream", async () => {
    const playlist = await textOf(await get("/vod/aes128/180p/index.m3u8"));
    expect(playlist).toMatch(/#EXT-X-KEY:METHOD=AES-128,URI="enc.key",IV=0x[0-9a-f]{32}/);
    const key = await get("/vod/aes128/180p/enc.key");
    expect(key.headers.get("content-type")).toBe("application/octet-stream");
    expect((await key.arrayBuffer()).byteLength).toBe(16);
  });

  it("serve every EXT-X-BYTERANGE of the single-file set as the exact bytes asked for", async () => {
    const playlist = await textOf(await get("/vod/byterange/180p/index.m3u8"));
    const ranges = [...playlist.matchAll(/#EXT-X-BYTERANGE:(\d+)@(\d+)\n(\S+)/g)];
    expect(ranges).toHaveLength(3);
    const whole = new Uint8Array(await (await get("/vod/byterange/180p/all.ts")).arrayBuffer());
    for (const [, length, offset, uri] of ranges) {
      const start = Number(offset);
      const end = start + Number(length) - 1;
      const res = await get(`/vod/byterange/180p/${uri}`, { headers: { range: `bytes=${start}-${end}` } });
      expect(res.status).toBe(206);
      expect(res.headers.get("content-range")).toBe(`bytes ${start}-${end}/${whole.byteLength}`);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(whole.subarray(start, end + 1));
    }
  });

  it("answer 416 for a range past the end of a file", async () => {
    const res = await get("/vod/byterange/180p/all.ts", { headers: { range: "bytes=99999999-" } });
    expect(res.status).toBe(416);
  });

  it("serve the fMP4 set with EXT-X-MAP and an init section as video/mp4", async () => {
    expect(await textOf(await get("/vod/fmp4/180p/index.m3u8"))).toContain('#EXT-X-MAP:URI="init.mp4"');
    expect((await get("/vod/fmp4/180p/init.mp4")).headers.get("content-type")).toBe("video/mp4");
    expect((await get("/vod/fmp4/180p/seg-0.m4s")).headers.get("content-type")).toBe("video/iso.segment");
  });

  it("offer alternate audio in English and German beside a video-only variant", async () => {
    const text = await textOf(await get("/vod/alt-audio/index.m3u8"));
    const audio = text.split("\n").filter((l) => l.startsWith("#EXT-X-MEDIA:TYPE=AUDIO"));
    expect(audio).toHaveLength(2);
    expect(audio.join("\n")).toMatch(/LANGUAGE="en"[\s\S]*LANGUAGE="de"/);
    expect(text).toMatch(/#EXT-X-STREAM-INF:[^\n]*AUDIO="[^"]+"\nvideo\/index\.m3u8/);
    expect((await get("/vod/alt-audio/audio-de/index.m3u8")).status).toBe(200);
  });

  it("answer 404 for a file that is not there", async () => {
    const res = await get("/vod/ts/720p/index.m3u8");
    expect(res.status).toBe(404);
    expectErrorBody(await res.json(), "not_found");
  });
});
