// The methods a browser or player uses on playback paths besides GET: HEAD, the CORS preflight, and
// methods the path does not take. The edge answers them without its router (workers/edge/app.ts
// createFetch), so they are checked here against the running edge, and against a stadium node.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNode, type RunningCacheNode } from "../support/cache-node";
import { openChannel, startSeededPlatform, type Platform } from "../support/platform";

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
