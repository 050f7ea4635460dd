// The benchmark feeds: clock-driven playlists over filler segments of an exact size, and a 2,000-segment playlist.
import { describe, expect, it } from "vitest";
import { MAX_SYNTHETIC_BYTES } from "../../../workers/demo-origin/filler";
import { LONG_SEGMENT_BYTES } from "../../../workers/demo-origin/routes/synthetic";
import { expectErrorBody, get, listedSegments, textOf } from "./helpers";

describe("synthetic streams", () => {
  it("list six 2-second segments that slide with the clock", async () => {
    const text = await textOf(await get("/synthetic/1000/index.m3u8"));
    const msns = listedSegments(text);
    expect(msns).toHaveLength(6);
    expect(msns.at(-1)).toBe(Math.floor(Date.now() / 2000));
    expect(text).toContain("#EXT-X-TARGETDURATION:2");
  });

  it.each([1, 188, 1000, 65_536, 1_048_577])("serve segments of exactly %i bytes as video/mp2t", async (size) => {
    const [msn] = listedSegments(await textOf(await get(`/synthetic/${size}/index.m3u8`)));
    const res = await get(`/synthetic/${size}/seg-${msn}.bin`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("video/mp2t");
    expect(res.headers.get("content-length")).toBe(String(size));
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(bytes.byteLength).toBe(size);
    expect(bytes[0]).toBe(0x47);
  });

  it("serve the same bytes every time, whole or by range", async () => {
    const [msn] = listedSegments(await textOf(await get("/synthetic/5000/index.m3u8")));
    const a = new Uint8Array(await (await get(`/synthetic/5000/seg-${msn}.bin`)).arrayBuffer());
    const b = new Uint8Array(await (await get(`/synthetic/5000/seg-${msn! + 1}.bin`)).arrayBuffer());
    expect(b).toEqual(a);
    const part = await get(`/synthetic/5000/seg-${msn}.bin`, { headers: { range: "bytes=-100" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 4900-4999/5000");
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(a.subarray(4900));
  });

  it("refuse sizes over the bound with 400", async () => {
    const res = await get(`/synthetic/${MAX_SYNTHETIC_BYTES + 1}/index.m3u8`);
    expect(res.status).toBe(400);
    expectErrorBody(await res.json(), "invalid_request");
  });

  it("refuse a segment far in the future with 404", async () => {
    const msns = listedSegments(await textOf(await get("/synthetic/1000/index.m3u8")));
    expect((await get(`/synthetic/1000/seg-${msns.at(-1)! + 100}.bin`)).status).toBe(404);
  });

  it("offer a 2,000-segment live playlist whose oldest segment is still served", async () => {
    const text = await textOf(await get("/synthetic/long/index.m3u8"));
    const msns = listedSegments(text);
    expect(msns).toHaveLength(2000);
    expect(msns.at(-1)! - msns[0]!).toBe(1999);
    const oldest = await get(`/synthetic/long/seg-${msns[0]}.bin`);
    expect(oldest.status).toBe(200);
    expect((await oldest.arrayBuffer()).byteLength).toBe(LONG_SEGMENT_BYTES);
  });
});
