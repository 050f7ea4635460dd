// The methods a browser or player uses on playback paths besides GET: HEAD, the CORS preflight, and
// methods the path does not take. The edge answers them without its router (workers/edge/app.ts
// createFetch), so they are checked here against the running edge, and against a stadium node.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNode, type RunningCacheNode } from "../support/cache-node";
import { adminPut, openChannel, startSeededPlatform, type Platform } from "../support/platform";

let p: Platform;
let node: RunningCacheNode;
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
