// Stadium nodes against the real edge and node workers: registration, heartbeats, the event's
// node list, and a node that serves /play/ with public keys only.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generatePlaybackKeys } from "../../scripts/lib/keys";
import { createPrivateKey, sign } from "node:crypto";
import HLS from "hls-parser";
import { heartbeat, listCaches, provision, register, startNode, type RunningStadiumNode } from "../support/stadium-node";
import { adminPut, openChannel, startSeededPlatform, type Platform } from "../support/platform";

/** A token in the platform's format, signed with a key of our own (node:crypto, as an attacker would). */
function forge(claims: Record<string, unknown>, key: { kid: string; x: string; d: string }): string {
  const payload = Buffer.from(JSON.stringify({ v: 1, k: key.kid, ...claims })).toString("base64url");
  const privateKey = createPrivateKey({ key: { kty: "OKP", crv: "Ed25519", x: key.x, d: key.d }, format: "jwk" });
  return `${payload}.${sign(null, Buffer.from(payload), privateKey).toString("base64url")}`;
}

let p: Platform;
let node: RunningStadiumNode;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  p = await startSeededPlatform({ edgeBindings: { PULL_ZONE_HEARTBEAT_SECONDS: "1" } });
  node = await startNode(p, "stand-north");
});
afterAll(async () => {
  await node?.stop();
  await p?.stop();
});

