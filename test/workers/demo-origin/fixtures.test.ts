// The failure fixtures: broken playlists, forced statuses, a request that never answers, and slow answers.
import { describe, expect, it } from "vitest";
import { waitOrAbort } from "../../../workers/demo-origin/routes/faults";
import { expectErrorBody, get, textOf } from "./helpers";

describe("broken playlists", () => {
  it("answer 200 with an HTML page where a playlist was expected", async () => {
    const res = await get("/broken/not-a-playlist.m3u8");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await textOf(res)).toMatch(/^<!doctype html>/);
  });

  it("serve a media playlist without EXT-X-TARGETDURATION", async () => {
    const text = await textOf(await get("/broken/no-targetduration.m3u8"));
    expect(text).toMatch(/^#EXTM3U\n/);
    expect(text).toContain("#EXTINF:");
    expect(text).not.toContain("#EXT-X-TARGETDURATION");
  });

  it("serve a media playlist with a segment on a foreign host", async () => {
    const text = await textOf(await get("/broken/foreign-segment.m3u8"));
    expect(text).toContain("#EXT-X-TARGETDURATION:2");
    expect(text).toContain("\nhttp://evil.example/");
  });

  it("serve foreign key and foreign variant playlists too", async () => {
    expect(await textOf(await get("/broken/foreign-key.m3u8"))).toContain('URI="http://evil.example/');
    expect(await textOf(await get("/broken/foreign-variant.m3u8"))).toContain("\nhttp://evil.example/");
  });

  it("answer 404 for an unknown fixture", async () => {
    expect((await get("/broken/nope.m3u8")).status).toBe(404);
  });
});

describe("status fixtures", () => {
  it.each([400, 403, 404, 410, 500, 502, 504])("answer %i for any path under /status/<code>/", async (code) => {
    const res = await get(`/status/${code}/live/main/seg-1.ts?x=1`);
    expect(res.status).toBe(code);
    expectErrorBody(await res.json(), `status_${code}`);
  });

  it("tell retryable refusals when to come back", async () => {
    for (const code of [429, 503]) {
      const res = await get(`/status/${code}/index.m3u8`);
      expect(res.status).toBe(code);
      expect(res.headers.get("retry-after")).toBe("1");
    }
  });

  it("answer bodiless statuses without a body and refuse codes outside 200-599", async () => {
    const empty = await get("/status/204");
    expect(empty.status).toBe(204);
    expect(await textOf(empty)).toBe("");
    expect((await get("/status/200/a/b")).status).toBe(200);
    expect((await get("/status/999/a")).status).toBe(400);
    expect((await get("/status/100/a")).status).toBe(400);
  });
});

describe("hang fixture", () => {
  it("does not answer until the client gives up", async () => {
    const ac = new AbortController();
    const pending = get("/hang/live/main/index.m3u8", { signal: ac.signal });
    const early = await Promise.race([pending.then(() => "answered", () => "failed"), waitOrAbort(300, undefined).then(() => "waiting")]);
    expect(early).toBe("waiting");
    ac.abort();
    await expect(pending).rejects.toThrow();
  });

  it("stops waiting as soon as the client's signal aborts, and after its bound otherwise", async () => {
    // "stopped" when `wait` settles within `ms`; a second is a hang guard, far below the ten minutes it would hold.
    const within = (wait: Promise<void>, ms: number) => Promise.race([wait.then(() => "stopped"), waitOrAbort(ms, undefined).then(() => "waiting")]);
    const ac = new AbortController();
    const waiting = waitOrAbort(600_000, ac.signal);
    expect(await within(waiting, 50)).toBe("waiting");
    ac.abort();
    expect(await within(waiting, 1_000)).toBe("stopped");
    const aborted = new AbortController();
    aborted.abort();
    expect(await within(waitOrAbort(600_000, aborted.signal), 1_000)).toBe("stopped");
    expect(await within(waitOrAbort(1, undefined), 1_000)).toBe("stopped");
  });
});

describe("slow fixture", () => {
  it("waits the given time, then serves the rest of the path as if asked directly", async () => {
    const started = Date.now();
    const slow = await get("/slow/300/vod/ts/index.m3u8");
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(slow.status).toBe(200);
    expect(slow.headers.get("content-type")).toBe("application/vnd.apple.mpegurl");
    expect(await textOf(slow)).toBe(await textOf(await get("/vod/ts/index.m3u8")));
    expect((await get("/slow/10/status/503/x")).status).toBe(503);
  });

  it("refuses delays over ten seconds", async () => {
    const res = await get("/slow/10001/vod/ts/index.m3u8");
    expect(res.status).toBe(400);
    expectErrorBody(await res.json(), "invalid_request");
  });
});

describe("everything else", () => {
  it.each(["/", "/nope", "/vod", "/status/abc/x", "/synthetic/abc/index.m3u8"])("answers 404 with an error body: %s", async (path) => {
    const res = await get(path);
    expect(res.status).toBe(404);
    expectErrorBody(await res.json(), "not_found");
  });

  it("allows any origin, including for Range preflights", async () => {
    const res = await get("/live/main/index.m3u8", { method: "OPTIONS", headers: { origin: "http://player.test", "access-control-request-method": "GET", "access-control-request-headers": "range" } });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("range");
  });
});
