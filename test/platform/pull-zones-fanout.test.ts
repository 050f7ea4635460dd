// Two stadium nodes and 200 simulated viewers split between them: each node fetches each segment from
// the platform once, however many of its viewers ask for it at the same moment.
import { afterAll, beforeAll, expect, it } from "vitest";
import { startNode, type RunningStadiumNode } from "../support/stadium-node";
import { retried } from "../support/http-client";
import { openChannel, originStats, resetOriginStats, startSeededPlatform, type Platform } from "../support/platform";

let p: Platform;
let nodes: RunningStadiumNode[];
beforeAll(async () => {
  p = await startSeededPlatform();
  nodes = await Promise.all([startNode(p, "stand-a"), startNode(p, "stand-b")]);
});
afterAll(async () => {
  await Promise.all((nodes ?? []).map((n) => n.stop()));
  await p?.stop();
});

const uris = (text: string) => text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));

it("with 200 viewers split over two nodes, each node fetches each segment from upstream exactly once", async () => {
  const viewers = await Promise.all(Array.from({ length: 200 }, () => openChannel(p, "main")));
  await resetOriginStats(p);
  const requested = [new Set<string>(), new Set<string>()];
  const failures: string[] = [];
  // Three rounds of what a player does: reload the media playlist, fetch the newest segments, all at once.
  for (let round = 0; round < 3; round++) {
    await Promise.all(
      viewers.map(async (v, i) => {
        const n = i % 2;
        const base = `${nodes[n]!.url}/play/${v.token}/`;
        const variant = uris(await (await fetch(base + "index.m3u8")).text())[0]!;
        const dir = variant.slice(0, variant.lastIndexOf("/") + 1);
        const segments = uris(await (await fetch(base + variant)).text()).slice(-2).map((s) => dir + s);
        for (const s of segments) requested[n]!.add(s);
        for (const s of segments) {
          const res = await fetch(base + s);
          const body = await res.arrayBuffer();
          if (res.status !== 200) failures.push(`${nodes[n]!.id} ${s}: ${res.status} ${new TextDecoder().decode(body).slice(0, 200)}`);
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 1000));
  }
  console.log(`requests the test client sent again after a socket error: ${retried.count}`);
  expect(failures).toEqual([]);
  for (const [n, node] of nodes.entries()) {
    const s = await node.stats();
    console.log(`${node.id}: ${s.segmentRequests} segment requests, ${s.segmentUpstreamFetches} upstream fetches for ${requested[n]!.size} segments, hit ratio ${s.cacheHitRatio?.toFixed(3)}`);
    expect(s.segmentRequests).toBeGreaterThanOrEqual(100 * 3 * 2);
    expect(s.maxFetchesPerSegment).toBe(1);
    expect(s.segmentUpstreamFetches).toBe(requested[n]!.size);
  }
  // And the origin behind the platform saw each segment at most once too.
  const origin = await originStats(p);
  const segmentCounts = Object.entries(origin.byPath).filter(([path]) => !path.endsWith(".m3u8"));
  expect(segmentCounts.length).toBeGreaterThan(0);
  for (const [, count] of segmentCounts) expect(count).toBe(1);
});