const registration = (id: string) => ({ id, baseUrl: "http://127.0.0.1:9" });
const admin = (method: string, path: string, body?: unknown, token = p.adminToken) =>
  fetch(`${p.edgeUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
async function registered(id: string, eventIds = ["demo"], capacityMbps?: number): Promise<{ key: string; nodeKey: string }> {
  const key = await provision(p, id, { eventIds, capacityMbps });
  const res = await register(p, registration(id), key);
  expect(res.status).toBe(201);
  return { key, nodeKey: ((await res.json()) as { nodeKey: string }).nodeKey };
}

describe("registry", () => {
  it("refuses to register without a key, with a wrong one, another node's, or for an id never provisioned, and lists nothing new", async () => {
    const otherKey = await provision(p, "other-stand");
    const intruderKey = await provision(p, "intruder");
    const attempts = [
      await register(p, registration("intruder"), null),
      await register(p, registration("intruder"), "pzr_not-the-key-0123456789"),
      await register(p, registration("intruder"), otherKey),
      await register(p, registration("never-provisioned"), intruderKey),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(401);
      expect((await res.json()) as unknown).toMatchObject({ error: { code: "unauthenticated" } });
    }
    expect((await listCaches(p)).map((n) => n.id)).not.toContain("intruder");
    expect((await listCaches(p)).map((n) => n.id)).not.toContain("never-provisioned");
  });

  it("refuses a registration whose base URL carries a path or is not http(s)", async () => {
    const key = await provision(p, "bad");
    expect((await register(p, { ...registration("bad"), baseUrl: "http://127.0.0.1:9/x" }, key)).status).toBe(400);
    expect((await register(p, { ...registration("bad"), baseUrl: "ftp://127.0.0.1" }, key)).status).toBe(400);
  });

  it("registers a node with its own key, its name and events from the provisioning, and answers with the public verify keys only", async () => {
    const key = await provision(p, "east", { name: "East stand", eventIds: ["demo"] });
    // A v1 node still sends its own name and events: they are ignored.
    const res = await register(p, { ...registration("east"), name: "Pretender", eventIds: ["premium-event"] }, key);
    expect(res.status).toBe(201);
    const body = (await res.json()) as { id: string; name: string; eventIds: string[]; nodeKey: string; heartbeatIntervalSeconds: number; verifyKeys: Record<string, unknown>[] };
    expect(body).toMatchObject({ id: "east", name: "East stand", eventIds: ["demo"], heartbeatIntervalSeconds: 1 });
    expect(body.nodeKey).toMatch(/^pzk_[0-9a-f]{64}$/);
    expect(body.verifyKeys.length).toBeGreaterThan(0);
    for (const k of body.verifyKeys) expect(Object.keys(k).sort()).toEqual(["kid", "x"]);
    // Listed from its first heartbeat on: registering alone does not make a node healthy.
    expect((await listCaches(p)).map((n) => n.id)).not.toContain("east");
    expect((await heartbeat(p, "east", body.nodeKey)).status).toBe(200);
    const listed = (await listCaches(p)).find((n) => n.id === "east");
    expect(listed).toEqual({ id: "east", name: "East stand", pingUrl: "http://127.0.0.1:9/ping", baseUrl: "http://127.0.0.1:9", healthy: true, full: false });
  });

  it("a heartbeat with a wrong key gets 401 and does not keep the node healthy; two missed intervals drop it", async () => {
    const { nodeKey } = await registered("west");
    for (let i = 0; i < 6; i++) {
      const res = await heartbeat(p, "west", "pzk_wrong", { activeViewers: 5, egressBytes: 1000 });
      expect(res.status).toBe(401);
      await sleep(500);
    }
    expect((await listCaches(p)).map((n) => n.id)).not.toContain("west");
    const ok = await heartbeat(p, "west", nodeKey, { activeViewers: 1, egressBytes: 10, cacheHitRatio: 0.5 });
    expect(ok.status).toBe(200);
    expect(Date.parse(((await ok.json()) as { healthyUntil: string }).healthyUntil)).toBeGreaterThan(Date.now());
    expect((await listCaches(p)).map((n) => n.id)).toContain("west");
  });

  it("a heartbeat for an unknown node gets 404, and GET caches of an unknown event 404", async () => {
    expect((await heartbeat(p, "nobody", "pzk_x")).status).toBe(404);
    expect((await fetch(`${p.edgeUrl}/api/v1/events/no-such-event/caches`)).status).toBe(404);
  });

  it("goes offline with the node key or the operator token, not with a wrong key, and stays provisioned", async () => {
    const { key, nodeKey } = await registered("south");
    await heartbeat(p, "south", nodeKey);
    const del = (bearer: string) => fetch(`${p.edgeUrl}/api/v1/pull-zones/south`, { method: "DELETE", headers: { authorization: `Bearer ${bearer}` } });
    expect((await del("pzk_wrong")).status).toBe(401);
    expect((await del(key)).status).toBe(401);
    expect((await listCaches(p)).map((n) => n.id)).toContain("south");
    expect((await del(nodeKey)).status).toBe(204);
    expect((await del(nodeKey)).status).toBe(404);
    expect((await listCaches(p)).map((n) => n.id)).not.toContain("south");
    expect((await register(p, registration("south"), key)).status).toBe(201);
    expect((await del(p.adminToken)).status).toBe(204);
  });

  it("each key opens only its own door: the registration key does not heartbeat, the node key does not register, neither reaches the operator API", async () => {
    const { key, nodeKey } = await registered("doors");
    expect((await heartbeat(p, "doors", key)).status).toBe(401);
    expect((await register(p, registration("doors"), nodeKey)).status).toBe(401);
    for (const bearer of [key, nodeKey]) {
      expect((await admin("GET", "/admin/pull-zones", undefined, bearer)).status).toBe(401);
      expect((await admin("POST", "/admin/pull-zones/doors/registration-key", undefined, bearer)).status).toBe(401);
      expect((await admin("PUT", "/admin/pull-zones/doors", { name: "x", eventIds: ["demo", "premium-event"] }, bearer)).status).toBe(401);
      expect((await admin("DELETE", "/admin/pull-zones/doors", undefined, bearer)).status).toBe(401);
      expect((await admin("GET", "/admin/events/demo/stats", undefined, bearer)).status).toBe(401);
    }
    // The node key still heartbeats: nothing above changed the node.
    expect((await heartbeat(p, "doors", nodeKey)).status).toBe(200);
  });
});

describe("operator provisioning", () => {
  it("shows a new node's registration key once; a second PUT changes the node and keeps its key", async () => {
    const first = await admin("PUT", "/admin/pull-zones/prov-a", { name: "Prov A", eventIds: ["demo"], capacityMbps: 500 });
    expect(first.status).toBe(201);
    expect(first.headers.get("cache-control")).toBe("no-store");
    const created = (await first.json()) as { registrationKey: string };
    expect(created).toEqual({ id: "prov-a", name: "Prov A", eventIds: ["demo"], capacityMbps: 500, registrationKey: expect.stringMatching(/^pzr_[0-9a-f]{64}$/) });
    const again = await admin("PUT", "/admin/pull-zones/prov-a", { name: "Prov A, renamed", eventIds: ["demo"] });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ id: "prov-a", name: "Prov A, renamed", eventIds: ["demo"] });
    const reg = await register(p, registration("prov-a"), created.registrationKey);
    expect(reg.status).toBe(201);
    expect(((await reg.json()) as { name: string }).name).toBe("Prov A, renamed");
  });

  it("refuses an unknown event (404), a bad body (400), and anyone without the operator token (401), storing nothing", async () => {
    expect((await admin("PUT", "/admin/pull-zones/prov-b", { name: "B", eventIds: ["no-such-event"] })).status).toBe(404);
    expect((await admin("PUT", "/admin/pull-zones/prov-b", { name: "B", eventIds: [] })).status).toBe(400);
    expect((await admin("PUT", "/admin/pull-zones/prov-b", { name: "B", eventIds: ["demo"], capacityMbps: -1 })).status).toBe(400);
    expect((await admin("PUT", "/admin/pull-zones/prov-b", { name: "B", eventIds: ["demo"] }, "not-the-operator")).status).toBe(401);
    expect((await admin("PUT", "/admin/pull-zones/Bad%20Id", { name: "B", eventIds: ["demo"] })).status).toBe(400);
    const list = (await (await admin("GET", "/admin/pull-zones")).json()) as { id: string }[];
    expect(list.map((n) => n.id)).not.toContain("prov-b");
    // Never provisioned: it has no key to rotate and nothing to decommission.
    expect((await admin("POST", "/admin/pull-zones/prov-b/registration-key")).status).toBe(404);
    expect((await admin("DELETE", "/admin/pull-zones/prov-b")).status).toBe(404);
  });

  it("rotating the registration key stops the old one at once; the running node keeps its node key", async () => {
    const { key, nodeKey } = await registered("prov-c");
    const rotated = await admin("POST", "/admin/pull-zones/prov-c/registration-key");
    expect(rotated.status).toBe(200);
    const { registrationKey } = (await rotated.json()) as { registrationKey: string };
    expect(registrationKey).not.toBe(key);
    expect((await register(p, registration("prov-c"), key)).status).toBe(401);
    expect((await heartbeat(p, "prov-c", nodeKey)).status).toBe(200);
    expect((await register(p, registration("prov-c"), registrationKey)).status).toBe(201);
  });

  it("a decommissioned node leaves the event at once and can neither register nor heartbeat", async () => {
    const { key, nodeKey } = await registered("prov-d");
    expect((await heartbeat(p, "prov-d", nodeKey)).status).toBe(200);
    expect((await listCaches(p)).map((n) => n.id)).toContain("prov-d");
    expect((await admin("DELETE", "/admin/pull-zones/prov-d")).status).toBe(204);
    expect((await listCaches(p)).map((n) => n.id)).not.toContain("prov-d");
    expect((await heartbeat(p, "prov-d", nodeKey)).status).toBe(404);
    expect((await register(p, registration("prov-d"), key)).status).toBe(401);
    expect((await admin("DELETE", "/admin/pull-zones/prov-d")).status).toBe(404);
    const list = (await (await admin("GET", "/admin/pull-zones")).json()) as { id: string }[];
    expect(list.map((n) => n.id)).not.toContain("prov-d");
    // Provisioned again, it is a new node with a new key; the old key stays dead.
    const again = await admin("PUT", "/admin/pull-zones/prov-d", { name: "D again", eventIds: ["demo"] });
    expect(again.status).toBe(201);
    expect((await register(p, registration("prov-d"), key)).status).toBe(401);
  });

  it("lists the provisioned nodes with health, viewers and egress against capacity", async () => {
    const { nodeKey } = await registered("prov-e", ["demo"], 200);
    await sleep(1100);
    expect((await heartbeat(p, "prov-e", nodeKey, { activeViewers: 7, egressBytes: 1_250_000, cacheHitRatio: 0.9 })).status).toBe(200);
    await provision(p, "prov-f");
    const res = await admin("GET", "/admin/pull-zones");
    expect(res.status).toBe(200);
    const list = (await res.json()) as { id: string; healthy: boolean; registered: boolean; activeViewers: number; egressBps: number; capacityMbps?: number; full: boolean; name: string }[];
    const e = list.find((n) => n.id === "prov-e")!;
    expect(e).toMatchObject({ name: "prov-e", healthy: true, registered: true, activeViewers: 7, capacityMbps: 200, full: false, cacheHitRatio: 0.9 });
    // 10 Mbit over the interval since registration (a little more than 1.1 s, at most 2 s: 5-9.1 Mbit/s), as
    // the first step of a rate smoothed over 10 s (weight 1 - e^(-t/10 s): 0.104-0.181).
    expect(e.egressBps).toBeGreaterThan(5e6 * 0.104);
    expect(e.egressBps).toBeLessThan(9.1e6 * 0.181);
    expect(list.find((n) => n.id === "prov-f")).toMatchObject({ registered: false, healthy: false, activeViewers: 0, egressBps: 0 });
    expect((await admin("GET", "/admin/pull-zones", undefined, "nope")).status).toBe(401);
  });
});

describe("egress a node reports", () => {
  it("is clamped to what its capacity could carry: a 1e15-byte report does not keep new viewers out", async () => {
    expect((await adminPut(p, "/admin/events/clamp", { title: "Clamp", limits: { maxEgressMbps: 50 } })).status).toBe(200);
    expect((await adminPut(p, "/admin/events/clamp/channels/main", { title: "main", originUrl: `${p.originUrl}/live/main/index.m3u8`, paid: false })).status).toBe(200);
    const { nodeKey } = await registered("clamp-node", ["clamp"], 10);
    for (let i = 0; i < 3; i++) {
      await sleep(1000);
      const res = await heartbeat(p, "clamp-node", nodeKey, { activeViewers: 1, egressBytes: 1e15, egressBytesByEvent: { clamp: 1e15 } });
      expect(res.status).toBe(200);
    }
    const stats = (await (await admin("GET", "/admin/events/clamp/stats")).json()) as { egressBpsNodes: number };
    // At most its 10 Mbit/s: the last heartbeat's accepted bytes over at least the time its capacity needs for them,
    // far under the 50 Mbit/s budget.
    expect(stats.egressBpsNodes).toBeGreaterThan(0);
    expect(stats.egressBpsNodes).toBeLessThanOrEqual(10e6);
    const access = await fetch(`${p.edgeUrl}/api/v1/events/clamp/channels/main/access`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(access.status).toBe(200);
    const list = (await (await admin("GET", "/admin/pull-zones")).json()) as { id: string; clampedBytesTotal: number }[];
    expect(list.find((n) => n.id === "clamp-node")!.clampedBytesTotal).toBeGreaterThan(2.9e15);
  });
});

describe("stadium node", () => {
  it("answers /ping with its id, events and status, and stays listed while it heartbeats", async () => {
    const res = await fetch(`${node.url}/ping`);
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(await res.json()).toEqual({ id: "stand-north", eventIds: ["demo"], status: "ok" });
    await sleep(2500);
    expect((await listCaches(p)).find((n) => n.id === "stand-north")).toMatchObject({ pingUrl: `${node.url}/ping`, healthy: true });
  });

  it("serves the same /play/ paths as the edge, fetching each segment from the platform once", async () => {
    const viewers = await Promise.all([0, 1, 2, 3].map(() => openChannel(p, "main")));
    const nodeUrl = (v: { token: string }, key: string) => `${node.url}/play/${v.token}/${key}`;
    const mv = await fetch(nodeUrl(viewers[0]!, "index.m3u8"));
    expect(mv.status).toBe(200);
    const variant = (await mv.text()).split("\n").find((l) => l && !l.startsWith("#"))!;
    const media = await (await fetch(nodeUrl(viewers[0]!, variant))).text();
    const dir = variant.slice(0, variant.lastIndexOf("/") + 1);
    const segment = dir + media.split("\n").filter((l) => l && !l.startsWith("#")).pop()!;
    const before = await node.stats();
    const bodies = await Promise.all(viewers.flatMap((v) => [fetch(nodeUrl(v, segment)), fetch(nodeUrl(v, segment))]).map(async (r) => {
      const res = await r;
      expect(res.status).toBe(200);
      return (await res.arrayBuffer()).byteLength;
    }));
    const after = await node.stats();
    expect(new Set(bodies).size).toBe(1);
    expect(bodies[0]).toBeGreaterThan(1000);
    expect(after.segmentUpstreamFetches - before.segmentUpstreamFetches).toBe(1);
    expect(after.segmentRequests - before.segmentRequests).toBe(8);
    const ranged = await fetch(nodeUrl(viewers[1]!, segment), { headers: { range: "bytes=0-99" } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get("content-range")).toBe(`bytes 0-99/${bodies[0]}`);
    expect((await ranged.arrayBuffer()).byteLength).toBe(100);
  });

  it("refuses a token signed by anyone but the platform with 403 invalid_token, the edge's error shape", async () => {
    const foreign = generatePlaybackKeys();
    const { sessionId } = await openChannel(p, "main");
    const forged = forge({ s: sessionId, e: "demo", c: "main", x: Math.floor(Date.now() / 1000) + 600 }, foreign.signingKey);
    for (const key of ["index.m3u8", "ts-360p/seg-1.ts"]) {
      const res = await fetch(`${node.url}/play/${forged}/${key}`);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_token");
    }
    // Same key id as the platform's but a different key: still refused.
    const { token } = await openChannel(p, "main");
    const kid = JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString()).k as string;
    const impostor = forge({ s: sessionId, e: "demo", c: "main", x: Math.floor(Date.now() / 1000) + 600 }, { ...foreign.signingKey, kid });
    expect((await fetch(`${node.url}/play/${impostor}/index.m3u8`)).status).toBe(403);
  });
});

describe("leases of viewers who watch through a node", () => {
  async function leaseEvent(eventId: string): Promise<void> {
    expect((await adminPut(p, `/admin/events/${eventId}`, { title: eventId, limits: { maxSessions: 10, leaseSeconds: 10 } })).status).toBe(200);
    expect((await adminPut(p, `/admin/events/${eventId}/channels/main`, { title: "main", originUrl: `${p.originUrl}/live/main/index.m3u8`, paid: false })).status).toBe(200);
  }
  const activeSessions = async (eventId: string) =>
    ((await (await fetch(`${p.edgeUrl}/api/v1/admin/events/${eventId}/stats`, { headers: { authorization: `Bearer ${p.adminToken}` } })).json()) as { activeSessions: number }).activeSessions;

  it("renews the sessions a node's heartbeats name, only for the node's own events", async () => {
    await leaseEvent("nodelease");
    await leaseEvent("otherlease");
    const { nodeKey } = await registered("lease-node", ["nodelease"]);
    const watching = await openChannel(p, "main", "nodelease");
    const gone = await openChannel(p, "main", "nodelease");
    const foreign = await openChannel(p, "main", "otherlease");
    expect(await activeSessions("nodelease")).toBe(2);

    // 20 s of heartbeats naming `watching` (and, wrongly, a session of an event the node does not serve):
    // past the 15 s a lease lasts (10 s plus the 5 s report allowance) without a word from the edge.
    const until = Date.now() + 20_000;
    while (Date.now() < until) {
      const res = await heartbeat(p, "lease-node", nodeKey, {
        activeViewers: 1,
        egressBytes: 0,
        activeSessionsByEvent: { nodelease: [watching.sessionId], otherlease: [foreign.sessionId] },
      });
      expect(res.status).toBe(200);
      await sleep(2_500);
    }
    expect(await activeSessions("nodelease")).toBe(1);
    expect(await activeSessions("otherlease")).toBe(0);
    expect((await fetch(watching.playbackUrl)).status).toBe(200);
    // The edge learns of the expiry with its next report of the event (once per lease, 10 s here).
    let status = 0;
    for (const stop = Date.now() + 15_000; Date.now() < stop && status !== 410; await sleep(1_000)) {
      status = (await fetch(gone.playbackUrl)).status;
    }
    expect(status).toBe(410);
  });

  it("a heartbeat at stadium size (50,000 sessions) renews every real one, invents none, and renews no other event's", async () => {
    await leaseEvent("bigbeat");
    await leaseEvent("bigbeat-other");
    const { nodeKey } = await registered("big-node", ["bigbeat"]);
    const real = await Promise.all([0, 1, 2].map(() => openChannel(p, "main", "bigbeat")));
    const foreign = await openChannel(p, "main", "bigbeat-other");
    const synthetic = Array.from({ length: 50_000 - real.length - 1 }, (_, i) => `ses_${i.toString(16).padStart(32, "0")}`);
    const named = [...synthetic.slice(0, 25_000), ...real.map((v) => v.sessionId), foreign.sessionId, ...synthetic.slice(25_000)];
    expect(named.length).toBe(50_000);
    // Past the 15 s a lease lasts without a word from the edge (10 s plus the 5 s report allowance).
    const until = Date.now() + 20_000;
    let ended: string[] = [];
    while (Date.now() < until) {
      const res = await heartbeat(p, "big-node", nodeKey, { activeViewers: 50_000, egressBytes: 0, activeSessionsByEvent: { bigbeat: named, "bigbeat-other": [foreign.sessionId] } });
      expect(res.status).toBe(200);
      ended = ((await res.json()) as { endedSessionIds: string[] }).endedSessionIds;
      await sleep(2_500);
    }
    expect(await activeSessions("bigbeat")).toBe(3);
    expect(await activeSessions("bigbeat-other")).toBe(0);
    // The node is told that every id the event does not hold is over: the synthetic ones and the foreign one.
    expect(ended.length).toBe(synthetic.length + 1);
    expect(ended).toContain(foreign.sessionId);
    for (const v of real) {
      expect(ended).not.toContain(v.sessionId);
      expect((await fetch(v.playbackUrl)).status).toBe(200);
    }
  });

  it("refuses the next playlist of a session released at the platform while it watches through the node", async () => {
    const v = await openChannel(p, "main");
    const other = await openChannel(p, "main");
    const nodePlaylist = (t: string) => fetch(`${node.url}/play/${t}/index.m3u8`);
    expect((await nodePlaylist(v.token)).status).toBe(200);
    expect((await nodePlaylist(other.token)).status).toBe(200);
    const released = await fetch(`${p.edgeUrl}/api/v1/sessions/${v.sessionId}`, { method: "DELETE", headers: { authorization: `Bearer ${v.token}` } });
    expect(released.status).toBe(204);
    // The released viewer keeps reloading; the node names it in its next heartbeat (every 1 s here), and
    // the answer says it is over.
    for (let i = 0; i < 5; i++) {
      await (await nodePlaylist(v.token)).arrayBuffer();
      await sleep(500);
    }
    // Refused by the node itself, not by the platform behind it: right after another viewer got the
    // node's copy of the multivariant with seconds of freshness left, the released viewer's request is a hit.
    let refused = false;
    for (let attempt = 0; attempt < 30 && !refused; attempt++) {
      const fill = await nodePlaylist(other.token);
      await fill.arrayBuffer();
      expect(fill.status).toBe(200);
      if (Number(/max-age=(\d+)/.exec(fill.headers.get("cache-control") ?? "")?.[1] ?? 0) < 2) {
        await sleep(300);
        continue;
      }
      const res = await nodePlaylist(v.token);
      await res.arrayBuffer();
      expect(res.status).toBe(410);
      refused = true;
    }
    expect(refused).toBe(true);
  });

  it("answers a heartbeat with the sessions it named that are over", async () => {
    const { nodeKey } = await registered("ended-node");
    const gone = await openChannel(p, "main");
    const playing = await openChannel(p, "main");
    expect((await fetch(`${p.edgeUrl}/api/v1/sessions/${gone.sessionId}`, { method: "DELETE", headers: { authorization: `Bearer ${gone.token}` } })).status).toBe(204);
    const res = await heartbeat(p, "ended-node", nodeKey, { activeViewers: 2, egressBytes: 0, activeSessionsByEvent: { demo: [gone.sessionId, playing.sessionId] } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { endedSessionIds: string[] }).endedSessionIds).toEqual([gone.sessionId]);
  });

  it("refuses the node's own routes without its stats key", async () => {
    expect((await fetch(`${node.url}/_node/stats`)).status).toBe(401);
    const res = await fetch(`${node.url}/_node/ended`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ sessionIds: ["ses_x"] }) });
    expect(res.status).toBe(401);
  });

  it("refuses a heartbeat naming more than 100,000 sessions with 400, changing nothing", async () => {
    const { nodeKey } = await registered("flood-node");
    const ids = Array.from({ length: 50_001 }, (_, i) => `ses_${i}`);
    const res = await heartbeat(p, "flood-node", nodeKey, { activeViewers: 0, egressBytes: 0, activeSessionsByEvent: { demo: ids, other: ids } });
    expect(res.status).toBe(400);
    expect((await res.json()) as unknown).toMatchObject({ error: { code: "invalid_request" } });
  });

  it("a running node names the sessions it served in its next heartbeat", async () => {
    const v = await openChannel(p, "main");
    const since = (await node.stats()).at;
    expect((await fetch(`${node.url}/play/${v.token}/index.m3u8`)).status).toBe(200);
    const s = await node.stats(since);
    expect(s.sessionsByEvent.demo).toContain(v.sessionId);
    expect((await node.stats(s.at + 1)).sessionsByEvent.demo ?? []).not.toContain(v.sessionId);
  });
});

describe("the quality cap on a node", () => {
  it("refuses a capped viewer a higher rendition that an uncapped viewer already put in the node's cache", async () => {
    const put = (limits: Record<string, number>) => adminPut(p, "/admin/events/capnode", { title: "Cap on a node", limits });
    expect((await put({ maxEgressMbps: 0.3 })).status).toBe(200);
    expect((await adminPut(p, "/admin/events/capnode/channels/main", { title: "main", originUrl: `${p.originUrl}/live/x/index.m3u8`, paid: false })).status).toBe(200);
    // Granted while the budget fits only the lowest rendition: this viewer's token is capped.
    const capped = await openChannel(p, "main", "capnode");
    expect((await put({})).status).toBe(200);
    const open = await openChannel(p, "main", "capnode");
    const capNode = await startNode(p, "cap-node", { eventIds: ["capnode"] });
    try {
      const at = (v: { token: string }, key: string) => fetch(`${capNode.url}/play/${v.token}/${key}`);
      const ladder = HLS.parse(await (await at(open, "index.m3u8")).text());
      if (!ladder.isMasterPlaylist) throw new Error("expected a multivariant playlist");
      const top = [...ladder.variants].sort((a, b) => b.bandwidth - a.bandwidth)[0]!.uri;
      const media = HLS.parse(await (await at(open, top)).text());
      if (media.isMasterPlaylist) throw new Error("expected a media playlist");
      const segment = top.replace(/[^/]*$/, "") + media.segments[Math.floor(media.segments.length / 2)]!.uri;
      expect((await at(open, segment)).status).toBe(200);
      const before = await capNode.stats();
      for (const key of [top, segment]) {
        const res = await at(capped, key);
        expect(res.status, key).toBe(403);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("forbidden");
      }
      // Refused by the node from its own copy, not by the platform behind it.
      const after = await capNode.stats();
      expect(after.segmentUpstreamFetches - before.segmentUpstreamFetches).toBe(0);
    } finally {
      await capNode.stop();
    }
  });
});
