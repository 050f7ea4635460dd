// A playback token opens exactly what its own channel's playlists list, on the real edge and demo origin:
// not another channel on the same host (paid, or of another event), not a query the origin never wrote, not
// a path trick; and the origin sees no request for anything refused.
import { request } from "node:http";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminPut, openChannel, originStats, resetOriginStats, startSeededPlatform, type Platform } from "../support/platform";

let p: Platform;
let free: { playbackUrl: string; token: string };
/** Keys the free channel's own playlists list (read through the edge, as a player reads them). */
let listed: string[];

beforeAll(async () => {
  p = await startSeededPlatform();
  expect((await adminPut(p, "/admin/events/other", { title: "Other event", limits: {} })).status).toBe(200);
  expect((await adminPut(p, "/admin/events/other/channels/main", { title: "Other", originUrl: `${p.originUrl}/live/other-event/index.m3u8`, paid: false })).status).toBe(200);
  free = await openChannel(p, "main");
  listed = await listedThroughEdge(free.playbackUrl);
});
afterAll(async () => {
  await p?.stop();
});

/** The multivariant and every media playlist it lists, as a player would load them; returns every key they list. */
async function listedThroughEdge(playbackUrl: string): Promise<string[]> {
  const base = playbackUrl.replace(/index\.m3u8$/, "");
  const keysOf = (text: string, url: string) =>
    text
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"))
      .map((uri) => new URL(uri, url).href.slice(base.length));
  const multivariant = await (await fetch(playbackUrl)).text();
  const media = keysOf(multivariant, playbackUrl);
  const segments = await Promise.all(media.map(async (k) => keysOf(await (await fetch(base + k)).text(), base + k)));
  return [...media, ...segments.flat()];
}

/** GET of a raw path, sent exactly as written (fetch would remove dot segments before sending). */
function rawGet(url: string, path: string): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: "GET" }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Origin requests whose path is under `prefix` since the last reset. */
async function originHits(prefix: string): Promise<number> {
  const { byPath } = await originStats(p);
  return Object.entries(byPath)
    .filter(([path]) => path.startsWith(prefix))
    .reduce((n, [, c]) => n + c, 0);
}

describe("a playback token's scope", () => {
  it("opens what its own channel's playlists list", async () => {
    const base = free.playbackUrl.replace(/index\.m3u8$/, "");
    const segment = listed.find((k) => !k.endsWith(".m3u8"))!;
    expect((await fetch(base + segment)).status).toBe(200);
  });

  it("does not open the paid channel on the same host through an _ext key, and the origin sees nothing of it", async () => {
    const host = new URL(p.originUrl).host;
    await resetOriginStats(p);
    for (const key of [`_ext/http/${host}/live/premium/index.m3u8`, `_ext/http/${host}/live/premium/ts-360p/index.m3u8`]) {
      const res = await fetch(`${p.edgeUrl}/play/${free.token}/${key}`);
      expect(res.status, key).toBe(404);
    }
    expect(await originHits("/live/premium/")).toBe(0);
  });

  it("does not open another event's channel on the same host", async () => {
    const host = new URL(p.originUrl).host;
    await resetOriginStats(p);
    expect((await fetch(`${p.edgeUrl}/play/${free.token}/_ext/http/${host}/live/other-event/index.m3u8`)).status).toBe(404);
    expect(await originHits("/live/other-event/")).toBe(0);
  });

  it("does not open the paid channel through dot segments sent as written", async () => {
    const host = new URL(p.originUrl).host;
    await resetOriginStats(p);
    for (const path of [`/play/${free.token}/../premium/index.m3u8`, `/play/${free.token}/_ext/http/${host}/live/main/../premium/index.m3u8`, `/play/${free.token}/ts-360p/../../premium/index.m3u8`]) {
      expect(await rawGet(p.edgeUrl, path), path).toBeGreaterThanOrEqual(400);
    }
    expect(await originHits("/live/premium/")).toBe(0);
  });

  it("answers a query the origin never wrote with 404 and no origin fetch, for playlists and segments alike", async () => {
    const base = free.playbackUrl.replace(/index\.m3u8$/, "");
    const media = listed.find((k) => k.endsWith(".m3u8"))!;
    const segment = listed.find((k) => !k.endsWith(".m3u8"))!;
    await resetOriginStats(p);
    const statuses = await Promise.all(Array.from({ length: 30 }, (_, n) => [fetch(`${base}${media}?bust=${n}`), fetch(`${base}${segment}?bust=${n}`)]).flat());
    expect(new Set(statuses.map((r) => r.status))).toEqual(new Set([404]));
    expect((await originStats(p)).total).toBe(0);
  });

  it("opens nothing but listed keys among random keys (percent-encoding, dot segments, _ext spellings, queries), and the origin sees none of the others", async () => {
    const host = new URL(p.originUrl).host;
    const base = free.playbackUrl.replace(/index\.m3u8$/, "");
    const allowed = new Set(listed);
    const segment = fc.constantFrom(...listed);
    const key = fc.oneof(
      segment.map((k) => `${k}?x=1`),
      segment.map((k) => k.replace(/-/, "%2D")),
      segment.map((k) => `./${k.replace("/", "/./")}`),
      segment.map((k) => `${k.split("/")[0]}/../premium/${k}`),
      fc.constantFrom("_ext/http", "_ext/https", "_EXT/http", "_ext/HTTP", "_ext//http").chain((ext) =>
        fc.constantFrom("live/premium", "live/other-event", "live/main/..", "live/main").map((dir) => `${ext}/${host}/${dir}/index.m3u8`),
      ),
      fc.stringMatching(/^[a-z0-9._-]{1,12}(\/[a-z0-9._-]{1,12}){0,2}(\?[a-z]=[0-9])?$/),
    );
    await resetOriginStats(p);
    await fc.assert(
      fc.asyncProperty(key, async (k) => {
        const status = await rawGet(p.edgeUrl, `/play/${free.token}/${k}`);
        // The runtime reads a request's URL as a URL parser does (dot segments removed): a spelling that means
        // a listed key to the parser may open it; anything else is refused.
        const parsed = new URL(`/play/${free.token}/${k}`, "http://edge.test");
        const meant = (parsed.pathname + parsed.search).slice(`/play/${free.token}/`.length);
        if (!allowed.has(meant)) expect(status, k).toBeGreaterThanOrEqual(400);
      }),
      { numRuns: 300, seed: 1204 },
    );
    expect(await originHits("/live/premium/")).toBe(0);
    expect(await originHits("/live/other-event/")).toBe(0);
  });
});
