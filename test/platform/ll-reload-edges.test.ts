// The demo origin's LL-HLS channel (/ll/…) through the edge and a stadium node, in both shapes (a
// multivariant with its media playlists, and a single media playlist as the channel's entry), at the edges
// of what RFC 8216bis lets a client ask: a blocking reload too far ahead, and a part asked for before any
// playlist hinted it.
import { afterAll, beforeAll, expect, it } from "vitest";
import { startNode, type RunningStadiumNode } from "../support/stadium-node";
import { addChannel, openChannel, resetOriginStats, startSeededPlatform, type Platform } from "../support/platform";

/** 0.5 s parts of 2 s segments (workers/demo-origin/ll-media-manifest.json). */
const PARTS_PER_SEGMENT = 4;

let p: Platform;
let node: RunningStadiumNode;
beforeAll(async () => {
  p = await startSeededPlatform();
  await addChannel(p, "ll-ladder", `${p.originUrl}/ll/edges/index.m3u8`);
  await addChannel(p, "ll-single", `${p.originUrl}/ll/edges/media.m3u8`);
  node = await startNode(p, "stand-ll-edges");
});
afterAll(async () => {
  await node?.stop();
  await p?.stop();
});

interface Shape {
  channel: string;
  /** The media playlist's play key. */
  playlist: string;
}
const SHAPES: Shape[] = [
  { channel: "ll-ladder", playlist: "360p/index.m3u8" },
  { channel: "ll-single", playlist: "index.m3u8" },
];

/** A hang guard only: a held request answers within a part or two. */
const get = (url: string) => fetch(url, { signal: AbortSignal.timeout(15_000) });

