// A stadium node's link to the platform drops a connection (a kept-alive socket closed by the other
// side as a request goes out): the viewer still gets its segment, because the node sends the GET again.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startStadiumNode, type RunningStadiumNode } from "../../workers/stadium-node/service/launcher";
import { openChannel, startSeededPlatform, type Platform } from "../support/platform";
import { provision } from "../support/stadium-node";

let p: Platform;
let proxy: Server;
let node: RunningStadiumNode;
/** Segment requests the proxy cut off without answering, and all segment requests it saw. */
const seen = { cut: 0, segments: 0 };
let cutNext = 0;

/** Forwards to the edge; cuts the connection of the next `cutNext` segment requests instead. */
async function forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const isSegment = /^\/play\/[^/]+\/.+\.ts$/.test(req.url ?? "");
  if (isSegment) {
    seen.segments++;
    if (cutNext > 0) {
      cutNext--;
      seen.cut++;
      req.socket.destroy();
      return;
    }
  }
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== "host" && k !== "connection") as [string, string][]);
  const upstream = await fetch(`${p.edgeUrl}${req.url}`, {
    method: req.method,
    headers,
    ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
  });
  const body = Buffer.from(await upstream.arrayBuffer());
  const out: Record<string, string> = {};
  upstream.headers.forEach((v, k) => {
    if (k !== "content-encoding" && k !== "transfer-encoding" && k !== "connection") out[k] = v;
  });
  res.writeHead(upstream.status, { ...out, "content-length": String(body.byteLength) });
  res.end(body);
}

beforeAll(async () => {
  p = await startSeededPlatform();
  proxy = createServer((req, res) => {
    forward(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const { port } = proxy.address() as AddressInfo;
  // Provisioned at the platform itself; the node reaches it only through the flaky proxy.
  const registrationKey = await provision(p, "flaky-link");
  node = await startStadiumNode({ platformUrl: `http://127.0.0.1:${port}`, id: "flaky-link", port: 0, registrationKey, prebuilt: true });
});
afterAll(async () => {
  await node?.stop();
  await new Promise((r) => proxy?.close(r));
  await p?.stop();
});

const uris = (text: string) => text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));

it("a segment whose first upstream connection is cut still reaches the viewer, fetched once", async () => {
  const v = await openChannel(p, "main");
  const base = `${node.url}/play/${v.token}/`;
  const variant = uris(await (await fetch(base + "index.m3u8")).text())[0]!;
  const dir = variant.slice(0, variant.lastIndexOf("/") + 1);
  const segment = dir + uris(await (await fetch(base + variant)).text()).at(-1)!;

  cutNext = 1;
  const res = await fetch(base + segment);
  const body = await res.arrayBuffer();
  expect(res.status).toBe(200);
  expect(body.byteLength).toBeGreaterThan(1000);
  expect(seen.cut).toBe(1);
  expect(seen.segments).toBe(2); // the cut attempt and the one retry, nothing more

  // And the node now holds it: a second viewer's request does not go upstream.
  const again = await fetch(base + segment);
  expect(again.status).toBe(200);
  expect((await again.arrayBuffer()).byteLength).toBe(body.byteLength);
  expect(seen.segments).toBe(2);
});

it("a link that stays down gives the viewer 502, not a hang", async () => {
  const v = await openChannel(p, "main");
  const base = `${node.url}/play/${v.token}/`;
  const variant = uris(await (await fetch(base + "index.m3u8")).text())[0]!;
  const dir = variant.slice(0, variant.lastIndexOf("/") + 1);
  // A segment this node has not fetched yet: the oldest in the window.
  const segment = dir + uris(await (await fetch(base + variant)).text())[0]!;
  const before = seen.segments;
  cutNext = 2;
  const res = await fetch(base + segment);
  await res.arrayBuffer();
  expect(res.status).toBe(502);
  expect(seen.segments - before).toBe(2);
  cutNext = 0;
});
