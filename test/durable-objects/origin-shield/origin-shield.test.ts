// The OriginShield object over a stubbed origin: what reaches the origin, the polling alarm, prefetch, the ladder.
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { originShield } from "../../../durable-objects/origin-shield/client";

const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);
const ORIGIN = { originUrl: "https://origin.example/live/ch/index.m3u8", allowedHosts: [] };
const MULTIVARIANT = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=2000000\n720p/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=500000\n360p/index.m3u8\n";

function live(first: number): string {
  const lines = ["#EXTM3U", "#EXT-X-TARGETDURATION:4", `#EXT-X-MEDIA-SEQUENCE:${first}`];
  for (let n = first; n < first + 4; n++) lines.push("#EXTINF:4.0,", `seg-${n}.ts`);
  return lines.join("\n") + "\n";
}

/** A stub origin: answers by path and counts requests per path. */
function stubOrigin(answer: (path: string) => Response) {
  const requests = new Map<string, number>();
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
    const path = new URL(input instanceof Request ? input.url : String(input)).pathname;
    requests.set(path, (requests.get(path) ?? 0) + 1);
    return answer(path);
  });
  return { count: (path: string) => requests.get(path) ?? 0 };
}

function freshShield() {
  const stub = originShield(env, `shield-${crypto.randomUUID()}`, "main");
  return { stub, get: (key: string) => stub.get({ origin: ORIGIN, originVersion: "v1", key }) };
}

const armedAt = (stub: ReturnType<typeof freshShield>["stub"]) => runInDurableObject(stub, (_, state) => state.storage.getAlarm());