/** The newest part a media playlist lists (EXT-X-PART, not the preload hint), as { msn, part }. */
function newestPart(text: string): { msn: number; part: number } {
  const parts = [...text.matchAll(/^#EXT-X-PART:.*URI="[^"]*part-(\d+)-(\d+)\.m4s"/gm)];
  const last = parts.at(-1);
  if (!last) throw new Error(`no EXT-X-PART in\n${text}`);
  return { msn: Number(last[1]), part: Number(last[2]) };
}

const partNumber = (r: { msn: number; part: number }) => r.msn * PARTS_PER_SEGMENT + r.part;

function hintedPart(text: string): string {
  const hint = /^#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"/m.exec(text);
  if (!hint) throw new Error(`no part preload hint in\n${text}`);
  return hint[1]!;
}

it("refuses a blocking reload more than two segments ahead with 400, as the origin does, on the edge and on a node", async () => {
  for (const shape of SHAPES) {
    const v = await openChannel(p, shape.channel);
    for (const base of [p.edgeUrl, node.url]) {
      const url = `${base}/play/${v.token}/${shape.playlist}`;
      const current = await get(url);
      expect(current.status).toBe(200);
      const newest = newestPart(await current.text());
      for (const query of [`?_HLS_msn=${newest.msn + 5}`, `?_HLS_msn=${newest.msn + 5}&_HLS_part=0`]) {
        const res = await get(url + query);
        const body = await res.text();
        expect(res.status, `${shape.channel} ${base === p.edgeUrl ? "edge" : "node"} ${query}: ${body.slice(0, 200)}`).toBe(400);
      }
      // The refusal is the client's, not the origin's failure: the next reload within reach is answered.
      const next = await get(`${url}?_HLS_msn=${newest.msn + 1}`);
      expect(next.status).toBe(200);
      expect(newestPart(await next.text()).msn).toBeGreaterThanOrEqual(newest.msn + 1);
    }
  }
});

/**
 * Asks for the part after the hinted one while a held reload waits for the hinted one, then asks again once
 * that reload's playlist hints it: the first answer's status, and the second (null when the machine was too
 * slow to ask before the hint moved on, so the first ask proves nothing).
 */
async function askBeforeAndAfterHint(base: string, token: string, playlist: string): Promise<{ early: number; held: number; heldBytes: number; what: string } | null> {
  const url = `${base}/play/${token}/${playlist}`;
  const playlistDir = playlist.slice(0, playlist.lastIndexOf("/") + 1);
  const reload = (part: number) => get(`${url}?_HLS_msn=${Math.floor(part / PARTS_PER_SEGMENT)}&_HLS_part=${part % PARTS_PER_SEGMENT}`);
  // Just after part r appears (the second reload is surely held, whatever the first answer's age): the
  // playlist hints r+1, and r+2 is hinted one part later.
  let ready = await (await get(url)).text();
  for (let i = 0; i < 2; i++) ready = await (await reload(partNumber(newestPart(ready)) + 1)).text();
  const hinted = hintedPart(ready);
  const dir = hinted.slice(0, hinted.lastIndexOf("/") + 1);
  const next = partNumber(newestPart(ready)) + 1; // hinted now
  const laterKey = `${dir}part-${Math.floor((next + 1) / PARTS_PER_SEGMENT)}-${(next + 1) % PARTS_PER_SEGMENT}.m4s`;
  // Hold the reload that will hint `later`, and ask for `later` while only `next` is hinted.
  const hinting = reload(next);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const early = await get(`${base}/play/${token}/${playlistDir}${laterKey}`);
  await early.arrayBuffer();
  const hintingRes = await hinting;
  expect(hintingRes.status).toBe(200);
  if (early.status === 200 || hintedPart(await hintingRes.text()) !== laterKey) return null;
  const held = await get(`${base}/play/${token}/${playlistDir}${laterKey}`);
  const bytes = await held.arrayBuffer();
  return { early: early.status, held: held.status, heldBytes: bytes.byteLength, what: `${laterKey}: ${held.status === 200 ? "" : new TextDecoder().decode(bytes)}` };
}

it("answers a part asked for before any playlist hinted it with 404, then, once a playlist hints it, holds its request and answers 200", async () => {
  for (const shape of SHAPES) {
    for (const tier of ["edge", "node"] as const) {
      const v = await openChannel(p, shape.channel);
      let asked: Awaited<ReturnType<typeof askBeforeAndAfterHint>> = null;
      for (let attempt = 0; attempt < 5 && asked === null; attempt++) asked = await askBeforeAndAfterHint(tier === "edge" ? p.edgeUrl : node.url, v.token, shape.playlist);
      if (asked === null) throw new Error(`${shape.channel} ${tier}: the part was never asked for before its hint; nothing was shown`);
      expect(asked.early, `${shape.channel} ${tier}`).toBe(404);
      expect(asked.held, `${shape.channel} ${tier} ${asked.what}`).toBe(200);
      expect(asked.heldBytes).toBeGreaterThan(0);
    }
  }
});


/**
 * A plain reload (no _HLS_ parameters: a player's first load, or one without blocking reloads) through the
 * edge and a node lists parts as new as the origin's: a copy kept for a whole second, or for half a target
 * duration, is two to four 0.5 s parts behind, and a player starting from it starts that much later.
 */
it("answers a plain reload of an LL playlist with a copy at most one part behind the origin's, on the edge and on a node", async () => {
  for (const shape of SHAPES) {
    const v = await openChannel(p, shape.channel);
    const originUrl = shape.channel === "ll-ladder" ? `${p.originUrl}/ll/edges/360p/index.m3u8` : `${p.originUrl}/ll/edges/media.m3u8`;
    for (const tier of ["edge", "node"] as const) {
      const url = `${tier === "edge" ? p.edgeUrl : node.url}/play/${v.token}/${shape.playlist}`;
      const lags: number[] = [];
      // Reloads at a third of a part apart, so every age a kept copy can have is sampled.
      for (let i = 0; i < 18; i++) {
        const [served, origin] = await Promise.all([get(url).then((r) => r.text()), get(originUrl).then((r) => r.text())]);
        lags.push(partNumber(newestPart(origin)) - partNumber(newestPart(served)));
        await new Promise((resolve) => setTimeout(resolve, 170));
      }
      lags.sort((a, b) => a - b);
      // The worst few are a part appearing between the two requests; the typical reload must be current.
      expect(lags[Math.floor(lags.length * 0.75)], `${shape.channel} ${tier}: parts behind the origin, sorted ${lags.join(",")}`).toBeLessThanOrEqual(1);
    }
  }
});

/** The blocking reloads the demo origin answered since its stats were reset, by path and directives. */
async function originReloads(): Promise<string[]> {
  const stats = (await (await fetch(`${p.originUrl}/_stats`)).json()) as { blockingReloads: Record<string, unknown> };
  return Object.keys(stats.blockingReloads);
}

it("answers a blocking reload its copy already holds without asking the origin, on the edge and on a node", async () => {
  for (const shape of SHAPES) {
    for (const tier of ["edge", "node"] as const) {
      const v = await openChannel(p, shape.channel);
      const url = `${tier === "edge" ? p.edgeUrl : node.url}/play/${v.token}/${shape.playlist}`;
      await resetOriginStats(p);
      const newest = newestPart(await (await get(url)).text());
      // The part the copy lists last, and one a lagging player asks for: both are in the copy just served.
      const lagging = partNumber(newest) - 1;
      for (const [msn, part] of [[newest.msn, newest.part], [Math.floor(lagging / PARTS_PER_SEGMENT), lagging % PARTS_PER_SEGMENT]] as const) {
        const res = await get(`${url}?_HLS_msn=${msn}&_HLS_part=${part}`);
        const text = await res.text();
        expect(res.status, `${shape.channel} ${tier}`).toBe(200);
        expect(partNumber(newestPart(text))).toBeGreaterThanOrEqual(msn * PARTS_PER_SEGMENT + part);
      }
      expect(await originReloads(), `${shape.channel} ${tier}: blocking reloads the origin answered`).toEqual([]);
    }
  }
});
