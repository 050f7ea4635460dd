// Backup origins through the real edge: a primary whose live playlist stops advancing hands the channel to
// its backup and gets it back once healthy again (numbers rising throughout); a backup fetches nothing outside
// its own host and the channel's allowedHosts; keys of a backup the channel does not have open nothing.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { parsePlaylist } from "../../workers/hls/parse";
import { adminPut, openChannel, startSeededPlatform, type Platform } from "../support/platform";
import { startNode } from "../support/stadium-node";

let p: Platform;
beforeAll(async () => {
  p = await startSeededPlatform();
});
afterAll(async () => {
  await p?.stop();
});

/** A plain HTTP server on 127.0.0.1 answering with `handler`, counting requests by path. */
async function server(handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>): Promise<{ url: string; hits: Map<string, number>; close(): Promise<void> }> {
  const hits = new Map<string, number>();
  const s: Server = createServer((req, res) => {
    hits.set(req.url!, (hits.get(req.url!) ?? 0) + 1);
    void Promise.resolve(handler(req, res)).catch(() => res.destroy());
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  return { url, hits, close: () => new Promise((r) => { s.closeAllConnections(); s.close(() => r()); }) };
}

async function stats(channelId: string) {
  const res = await fetch(`${p.edgeUrl}/api/v1/admin/events/demo/stats`, { headers: { authorization: `Bearer ${p.adminToken}` } });
  const body = (await res.json()) as { channels: { id: string; origin: { servingIndex: number; switches: { reason: string; from: string; to: string }[]; failing: string[] } }[] };
  return body.channels.find((c) => c.id === channelId)!.origin;
}

async function poll<T>(what: () => Promise<T>, until: (t: T) => boolean, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await what();
    if (until(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
}

it("moves a channel whose live playlist stops advancing to its backup, and back once the primary advances for a while, numbers rising", async () => {
  // The primary relays the demo stream until it freezes: then it keeps answering its last playlist.
  let frozen: string | null = null;
  let freeze = false;
  const primary = await server(async (req, res) => {
    if (req.url!.endsWith("index.m3u8") && freeze && frozen !== null) {
      res.writeHead(200, { "content-type": "application/vnd.apple.mpegurl" }).end(frozen);
      return;
    }
    const upstream = await fetch(p.originUrl + req.url!);
    const body = Buffer.from(await upstream.arrayBuffer());
    if (req.url!.endsWith("/index.m3u8") && !freeze) frozen = body.toString();
    res.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "application/octet-stream" }).end(body);
  });
  try {
    const put = await adminPut(p, "/admin/events/demo/channels/stale", {
      title: "stale",
      originUrl: `${primary.url}/live/stale/index.m3u8`,
      backupOriginUrls: [`${p.originUrl}/live/stale-b/index.m3u8`],
      paid: false,
    });
    expect(put.status).toBe(200);
    const { playbackUrl } = await openChannel(p, "stale");
    const entry = await (await fetch(playbackUrl)).text();
    const media = new URL(entry.split("\n").find((l) => l !== "" && !l.startsWith("#"))!, playbackUrl).toString();
    const read = async () => {
      const info = parsePlaylist(await (await fetch(media)).text());
      return { first: info.mediaSequence ?? 0, uris: info.segments.map((s) => s.uri), last: (info.mediaSequence ?? 0) + info.segments.length - 1 };
    };
    const before = await read();
    expect(before.uris.some((u) => u.includes("_b1/"))).toBe(false);

    freeze = true;
    const frozeAt = Date.now();
    // A viewer keeps reloading, as players do; within a few target durations the backup serves.
    const moved = await poll(read, (r) => r.uris.some((u) => u.includes("_b1/")), 15_000);
    const switchMs = Date.now() - frozeAt;
    expect(moved.uris.some((u) => u.includes("_b1/"))).toBe(true);
    expect(moved.last).toBeGreaterThan(before.last);
    const away = await stats("stale");
    expect(away.servingIndex).toBe(1);
    expect(away.switches.at(-1)!.reason).toBe("stale");

    freeze = false;
    const thawedAt = Date.now();
    const back = await poll(read, (r) => !r.uris.at(-1)!.includes("_b1/"), 30_000);
    const backMs = Date.now() - thawedAt;
    console.log(`stale primary: backup served ${switchMs} ms after the primary's playlist froze (target duration 2 s); primary back ${backMs} ms after it advanced again`);
    expect(back.uris.at(-1)!.includes("_b1/")).toBe(false);
    expect(back.last).toBeGreaterThan(moved.last);
    expect((await stats("stale")).switches.at(-1)!.reason).toBe("recovered");
  } finally {
    await primary.close();
  }
});

it("fetches nothing from a backup's links outside its own host and the channel's allowedHosts", async () => {
  const foreign = await server((_req, res) => void res.writeHead(200).end("x"));
  // The backup lists a segment on a host nobody allowed.
  const backup = await server((req, res) => {
    if (req.url === "/b/index.m3u8") {
      res.writeHead(200, { "content-type": "application/vnd.apple.mpegurl" });
      res.end(`#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1\n#EXTINF:2,\nseg-1.ts\n#EXTINF:2,\n${foreign.url}/seg-2.ts\n`);
    } else res.writeHead(200, { "content-type": "video/mp2t" }).end("segment");
  });
  try {
    const put = await adminPut(p, "/admin/events/demo/channels/fenced", {
      title: "fenced",
      originUrl: `${p.originUrl}/status/503/index.m3u8`,
      backupOriginUrls: [`${backup.url}/b/index.m3u8`],
      paid: false,
    });
    expect(put.status).toBe(200);
    const { playbackUrl, token } = await openChannel(p, "fenced");
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push((await fetch(playbackUrl)).status);
    const base = playbackUrl.slice(0, playbackUrl.lastIndexOf("/") + 1);
    const [viaPrimary, viaBackup, viaMissing] = await Promise.all([
      fetch(`${base}_ext/http/${new URL(foreign.url).host}/seg-2.ts`),
      fetch(`${base}_b1/_ext/http/${new URL(foreign.url).host}/seg-2.ts`),
      fetch(`${base}_b2/index.m3u8`),
    ]);
    expect(answers.at(-1)).not.toBe(500);
    expect([viaPrimary.status, viaBackup.status, viaMissing.status]).toEqual([404, 404, 404]);
    expect([...foreign.hits.values()].reduce((a, b) => a + b, 0)).toBe(0);
    expect(token).toBeTruthy();
  } finally {
    await Promise.all([foreign.close(), backup.close()]);
  }
});

it("moves a stadium node's viewers to the backup with the edge's: the node serves the backup's segments under the same playlist URL", async () => {
  let down = false;
  // The primary relays the demo stream until it answers 503 to everything.
  const primary = await server(async (req, res) => {
    if (down) return void res.writeHead(503).end("down");
    const upstream = await fetch(p.originUrl + req.url!);
    res.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "application/octet-stream" }).end(Buffer.from(await upstream.arrayBuffer()));
  });
  const node = await startNode(p, "stand-failover");
  try {
    const put = await adminPut(p, "/admin/events/demo/channels/node-failover", {
      title: "node-failover",
      originUrl: `${primary.url}/live/node-failover/index.m3u8`,
      backupOriginUrls: [`${p.originUrl}/live/node-failover/index.m3u8`],
      paid: false,
    });
    expect(put.status).toBe(200);
    const { token } = await openChannel(p, "node-failover");
    const base = `${node.url}/play/${token}/`;
    const entry = await (await fetch(base + "index.m3u8")).text();
    const media = entry.split("\n").find((l) => l !== "" && !l.startsWith("#"))!;
    const dir = media.slice(0, media.lastIndexOf("/") + 1);
    const read = async () => parsePlaylist(await (await fetch(base + media)).text());
    const before = await read();
    expect(before.segments.some((s) => s.uri.includes("_b1/"))).toBe(false);
    down = true;
    const after = await poll(read, (info) => info.segments.some((s) => s.uri.includes("_b1/")), 20_000);
    const backupSegments = after.segments.filter((s) => s.uri.includes("_b1/"));
    expect(backupSegments.length).toBeGreaterThan(0);
    expect((after.mediaSequence ?? 0) + after.segments.length).toBeGreaterThan((before.mediaSequence ?? 0) + before.segments.length);
    const statuses = await Promise.all(backupSegments.map(async (s) => (await fetch(new URL(dir + s.uri, base))).status));
    expect(statuses.every((st) => st === 200)).toBe(true);
    console.log(`stadium node after the primary died: ${backupSegments.length} backup segments listed, answered ${statuses.join(", ")}`);
  } finally {
    await node.stop();
    await primary.close();
  }
});
