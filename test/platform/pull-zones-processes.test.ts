// A stadium node on several cores: two workerd processes sharing one port (service/cluster.ts). Each key has
// one owner process that alone fetches it from the platform; the other asks the owner on a miss.
import { afterAll, beforeAll, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../../scripts/lib/platform";
import { listCaches, provision, startNode, type RunningStadiumNode } from "../support/stadium-node";
import { openChannel, originStats, resetOriginStats, startSeededPlatform, type Platform } from "../support/platform";

let p: Platform;
let node: RunningStadiumNode;
beforeAll(async () => {
  p = await startSeededPlatform({ edgeBindings: { PULL_ZONE_HEARTBEAT_SECONDS: "1" } });
  node = await startNode(p, "stand-cores", { processes: 2 });
});
afterAll(async () => {
  await node?.stop();
  await p?.stop();
});

const uris = (text: string) => text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));

/** The newest segments of the channel's first rendition, as a player would find them through `base`. */
async function newestSegments(base: string, count: number): Promise<string[]> {
  const variant = uris(await (await fetch(`${base}index.m3u8`)).text())[0]!;
  const dir = variant.slice(0, variant.lastIndexOf("/") + 1);
  return uris(await (await fetch(base + variant)).text()).slice(-count).map((s) => dir + s);
}

it("runs as two processes, each answering on its own loopback port and all on the shared one", async () => {
  expect(node.processUrls.length).toBe(2);
  for (const url of [node.url, ...node.processUrls]) {
    const res = await fetch(`${url}/ping`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { id: string }).id).toBe("stand-cores");
  }
});

it("a miss at the process that does not own the key is asked of the owner, not the platform", async () => {
  const v = await openChannel(p, "main");
  const [segment] = await newestSegments(`${node.url}/play/${v.token}/`, 1);
  // Wait for a segment nobody fetched yet: the next one the live playlist lists.
  let fresh = segment!;
  for (let i = 0; i < 40 && fresh === segment; i++) {
    await new Promise((r) => setTimeout(r, 250));
    fresh = (await newestSegments(`${node.url}/play/${v.token}/`, 1))[0]!;
  }
  const before = await node.stats();
  const bodies = await Promise.all(node.processUrls.map(async (url) => {
    const res = await fetch(`${url}/play/${v.token}/${fresh}`);
    expect(res.status).toBe(200);
    return new Uint8Array(await res.arrayBuffer());
  }));
  const after = await node.stats();
  expect(Buffer.from(bodies[0]!).equals(Buffer.from(bodies[1]!))).toBe(true);
  expect(after.segmentUpstreamFetches - before.segmentUpstreamFetches).toBe(1);
  expect(after.peerFetches - before.peerFetches).toBe(1);
  // Both viewers' bytes count as the node's egress; the owner's answer to its peer does not.
  expect(after.bytesServed - before.bytesServed).toBe(2 * bodies[0]!.byteLength);
});

it("with 100 viewers on the shared port, the platform sees each segment once from the node, and the origin once", async () => {
  const viewers = await Promise.all(Array.from({ length: 100 }, () => openChannel(p, "main")));
  await resetOriginStats(p);
  const before = await node.stats();
  const requested = new Set<string>();
  const failures: string[] = [];
  for (let round = 0; round < 3; round++) {
    await Promise.all(
      viewers.map(async (v) => {
        const base = `${node.url}/play/${v.token}/`;
        for (const s of await newestSegments(base, 2)) {
          requested.add(s);
          const res = await fetch(base + s);
          await res.arrayBuffer();
          if (res.status !== 200) failures.push(`${s}: ${res.status}`);
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 1000));
  }
  expect(failures).toEqual([]);
  const after = await node.stats();
  console.log(
    `2 processes: ${after.segmentRequests - before.segmentRequests} segment requests, ${after.segmentUpstreamFetches - before.segmentUpstreamFetches} platform fetches, ${after.peerFetches - before.peerFetches} asked of the owner, for ${requested.size} segments`,
  );
  expect(after.segmentUpstreamFetches - before.segmentUpstreamFetches).toBeLessThanOrEqual(requested.size);
  const origin = await originStats(p);
  for (const [path, count] of Object.entries(origin.byPath)) if (!path.endsWith(".m3u8")) expect(count, path).toBe(1);
});

it("a heartbeat names a viewer whose requests reached both processes once", async () => {
  const v = await openChannel(p, "main");
  const since = (await node.stats()).at;
  for (const url of node.processUrls) expect((await fetch(`${url}/play/${v.token}/index.m3u8`)).status).toBe(200);
  const s = await node.stats(since);
  expect(s.sessionsByEvent.demo!.filter((id) => id === v.sessionId)).toEqual([v.sessionId]);
});

it("a process that dies leaves the node serving: the other takes every connection and its keys come from the platform", async () => {
  expect(node.processPids.length).toBe(2);
  process.kill(node.processPids[1]!, "SIGKILL");
  for (let i = 0; i < 50 && (await fetch(`${node.processUrls[1]}/ping`).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 100));
  const viewers = await Promise.all(Array.from({ length: 20 }, () => openChannel(p, "main")));
  const before = await node.stats();
  const statuses: number[] = [];
  for (let round = 0; round < 3; round++) {
    await Promise.all(
      viewers.map(async (v) => {
        const base = `${node.url}/play/${v.token}/`;
        for (const s of await newestSegments(base, 3)) {
          const res = await fetch(base + s);
          statuses.push(res.status);
          await res.arrayBuffer();
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 1000));
  }
  expect(new Set(statuses)).toEqual(new Set([200]));
  // Heartbeats go on from the live process (1 s here): the node is still listed two intervals later.
  await new Promise((r) => setTimeout(r, 2500));
  expect((await listCaches(p)).map((n) => n.id)).toContain("stand-cores");
  const after = await node.stats();
  expect(after.segmentRequests - before.segmentRequests).toBe(statuses.length);
});

it("the service started as a stadium starts it stops on SIGTERM: it goes offline at the platform and its workerd processes end", async () => {
  const key = await provision(p, "stand-sigterm");
  const stateFile = join(mkdtempSync(join(tmpdir(), "balancer-node-")), "state.json");
  const child = spawn(
    `${ROOT}/node_modules/.bin/tsx`,
    ["workers/stadium-node/service/main.ts", "--platform", p.edgeUrl, "--id", "stand-sigterm", "--port", "0", "--workers", "2", "--registration-key", key, "--state-file", stateFile],
    { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, BALANCER_PREBUILT: "1" } },
  );
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  const listed = async () => (await listCaches(p)).find((n) => n.id === "stand-sigterm");
  for (let i = 0; i < 150 && !(await listed()); i++) await new Promise((r) => setTimeout(r, 200));
  const node = await listed();
  expect(node).toBeDefined();
  expect((await fetch(`${node!.baseUrl}/ping`)).status).toBe(200);
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
  expect(out).toContain("deregistering");
  // Gone from the event at once, not two heartbeat intervals later; and nothing answers on its port.
  expect(await listed()).toBeUndefined();
  expect(await fetch(`${node!.baseUrl}/ping`).then(() => "answered", () => "refused")).toBe("refused");
});
