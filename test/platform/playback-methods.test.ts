// The methods a browser or player uses on playback paths besides GET: HEAD, the CORS preflight, and
// methods the path does not take. The edge answers them without its router (workers/edge/app.ts
// createFetch), so they are checked here against the running edge, and against a stadium node. Also what
// a playback request adds to the event's egress: a GET's body, nothing for a HEAD, and a body that came
// without a length once it has arrived.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { startNode, type RunningStadiumNode } from "../support/stadium-node";
import { adminPut, openChannel, startSeededPlatform, type Platform } from "../support/platform";

let p: Platform;
let node: RunningStadiumNode;
beforeAll(async () => {
  p = await startSeededPlatform();
  node = await startNode(p, "methods-node");
});
afterAll(async () => {
  await node?.stop();
  await p?.stop();
});

const uris = (text: string) => text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));

/** A segment key of the demo channel, fetched once through `base` so it is cached there. */
async function segmentOf(base: string): Promise<string> {
  const variant = uris(await (await fetch(base + "index.m3u8")).text())[0]!;
  const dir = variant.slice(0, variant.lastIndexOf("/") + 1);
  return dir + uris(await (await fetch(base + variant)).text()).at(-1)!;
}

for (const tier of ["edge", "stadium node"] as const) {
  describe(`playback methods on the ${tier}`, () => {
    const baseOf = async () => {
      const v = await openChannel(p, "main");
      return `${tier === "edge" ? p.edgeUrl : node.url}/play/${v.token}/`;
    };

    it("answers HEAD on a segment like GET, with its length and no body", async () => {
      const base = await baseOf();
      const segment = await segmentOf(base);
      const get = await fetch(base + segment);
      const bytes = (await get.arrayBuffer()).byteLength;
      const head = await fetch(base + segment, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(head.headers.get("content-type")).toBe(get.headers.get("content-type"));
      expect(head.headers.get("access-control-allow-origin")).toBe("*");
      expect(Number(head.headers.get("content-length"))).toBe(bytes);
      expect((await head.arrayBuffer()).byteLength).toBe(0);
    });

    it("answers HEAD with a bad token like GET: 403 invalid_token", async () => {
      const res = await fetch(`${tier === "edge" ? p.edgeUrl : node.url}/play/not-a-token/index.m3u8`, { method: "HEAD" });
      expect(res.status).toBe(403);
    });

    it("answers the CORS preflight of a ranged request from a web page", async () => {
      const base = await baseOf();
      const res = await fetch(base + "index.m3u8", {
        method: "OPTIONS",
        headers: { origin: "https://app.example", "access-control-request-method": "GET", "access-control-request-headers": "range" },
      });
      expect(res.status).toBeLessThan(300);
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect((res.headers.get("access-control-allow-headers") ?? "").toLowerCase()).toContain("range");
      expect((res.headers.get("access-control-allow-methods") ?? "").toUpperCase()).toContain("GET");
    });

    it("refuses methods a playback path does not take with a 4xx error, never a 500", async () => {
      const base = await baseOf();
      for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
        const res = await fetch(base + "index.m3u8", { method, body: method === "DELETE" ? undefined : "x" });
        await res.arrayBuffer();
        expect(res.status, method).toBeGreaterThanOrEqual(400);
        expect(res.status, method).toBeLessThan(500);
      }
    });
  });
}

