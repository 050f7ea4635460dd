// The LL-HLS live channel over real CMAF media: ladder, media playlists on the live clock, blocking reloads, parts.
import { describe, expect, it } from "vitest";
import { llMedia } from "../../../workers/demo-origin/ll-renditions";
import { expectErrorBody, get, sha256, textOf } from "./helpers";

const PART_MS = 500;
const lines = (playlist: string) => playlist.split("\n");
const tag = (playlist: string, name: string) => lines(playlist).find((l) => l.startsWith(`#${name}:`))?.slice(name.length + 2);
const partUris = (playlist: string) => lines(playlist).filter((l) => l.startsWith("#EXT-X-PART:")).map((l) => /URI="([^"]+)"/.exec(l)![1]!);
const hintUri = (playlist: string) => /URI="([^"]+)"/.exec(tag(playlist, "EXT-X-PRELOAD-HINT") ?? "")?.[1];

/** (msn, part) of a part URI such as `part-123-2.m4s` or `360p/part-123-2.m4s`. */
function partOf(uri: string): { msn: number; part: number } {
  const m = /part-(\d+)-(\d)\.m4s$/.exec(uri)!;
  return { msn: Number(m[1]), part: Number(m[2]) };
}
const readyAt = ({ msn, part }: { msn: number; part: number }) => (msn * 4 + part + 1) * PART_MS;

describe("LL-HLS multivariant playlist", () => {
  it("lists the two CMAF renditions with their codecs and measured bandwidths", async () => {
    const res = await get("/ll/main/index.m3u8");
    expect(res.status).toBe(200);
    const text = await textOf(res);
    expect(lines(text).filter((l) => l.endsWith(".m3u8"))).toEqual(["360p/index.m3u8", "180p/index.m3u8"]);
    for (const r of llMedia.renditions) expect(text).toContain(`BANDWIDTH=${r.bandwidth},AVERAGE-BANDWIDTH=${r.averageBandwidth},CODECS="${r.codecs}",RESOLUTION=${r.resolution}`);
  });
});

describe("LL-HLS media playlists", () => {
  it("list only parts whose time has passed, hint the next, and report the other rendition at the same position", async () => {
    const asked = Date.now();
    const text = await textOf(await get("/ll/main/360p/index.m3u8"));
    const answered = Date.now();
    const newest = partOf(partUris(text).at(-1)!);
    expect(readyAt(newest)).toBeLessThanOrEqual(answered);
    expect(readyAt(newest)).toBeGreaterThan(asked - 2 * PART_MS);
    const hint = partOf(hintUri(text)!);
    expect(hint.msn * 4 + hint.part).toBe(newest.msn * 4 + newest.part + 1);
    expect(tag(text, "EXT-X-RENDITION-REPORT")).toBe(`URI="../180p/index.m3u8",LAST-MSN=${newest.msn},LAST-PART=${newest.part}`);
    expect(tag(text, "EXT-X-SERVER-CONTROL")).toBe("CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12.0,PART-HOLD-BACK=1.500");
  });

  it("gain parts as the clock runs, not all at once", async () => {
    const t0 = Date.now();
    const first = partUris(await textOf(await get("/ll/main/180p/index.m3u8"))).at(-1)!;
    await new Promise((r) => setTimeout(r, 2 * PART_MS + 50));
    const later = partUris(await textOf(await get("/ll/main/180p/index.m3u8"))).at(-1)!;
    const elapsed = Date.now() - t0;
    const [a, b] = [partOf(first), partOf(later)];
    const gained = b.msn * 4 + b.part - (a.msn * 4 + a.part);
    expect(gained).toBeGreaterThanOrEqual(2);
    // One part per 0.5 s that passed, however late the timer fired: never a burst.
    expect(gained).toBeLessThanOrEqual(Math.ceil(elapsed / PART_MS));
  });

  it("serve the single-media-playlist shape at media.m3u8: the 360p parts, no rendition reports", async () => {
    const text = await textOf(await get("/ll/main/media.m3u8"));
    expect(tag(text, "EXT-X-MAP")).toBe('URI="360p/init.mp4"');
    expect(partUris(text).every((u) => u.startsWith("360p/part-"))).toBe(true);
    expect(hintUri(text)).toMatch(/^360p\/part-\d+-\d\.m4s$/);
    expect(tag(text, "EXT-X-RENDITION-REPORT")).toBeUndefined();
  });

  it("answer _HLS_skip=YES with a delta update that skips the oldest segments", async () => {
    const text = await textOf(await get("/ll/main/360p/index.m3u8?_HLS_skip=YES"));
    expect(Number(/SKIPPED-SEGMENTS=(\d+)/.exec(text)?.[1])).toBeGreaterThanOrEqual(3);
    expect(lines(text).filter((l) => l.startsWith("seg-")).length).toBeLessThanOrEqual(7);
  });
});