describe("OriginShield", () => {
  let media = live(10);
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(T0);
    media = live(10);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  const answer = (path: string) => {
    if (path.endsWith("/ch/index.m3u8")) return new Response(MULTIVARIANT);
    if (path.endsWith("/720p/index.m3u8")) return new Response(media);
    if (path.endsWith(".ts")) return new Response(new Uint8Array(2000), { headers: { "content-type": "video/mp2t" } });
    return new Response("no", { status: 404 });
  };

  it("fetches a playlist once for every request that arrives while it is fresh, and serves it rewritten", async () => {
    const origin = stubOrigin(answer);
    const { stub, get } = freshShield();
    const replies = await Promise.all(Array.from({ length: 5 }, () => get("index.m3u8")));
    for (const reply of replies) expect(reply).toMatchObject({ type: "playlist", kind: "multivariant", ttlMs: 10_000 });
    expect(replies[0]!.type === "playlist" && replies[0]!.text).toContain("720p/index.m3u8");
    expect(origin.count("/live/ch/index.m3u8")).toBe(1);
    expect(await stub.snapshot()).toMatchObject({ playlistFetches: 1, originRequests: 1 });
  });

  it("gives the ladder lowest bandwidth first", async () => {
    stubOrigin(answer);
    expect(await freshShield().stub.ladder({ origin: ORIGIN, originVersion: "v1" })).toEqual([500_000, 2_000_000]);
  });

  it("prefetches the newest segments of a live playlist, so the first viewer of one already hits", async () => {
    const origin = stubOrigin(answer);
    const { stub, get } = freshShield();
    await get("720p/index.m3u8");
    await vi.waitFor(async () => expect((await stub.snapshot()).storedBytes).toBe(4000));
    const reply = await get("720p/seg-13.ts");
    expect(reply.type).toBe("bytes");
    if (reply.type === "bytes") expect((await new Response(reply.body).arrayBuffer()).byteLength).toBe(2000);
    expect(origin.count("/live/ch/720p/seg-12.ts")).toBe(1);
    expect(origin.count("/live/ch/720p/seg-11.ts")).toBe(0);
    expect((await stub.snapshot()).hits).toBe(1);
  });

  it("answers a failed playlist fetch from memory for a second, then asks the origin again", async () => {
    // The entry answers, so the media playlist is listed; the media playlist's own fetches fail.
    const origin = stubOrigin((path) => (path.endsWith("/ch/index.m3u8") ? new Response(MULTIVARIANT) : new Response("down", { status: 503 })));
    const { get } = freshShield();
    expect(await get("720p/index.m3u8")).toMatchObject({ type: "error", failure: { code: "origin_error" } });
    expect(await get("720p/index.m3u8")).toMatchObject({ type: "error", failure: { code: "origin_error" } });
    expect(origin.count("/live/ch/720p/index.m3u8")).toBe(1);
    vi.setSystemTime(T0 + 1000);
    await get("720p/index.m3u8");
    expect(origin.count("/live/ch/720p/index.m3u8")).toBe(2);
  });

  it("answers origin_error, not 404, for a key on a shield that could not read the channel's playlists", async () => {
    const origin = stubOrigin(() => new Response("down", { status: 503 }));
    const { get } = freshShield();
    expect(await get("720p/index.m3u8")).toMatchObject({ type: "error", failure: { code: "origin_error" } });
    expect(await get("720p/seg-11.ts")).toMatchObject({ type: "error", failure: { code: "origin_error" } });
    expect(origin.count("/live/ch/720p/seg-11.ts")).toBe(0);
  });

  it("answers 404 with no origin fetch for a key the channel's playlists do not list, and reads the listing at most once meanwhile", async () => {
    const origin = stubOrigin(answer);
    const { get } = freshShield();
    expect(await get("720p/seg-11.ts")).toMatchObject({ type: "bytes" });
    for (const key of ["720p/seg-11.ts?bust=1", "premium/index.m3u8", "720p/seg-99.ts", "../other/seg-1.ts"]) {
      expect(await get(key), key).toMatchObject({ type: "error", failure: { code: "not_found" } });
    }
    expect(origin.count("/live/ch/720p/seg-99.ts")).toBe(0);
    expect(origin.count("/live/ch/premium/index.m3u8")).toBe(0);
    // One listing read for the cold shield (the entry and its two media playlists), none for the junk keys.
    expect(origin.count("/live/ch/index.m3u8")).toBe(1);
    expect(origin.count("/live/ch/720p/index.m3u8")).toBe(1);
  });

  it("polls a watched live playlist from the alarm once half its target duration has passed, until nobody asks", async () => {
    const origin = stubOrigin(answer);
    const { stub, get } = freshShield();
    await get("720p/index.m3u8");
    expect(await armedAt(stub)).toBe(T0 + 2000);

    vi.setSystemTime(T0 + 2000);
    media = live(11);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(origin.count("/live/ch/720p/index.m3u8")).toBe(2);
    expect(await armedAt(stub)).toBe(T0 + 4000);
    // Safe to run twice: the playlist is fresh, so nothing more reaches the origin.
    await runInDurableObject(stub, (shield) => shield.alarm());
    expect(origin.count("/live/ch/720p/index.m3u8")).toBe(2);
    const reply = await get("720p/index.m3u8");
    expect(reply.type === "playlist" && reply.text).toContain("seg-14.ts");
    expect(origin.count("/live/ch/720p/index.m3u8")).toBe(2);

    // Last asked for at T0 + 2000: the watch lapses 2.5 target durations (10 s) later.
    vi.setSystemTime(T0 + 12_001);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(origin.count("/live/ch/720p/index.m3u8")).toBe(2);
    expect(await runDurableObjectAlarm(stub)).toBe(false);
  });

  it("empties the window when the channel's origin changes", async () => {
    const origin = stubOrigin(answer);
    const { stub } = freshShield();
    await stub.get({ origin: ORIGIN, originVersion: "v1", key: "index.m3u8" });
    await stub.get({ origin: ORIGIN, originVersion: "v2", key: "index.m3u8" });
    expect(origin.count("/live/ch/index.m3u8")).toBe(2);
  });
});