describe("egress of HEAD requests", () => {
  /** A fresh event whose first playback request is `method`; its figures once the edge's report arrived. */
  async function firstRequest(method: "GET" | "HEAD"): Promise<{ egressBps: number; reports: number }> {
    const eventId = `egress-${method.toLowerCase()}-${Date.now()}`;
    expect((await adminPut(p, `/admin/events/${eventId}`, { title: eventId, limits: {} })).status).toBe(200);
    expect((await adminPut(p, `/admin/events/${eventId}/channels/main`, { title: "main", originUrl: `${p.originUrl}/live/main/index.m3u8`, paid: false })).status).toBe(200);
    const v = await openChannel(p, "main", eventId);
    const res = await fetch(v.playbackUrl, { method });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    // An event's first activity on an edge isolate is reported at once.
    for (let i = 0; i < 50; i++) {
      const stats = (await (await fetch(`${p.edgeUrl}/api/v1/admin/events/${eventId}/stats`, { headers: { authorization: `Bearer ${p.adminToken}` } })).json()) as {
        egressBps: number;
        gateReportCalls: { edge: number };
      };
      if (stats.gateReportCalls.edge > 0) return { egressBps: stats.egressBps, reports: stats.gateReportCalls.edge };
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("the edge never reported");
  }

  it("counts a GET's body in the event's egress, and nothing for a HEAD", async () => {
    expect((await firstRequest("GET")).egressBps).toBeGreaterThan(0);
    expect((await firstRequest("HEAD")).egressBps).toBe(0);
  });
});

describe("egress of a segment the origin sends without a length", () => {
  const SEGMENT_BYTES = 300_000;
  let origin: Server;
  let originUrl: string;
  beforeAll(async () => {
    // Many packagers answer segments chunked, with no Content-Length.
    origin = createServer((req, res) => {
      if (req.url === "/index.m3u8") {
        res.writeHead(200, { "content-type": "application/vnd.apple.mpegurl" });
        res.end("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1\n#EXTINF:2.0,\nseg-1.ts\n#EXT-X-ENDLIST\n");
      } else if (req.url === "/seg-1.ts") {
        res.writeHead(200, { "content-type": "video/mp2t" }); // no length: Node sends it chunked
        for (let sent = 0; sent < SEGMENT_BYTES; sent += 10_000) res.write(Buffer.alloc(10_000, 0x47));
        res.end();
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", resolve));
    originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => origin.close(() => resolve())));

  it("counts its bytes in the event's egress once the body has arrived", async () => {
    const eventId = `egress-chunked-${Date.now()}`;
    expect((await adminPut(p, `/admin/events/${eventId}`, { title: eventId, limits: { leaseSeconds: 10 } })).status).toBe(200);
    expect((await adminPut(p, `/admin/events/${eventId}/channels/main`, { title: "main", originUrl: `${originUrl}/index.m3u8`, paid: false })).status).toBe(200);
    const v = await openChannel(p, "main", eventId);
    const base = v.playbackUrl.replace(/index\.m3u8$/, "");
    const segment = await fetch(base + "seg-1.ts");
    expect(segment.status).toBe(200);
    expect(segment.headers.get("content-length")).toBeNull();
    expect((await segment.arrayBuffer()).byteLength).toBe(SEGMENT_BYTES);
    // The first activity was reported at once; the next request after the report interval (one lease, the
    // shortest an operator can set: 10 s) sends the rest.
    await new Promise((r) => setTimeout(r, 10_300));
    await (await fetch(v.playbackUrl)).arrayBuffer();
    for (let i = 0; i < 50; i++) {
      const stats = (await (await fetch(`${p.edgeUrl}/api/v1/admin/events/${eventId}/stats`, { headers: { authorization: `Bearer ${p.adminToken}` } })).json()) as {
        egressBps: number;
        gateReportCalls: { edge: number };
      };
      if (stats.gateReportCalls.edge >= 2) {
        // egressBps is the second report's bytes over its span (about 10 s), so 30 s of it is more than the segment.
        expect((stats.egressBps * 30) / 8).toBeGreaterThanOrEqual(SEGMENT_BYTES);
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("the edge never sent its second report");
  });
});

describe("egress of a viewer who goes away mid-segment", () => {
  const SEGMENT_BYTES = 8 * 1024 * 1024;
  const ABORTS = 6;

  /** GETs `url` on a connection of its own, reads about 100 KB of the answer and hangs up, as a player seeking away does. */
  function readSomeAndHangUp(url: string): Promise<number> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(u.port), u.hostname, () => socket.write(`GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`));
      let got = 0;
      socket.on("data", (d: Buffer) => {
        got += d.length;
        if (got >= 100_000) {
          socket.destroy();
          resolve(got);
        }
      });
      socket.on("error", reject);
      socket.setTimeout(15_000, () => reject(new Error("no answer")));
    });
  }

  async function edgeStats(eventId: string): Promise<{ egressBytesTotal: number; gateReportCalls: { edge: number } }> {
    return (await (await fetch(`${p.edgeUrl}/api/v1/admin/events/${eventId}/stats`, { headers: { authorization: `Bearer ${p.adminToken}` } })).json()) as { egressBytesTotal: number; gateReportCalls: { edge: number } };
  }

  it("counts in the event's egress what the edge wrote, not every aborted body whole", async () => {
    const eventId = `egress-abort-${Date.now()}`;
    expect((await adminPut(p, `/admin/events/${eventId}`, { title: eventId, limits: { leaseSeconds: 10 } })).status).toBe(200);
    expect((await adminPut(p, `/admin/events/${eventId}/channels/main`, { title: "main", originUrl: `${p.originUrl}/synthetic/${SEGMENT_BYTES}/index.m3u8`, paid: false })).status).toBe(200);
    const v = await openChannel(p, "main", eventId);
    const base = v.playbackUrl.replace(/index\.m3u8$/, "");
    const segment = uris(await (await fetch(v.playbackUrl)).text()).at(-1)!;
    for (let i = 0; i < ABORTS; i++) expect(await readSomeAndHangUp(base + segment)).toBeGreaterThanOrEqual(100_000);
    // The first activity was reported at once; a request after one report interval (the lease, 10 s) sends the rest.
    await new Promise((r) => setTimeout(r, 10_300));
    await (await fetch(v.playbackUrl)).arrayBuffer();
    for (let i = 0; i < 50; i++) {
      const stats = await edgeStats(eventId);
      if (stats.gateReportCalls.edge >= 2) {
        const counted = stats.egressBytesTotal;
        console.log(`${ABORTS} viewers each read ~100 KB of an 8 MiB segment and hung up: ${Math.round(counted / 1000)} KB counted (${Math.round((ABORTS * SEGMENT_BYTES) / 1000)} KB if counted whole)`);
        // What the edge wrote includes what the loopback socket's buffers took before the hang-up was seen.
        expect(counted).toBeGreaterThanOrEqual(ABORTS * 100_000);
        expect(counted).toBeLessThan((ABORTS * SEGMENT_BYTES) / 2);
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("the edge never sent its second report");
  });

  it("counts in a node's served bytes what the node wrote", async () => {
    expect((await adminPut(p, `/admin/events/demo/channels/egress-abort`, { title: "abort", originUrl: `${p.originUrl}/synthetic/${SEGMENT_BYTES}/index.m3u8`, paid: false })).status).toBe(200);
    const v = await openChannel(p, "egress-abort");
    const base = `${node.url}/play/${v.token}/`;
    const segment = uris(await (await fetch(`${base}index.m3u8`)).text()).at(-1)!;
    const before = (await node.stats()).bytesServed;
    for (let i = 0; i < ABORTS; i++) expect(await readSomeAndHangUp(base + segment)).toBeGreaterThanOrEqual(100_000);
    let counted = 0;
    // The node counts a body's bytes once it sees the hang-up.
    for (let i = 0; i < 30 && counted < ABORTS * 100_000; i++) {
      await new Promise((r) => setTimeout(r, 100));
      counted = (await node.stats()).bytesServed - before;
    }
    console.log(`node: ${ABORTS} aborted reads of an 8 MiB segment counted ${Math.round(counted / 1000)} KB`);
    expect(counted).toBeGreaterThanOrEqual(ABORTS * 100_000);
    expect(counted).toBeLessThan((ABORTS * SEGMENT_BYTES) / 2);
  });

  it("goes on bringing a segment in when the viewer who asked for it first hangs up, for the next viewer, on the edge and on a node", async () => {
    expect((await adminPut(p, `/admin/events/demo/channels/abort-first`, { title: "abort first", originUrl: `${p.originUrl}/synthetic/${SEGMENT_BYTES}/index.m3u8`, paid: false })).status).toBe(200);
    for (const base of [p.edgeUrl, node.url]) {
      const v = await openChannel(p, "abort-first");
      const play = `${base}/play/${v.token}/`;
      // The newest segment: nobody has asked for it, so the first viewer's request is the one that reads it upstream.
      const segment = uris(await (await fetch(`${play}index.m3u8`)).text()).at(-1)!;
      await readSomeAndHangUp(play + segment);
      const next = await fetch(play + segment, { signal: AbortSignal.timeout(20_000) });
      expect(next.status).toBe(200);
      expect((await next.arrayBuffer()).byteLength, base).toBe(SEGMENT_BYTES);
    }
  });
});
