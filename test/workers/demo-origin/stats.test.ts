// Request counting by path, and the optional segment delay that lets many requests overlap one upstream fetch.
import { env } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../../workers/demo-origin/index";
import { parseSegmentDelay } from "../../../workers/demo-origin/middleware/segment-delay";
import { RequestStats } from "../../../workers/demo-origin/request-stats";
import { get, ORIGIN } from "./helpers";

describe("request stats", () => {
  it("count every request by path without its query, and zero on reset", async () => {
    expect((await get("/_stats/reset", { method: "POST" })).status).toBe(200);
    await get("/live/stats/index.m3u8");
    await get("/live/stats/index.m3u8?token=abc");
    await get("/vod/ts/index.m3u8");
    await get("/status/404/x");
    const stats = (await (await get("/_stats")).json()) as { total: number; byPath: Record<string, number> };
    expect(stats.byPath).toEqual({ "/live/stats/index.m3u8": 2, "/vod/ts/index.m3u8": 1, "/status/404/x": 1 });
    expect(stats.total).toBe(4);

    await get("/_stats/reset", { method: "POST" });
    expect(await (await get("/_stats")).json()).toEqual({ total: 0, byPath: {}, blockingReloads: {} });
  });

  it("note each answered LL-HLS blocking reload with its part and when it was answered, and nothing for a plain or refused one", async () => {
    await get("/_stats/reset", { method: "POST" });
    const plain = await (await get("/ll/stats/media.m3u8")).text();
    const last = [...plain.matchAll(/part-(\d+)-(\d+)\.m4s/g)].at(-1)!;
    const [msn, part] = [Number(last[1]), Number(last[2])];
    const before = Date.now();
    expect((await get(`/ll/stats/media.m3u8?_HLS_msn=${msn}&_HLS_part=${part}`)).status).toBe(200);
    expect((await get(`/ll/stats/media.m3u8?_HLS_msn=${msn + 9}`)).status).toBe(400);
    const stats = (await (await get("/_stats")).json()) as { blockingReloads: Record<string, { answered: number; readyAt: number; lastAnsweredAt: number }> };
    expect(Object.keys(stats.blockingReloads)).toEqual([`/ll/stats/media.m3u8?_HLS_msn=${msn}&_HLS_part=${part}`]);
    const noted = stats.blockingReloads[`/ll/stats/media.m3u8?_HLS_msn=${msn}&_HLS_part=${part}`]!;
    expect(noted.answered).toBe(1);
    expect(noted.lastAnsweredAt).toBeGreaterThanOrEqual(before);
    // The part was listed before the reload asked for it: it could be answered at once.
    expect(noted.readyAt).toBeGreaterThanOrEqual(before);
    expect(noted.readyAt).toBeLessThanOrEqual(noted.lastAnsweredAt);
    expect(noted.lastAnsweredAt).toBeLessThanOrEqual(Date.now());
  });

  it("count a /slow/ request once, under the path the client asked for", async () => {
    await get("/_stats/reset", { method: "POST" });
    await get("/slow/1/vod/ts/index.m3u8");
    expect(((await (await get("/_stats")).json()) as { byPath: object }).byPath).toEqual({ "/slow/1/vod/ts/index.m3u8": 1 });
  });

  it("keeps separate counters per instance", () => {
    const stats = new RequestStats();
    stats.record("/a");
    stats.record("/a");
    stats.record("/b");
    expect(stats.snapshot()).toEqual({ total: 3, byPath: { "/a": 2, "/b": 1 }, blockingReloads: {} });
    stats.reset();
    expect(stats.snapshot()).toEqual({ total: 0, byPath: {}, blockingReloads: {} });
  });
});

describe("segment delay", () => {
  const delayed = { ...env, SEGMENT_DELAY_MS: "250" };
  const fetchWith = (path: string) => worker.fetch(new Request(`${ORIGIN}${path}`), delayed, createExecutionContext());

  it("holds every segment response for SEGMENT_DELAY_MS, overlapping concurrent requests", async () => {
    const started = Date.now();
    const responses = await Promise.all([fetchWith("/vod/ts/180p/seg-0.ts"), fetchWith("/vod/ts/180p/seg-0.ts"), fetchWith("/synthetic/100/seg-" + Math.floor(Date.now() / 2000) + ".bin")]);
    const elapsed = Date.now() - started;
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(3 * 250);
  });

  it("does not hold playlists", async () => {
    const started = Date.now();
    expect((await fetchWith("/live/main/index.m3u8")).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(250);
  });

  it("rejects a malformed setting instead of guessing", () => {
    expect(parseSegmentDelay("0")).toBe(0);
    expect(parseSegmentDelay(undefined)).toBe(0);
    expect(parseSegmentDelay("1500")).toBe(1500);
    for (const bad of ["-1", "1.5", "abc", "60001"]) expect(() => parseSegmentDelay(bad)).toThrow(/SEGMENT_DELAY_MS/);
  });
});