describe("LL-HLS blocking playlist reload", () => {
  it("holds a request for the hinted part until that part exists, then lists it", async () => {
    for (const path of ["/ll/main/360p/index.m3u8", "/ll/main/media.m3u8"]) {
      const hint = partOf(hintUri(await textOf(await get(path)))!);
      const res = await get(`${path}?_HLS_msn=${hint.msn}&_HLS_part=${hint.part}`);
      const answered = Date.now();
      expect(res.status).toBe(200);
      expect(answered).toBeGreaterThanOrEqual(readyAt(hint));
      expect(partUris(await textOf(res)).map((u) => u.replace(/^360p\//, ""))).toContain(`part-${hint.msn}-${hint.part}.m4s`);
    }
  });

  it("holds _HLS_msn alone until that segment is complete", async () => {
    const hint = partOf(hintUri(await textOf(await get("/ll/main/180p/index.m3u8")))!);
    const text = await textOf(await get(`/ll/main/180p/index.m3u8?_HLS_msn=${hint.msn}`));
    expect(Date.now()).toBeGreaterThanOrEqual((hint.msn + 1) * 2000);
    expect(lines(text)).toContain(`seg-${hint.msn}.m4s`);
  });

  it("answers 400 to a reload too far ahead, a part without a segment, or a malformed directive", async () => {
    const hint = partOf(hintUri(await textOf(await get("/ll/main/360p/index.m3u8")))!);
    for (const query of [`_HLS_msn=${hint.msn + 3}`, `_HLS_msn=${hint.msn}&_HLS_part=${hint.part + 7}`, "_HLS_part=1", "_HLS_msn=-1", "_HLS_msn=1e3", "_HLS_skip=NO"]) {
      const res = await get(`/ll/main/360p/index.m3u8?${query}`);
      expect(res.status, query).toBe(400);
      expectErrorBody(await res.json(), "invalid_request");
    }
  });
});

describe("LL-HLS parts and segments", () => {
  it("serve a complete segment's four parts as the bytes of the segment, whose digest is the source file's", async () => {
    const msn = Math.floor(Date.now() / 2000) - 2;
    const r = llMedia.renditions[0]!;
    const seg = await get(`/ll/main/${r.id}/seg-${msn}.m4s`);
    expect(seg.status).toBe(200);
    expect(seg.headers.get("content-type")).toBe("video/iso.segment");
    const whole = new Uint8Array(await seg.arrayBuffer());
    expect(await sha256(whole)).toBe(r.segmentSha256[msn % llMedia.loopSegments]);
    const parts: Uint8Array[] = [];
    for (let part = 0; part < 4; part++) {
      const res = await get(`/ll/main/${r.id}/part-${msn}-${part}.m4s`);
      expect(res.status).toBe(200);
      expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      parts.push(new Uint8Array(await res.arrayBuffer()));
    }
    expect(parts.map((p) => p.byteLength)).toEqual(r.partBytes[msn % llMedia.loopSegments]);
    expect(await sha256(Uint8Array.from(parts.flatMap((p) => [...p])))).toBe(await sha256(whole));
    // Each part is a CMAF chunk of its own: it opens with styp then moof.
    for (const p of parts) expect(new TextDecoder().decode(p.subarray(4, 8))).toBe("styp");
  });

  it("hold the preload-hinted part until it exists, and have no later part or unfinished segment yet", async () => {
    const text = await textOf(await get("/ll/main/180p/index.m3u8"));
    const hint = partOf(hintUri(text)!);
    const next = (hint.msn * 4 + hint.part + 1);
    const [res, later, unfinished] = await Promise.all([
      get(`/ll/main/180p/${hintUri(text)}`),
      get(`/ll/main/180p/part-${Math.floor(next / 4)}-${next % 4}.m4s`),
      get(`/ll/main/180p/seg-${hint.msn}.m4s`),
    ]);
    expect(res.status).toBe(200);
    expect(Date.now()).toBeGreaterThanOrEqual(readyAt(hint));
    expect((await res.arrayBuffer()).byteLength).toBe(llMedia.renditions[1]!.partBytes[hint.msn % llMedia.loopSegments]![hint.part]);
    expect(later.status).toBe(404);
    expect(unfinished.status).toBe(404);
    await Promise.all([later.body?.cancel(), unfinished.body?.cancel()]);
  });

  it("serve the initialisation section and answer 404 to unknown renditions and part numbers", async () => {
    const init = await get("/ll/main/360p/init.mp4");
    expect(init.status).toBe(200);
    expect(await sha256(await init.arrayBuffer())).toBe(llMedia.renditions[0]!.initSha256);
    const msn = Math.floor(Date.now() / 2000) - 2;
    for (const path of ["/ll/main/720p/index.m3u8", `/ll/main/360p/part-${msn}-4.m4s`, "/ll/main/other.m3u8", "/ll/bad.name/index.m3u8"]) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      await res.body?.cancel();
    }
  });
});
