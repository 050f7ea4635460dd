// A channel whose entry is a media playlist (one rendition, common for LL-HLS encoders): its playback URL is
// reloaded with LL-HLS's blocking-reload parameters, on the edge and on a stadium node. Any other query on it
// is a key nobody listed: 404, and the origin is not asked.
import { afterAll, beforeAll, expect, it } from "vitest";
import { startNode, type RunningStadiumNode } from "../support/stadium-node";
import { addChannel, openChannel, originStats, resetOriginStats, startSeededPlatform, type Platform } from "../support/platform";

let p: Platform;
let node: RunningStadiumNode;
beforeAll(async () => {
  p = await startSeededPlatform();
  await addChannel(p, "single", `${p.originUrl}/live/single/ts-360p/index.m3u8`);
  node = await startNode(p, "stand-reload");
});
afterAll(async () => {
  await node?.stop();
  await p?.stop();
});

const mediaSequence = (text: string) => Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1]);

it("answers the playback URL's blocking reloads with the media playlist, on the edge and on a node", async () => {
  const v = await openChannel(p, "single");
  const first = await (await fetch(v.playbackUrl)).text();
  const msn = mediaSequence(first);
  expect(msn).toBeGreaterThan(0);
  for (const base of [p.edgeUrl, node.url]) {
    for (const query of [`?_HLS_msn=${msn}`, `?_HLS_msn=${msn}&_HLS_part=0`, "?_HLS_skip=YES"]) {
      const res = await fetch(`${base}/play/${v.token}/index.m3u8${query}`);
      const text = await res.text();
      expect(res.status, `${base} ${query}`).toBe(200);
      expect(text).toContain("#EXTINF:");
      expect(mediaSequence(text)).toBeGreaterThanOrEqual(msn);
    }
  }
});

it("answers any other query on the playback URL with 404, without asking the origin", async () => {
  const v = await openChannel(p, "single");
  expect((await fetch(v.playbackUrl)).status).toBe(200);
  await resetOriginStats(p);
  for (let i = 0; i < 10; i++) {
    const res = await fetch(`${v.playbackUrl}?bust=${i}`);
    expect(res.status).toBe(404);
    await res.arrayBuffer();
  }
  const stats = await originStats(p);
  expect(Object.keys(stats.byPath).filter((path) => path.includes("bust"))).toEqual([]);
});
