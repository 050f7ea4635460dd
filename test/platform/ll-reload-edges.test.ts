// The demo origin's LL-HLS channel (/ll/…) through the edge and a stadium node, in both shapes (a
// multivariant with its media playlists, and a single media playlist as the channel's entry), at the edges
// of what RFC 8216bis lets a client ask: a blocking reload too far ahead.
import { afterAll, beforeAll, expect, it } from "vitest";
import { startNode, type RunningStadiumNode } from "../support/stadium-node";
import { addChannel, openChannel, startSeededPlatform, type Platform } from "../support/platform";

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
