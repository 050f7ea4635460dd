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
    expect(await (await get("/_stats")).json()).toEqual({ total: 0, byPath: {} });
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
    expect(stats.snapshot()).toEqual({ total: 3, byPath: { "/a": 2, "/b": 1 } });
    stats.reset();
    expect(stats.snapshot()).toEqual({ total: 0, byPath: {} });
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
