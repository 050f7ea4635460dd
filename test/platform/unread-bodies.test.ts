// Requests whose body nothing reads (an unknown path, a method a playback path does not take, a request refused
// before its route reads the body) get their answer on a kept-alive connection that stays usable: the next
// request on it gets its answer too, on the same connection. Run against the edge and a stadium node on workerd,
// over one socket (an http.Agent with keepAlive and maxSockets 1, as a browser reuses its connection).
import { Agent, request as httpRequest } from "node:http";
import type { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNode, type RunningStadiumNode } from "../support/stadium-node";
import { openChannel, startSeededPlatform, type Platform } from "../support/platform";

let p: Platform;
let node: RunningStadiumNode;
beforeAll(async () => {
  p = await startSeededPlatform();
  node = await startNode(p, "unread-bodies-node");
});
afterAll(async () => {
  await node?.stop();
  await p?.stop();
});

interface Sent {
  method: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
}

/** Sends `requests` one after another on one kept-alive connection; each answer's status or error code, and how many sockets were used. */
async function overOneConnection(base: string, requests: Sent[]): Promise<{ outcomes: (number | string)[]; sockets: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set<Socket>();
  const outcomes: (number | string)[] = [];
  try {
    for (const r of requests) {
      outcomes.push(
        await new Promise<number | string>((resolve) => {
          const headers: Record<string, string> = { ...r.headers };
          if (r.body !== undefined) {
            headers["content-type"] ??= "application/json";
            headers["content-length"] = String(Buffer.byteLength(r.body));
          }
          const req = httpRequest(`${base}${r.path}`, { method: r.method, agent, headers }, (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
            res.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
          });
          req.on("socket", (s) => sockets.add(s));
          req.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
          req.end(r.body);
        }),
      );
    }
  } finally {
    agent.destroy();
  }
  return { outcomes, sockets: sockets.size };
}

const json = (i: number) => JSON.stringify({ n: i, note: "x".repeat(200) });
/** A body past the 64 KiB that workerd reads and drops on its own when a worker leaves a body unread. */
const large = (i: number) => JSON.stringify({ n: i, note: "x".repeat(200_000) });

describe("the edge", () => {
  it("answers 40 JSON PUTs to an unknown /api path with 404 on one kept-alive connection", async () => {
    const requests = Array.from({ length: 40 }, (_, i) => ({ method: "PUT", path: `/api/v1/nothing-here/${i}`, body: json(i) }));
    const { outcomes, sockets } = await overOneConnection(p.edgeUrl, requests);
    expect(outcomes).toEqual(Array<number>(40).fill(404));
    expect(sockets).toBe(1);
  });

  it("answers POST and PUT with a body to a playback path with 405 on one kept-alive connection", async () => {
    const v = await openChannel(p, "main");
    const path = new URL(v.playbackUrl).pathname;
    const requests = Array.from({ length: 20 }, (_, i) => ({ method: i % 2 ? "PUT" : "POST", path, body: json(i) }));
    const { outcomes, sockets } = await overOneConnection(p.edgeUrl, requests);
    expect(outcomes).toEqual(Array<number>(20).fill(405));
    expect(sockets).toBe(1);
  });

  it("answers requests refused before their route reads the body, and the next request, on one kept-alive connection", async () => {
    const requests: Sent[] = [];
    for (let i = 0; i < 10; i++) {
      requests.push({ method: "PUT", path: "/api/v1/admin/events/unread", body: json(i), headers: { authorization: "Bearer wrong" } });
      requests.push({ method: "POST", path: "/api/v1/auth/logout", body: json(i) });
      requests.push({ method: "PUT", path: "/not-an-api-path", body: json(i) });
      requests.push({ method: "GET", path: "/healthz" });
    }
    const { outcomes, sockets } = await overOneConnection(p.edgeUrl, requests);
    expect(outcomes).toEqual(requests.map((r) => (r.method === "GET" ? 200 : r.path === "/not-an-api-path" ? 404 : 401)));
    expect(sockets).toBe(1);
  });

  it("answers requests with a 200 KB body nothing reads, and the next request, on one kept-alive connection", async () => {
    const play = new URL((await openChannel(p, "main")).playbackUrl).pathname;
    const requests: Sent[] = [];
    for (let i = 0; i < 5; i++) {
      requests.push({ method: "PUT", path: "/not-an-api-path", body: large(i) });
      requests.push({ method: "POST", path: play, body: large(i) });
      requests.push({ method: "PUT", path: "/api/v1/admin/events/too-large", body: large(i), headers: { authorization: "Bearer wrong" } });
      requests.push({ method: "GET", path: "/healthz" });
    }
    const { outcomes, sockets } = await overOneConnection(p.edgeUrl, requests);
    // Over 64 KiB, an /api body is refused by its size (400) before the operator token is checked.
    expect(outcomes).toEqual(requests.map((r) => (r.method === "GET" ? 200 : r.path === play ? 405 : r.path.startsWith("/api/") ? 400 : 404)));
    expect(sockets).toBe(1);
  });
});

describe("a stadium node", () => {
  it("answers requests whose body nothing reads, and the next request, on one kept-alive connection", async () => {
    const v = await openChannel(p, "main");
    const play = new URL(v.playbackUrl).pathname;
    const requests: Sent[] = [];
    for (let i = 0; i < 10; i++) {
      requests.push({ method: "PUT", path: `/nothing-here/${i}`, body: json(i) });
      requests.push({ method: "POST", path: play, body: json(i) });
      requests.push({ method: "POST", path: "/_node/ended", body: json(i), headers: { authorization: "Bearer wrong" } });
      requests.push({ method: "PUT", path: `/nothing-here/large-${i}`, body: large(i) });
      requests.push({ method: "POST", path: play, body: large(i) });
      requests.push({ method: "GET", path: "/ping" });
    }
    const { outcomes, sockets } = await overOneConnection(node.url, requests);
    expect(outcomes).toEqual(requests.map((r) => (r.method === "GET" ? 200 : r.path === play ? 405 : r.path === "/_node/ended" ? 401 : 404)));
    expect(sockets).toBe(1);
  });
});
