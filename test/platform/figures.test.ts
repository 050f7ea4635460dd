// The operator's figures against the real edge: the hit ratio over every tier (edge memory, Cache API, origin
// shield, stadium nodes) and egress from every report, as GET /admin/events/{id}/stats gives them.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { heartbeat, provision, register } from "../support/stadium-node";
import { adminPut, openChannel, startSeededPlatform, type Platform } from "../support/platform";

interface TierCounts { node: number; memory: number; cacheApi: number; shield: number; origin: number }
interface Stats {
  activeSessions: number;
  egressBps: number;
  egressBpsEdge: number;
  egressBpsNodes: number;
  egressBytesTotal: number;
  cacheHitRatio: number | null;
  shieldHitRatio: number | null;
  requestsByTier: TierCounts;
  requestsByTierTotal: TierCounts;
}

const SEGMENT_BYTES = 100_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sum = (c: TierCounts | undefined) => (c ? c.node + c.memory + c.cacheApi + c.shield + c.origin : 0);

let p: Platform;
let origin: Server;
let originUrl: string;
let originSegmentRequests = 0;

beforeAll(async () => {
  // A VOD origin of two segments: nothing is prefetched, so the first request of each reaches the origin.
  origin = createServer((req, res) => {
    if (req.url === "/index.m3u8") {
      res.writeHead(200, { "content-type": "application/vnd.apple.mpegurl" });
      res.end("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1\n#EXTINF:2.0,\nseg-1.ts\n#EXTINF:2.0,\nseg-2.ts\n#EXT-X-ENDLIST\n");
    } else if (req.url === "/seg-1.ts" || req.url === "/seg-2.ts") {
      originSegmentRequests++;
      res.writeHead(200, { "content-type": "video/mp2t", "content-length": String(SEGMENT_BYTES) });
      res.end(Buffer.alloc(SEGMENT_BYTES, 0x47));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", resolve));
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  p = await startSeededPlatform();
});
afterAll(async () => {
  await p?.stop();
  await new Promise<void>((resolve) => origin?.close(() => resolve()));
});

async function makeEvent(eventId: string): Promise<void> {
  // The shortest lease an operator can set (10 s): the edge reports at least that often.
  expect((await adminPut(p, `/admin/events/${eventId}`, { title: eventId, limits: { leaseSeconds: 10 } })).status).toBe(200);
  expect((await adminPut(p, `/admin/events/${eventId}/channels/main`, { title: "main", originUrl: `${originUrl}/index.m3u8`, paid: false })).status).toBe(200);
}

async function stats(eventId: string): Promise<Stats> {
  const res = await fetch(`${p.edgeUrl}/api/v1/admin/events/${eventId}/stats`, { headers: { authorization: `Bearer ${p.adminToken}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as Stats;
}

/** Polls the stats until `ready` holds (the edge sends its reports after its responses), at most 10 s; then the last. */
async function statsOnce(eventId: string, ready: (s: Stats) => boolean): Promise<Stats> {
  let s = await stats(eventId);
  for (let i = 0; i < 100 && !ready(s); i++) {
    await sleep(100);
    s = await stats(eventId);
  }
  return s;
}

/** GETs a playback URL and returns the bytes received. */
async function get(url: string): Promise<number> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return (await res.arrayBuffer()).byteLength;
}

describe("cache hit ratio over every tier", () => {
  it("counts segments the edge answers from its memory, which the shield's own figure never sees", async () => {
    await makeEvent("tiers");
    const v = await openChannel(p, "main", "tiers");
    const base = v.playbackUrl.replace(/index\.m3u8$/, "");
    const before = originSegmentRequests;
    await get(v.playbackUrl); // the playlist: from the shield's copy (reported at once, the isolate's first activity)
    await get(base + "seg-1.ts"); // from the origin, through the shield
    for (let i = 0; i < 20; i++) await get(base + "seg-1.ts"); // from the edge's memory
    await get(base + "seg-2.ts"); // from the origin
    expect(originSegmentRequests - before).toBe(2);
    // The next request after 2 s sends the rest (an isolate's second report covers at least 2 s).
    await sleep(2_100);
    await get(v.playbackUrl);
    const s = await statsOnce("tiers", (s) => sum(s.requestsByTierTotal) >= 24);
    // The ratio is of the edge's last report period (every request after the first): 21 of 23 answered without
    // asking the origin. The shield alone saw two segment reads, both misses.
    expect(s.cacheHitRatio).toBeCloseTo(21 / 23, 5);
    expect(s.shieldHitRatio).toBe(0);
    expect(s.requestsByTier).toEqual({ node: 0, memory: 21, cacheApi: 0, shield: 0, origin: 2 });
    expect(s.requestsByTierTotal).toEqual({ node: 0, memory: 21, cacheApi: 0, shield: 1, origin: 2 });
  });

  it("counts the requests a stadium node answered from its own cache, as its heartbeat reports them", async () => {
    await makeEvent("node-tiers");
    const key = await provision(p, "tier-node", { eventIds: ["node-tiers"] });
    const reg = await register(p, { id: "tier-node", baseUrl: "http://127.0.0.1:9" }, key);
    expect(reg.status).toBe(201);
    const { nodeKey } = (await reg.json()) as { nodeKey: string };
    await sleep(1_000);
    // 400 viewer requests, 10 of them misses the node asked the platform for (the edge counts those by its own tiers).
    const res = await heartbeat(p, "tier-node", nodeKey, { activeViewers: 3, egressBytes: 2_000_000, requests: 400, upstreamRequests: 10 });
    expect(res.status).toBe(200);
    const s = await stats("node-tiers");
    expect(s.cacheHitRatio).toBe(1);
    expect(s.requestsByTier.node).toBe(390);
    expect(s.requestsByTierTotal).toEqual({ node: 390, memory: 0, cacheApi: 0, shield: 0, origin: 0 });
    expect(s.egressBpsNodes).toBeGreaterThan(0);
    expect(s.egressBytesTotal).toBe(2_000_000);
  });
});

describe("egress", () => {
  it("is not zero while a session plays, and is the bytes served over the edge's last report period", async () => {
    await makeEvent("egress-rate");
    const v = await openChannel(p, "main", "egress-rate");
    const base = v.playbackUrl.replace(/index\.m3u8$/, "");
    const started = Date.now();
    let served = await get(v.playbackUrl); // reported at once: the isolate's first activity of this event
    let afterFirst = 0;
    for (let i = 0; i < 15; i++) afterFirst += await get(base + "seg-1.ts");
    await sleep(2_100);
    // Due: sends every byte since the first report. A hit, counted whole as it is answered (a miss's bytes count as
    // they leave, so they could miss this report).
    afterFirst += await get(base + "seg-1.ts");
    const elapsedMs = Date.now() - started;
    served += afterFirst;
    const s = await statsOnce("egress-rate", (s) => s.egressBps >= (afterFirst * 8) / (elapsedMs / 1000));
    expect(s.activeSessions).toBe(1);
    // The second report's bytes over its period: from the first request to the last, at least the 2.1 s waited.
    expect(s.egressBps).toBeGreaterThanOrEqual((afterFirst * 8) / (elapsedMs / 1000));
    expect(s.egressBps).toBeLessThanOrEqual((afterFirst * 8) / 2.1);
    expect(s.egressBpsEdge).toBe(s.egressBps);
    expect(s.egressBytesTotal).toBe(served);
  });
});
