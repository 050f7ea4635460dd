// Switching between a stadium node and the edge as the platform emits it: the multivariant's steering tag
// and node pathways, the steering manifest, and media playlists for players without steering.
import { afterAll, beforeAll, expect, it } from "vitest";
import { chooseCache, listCaches, startNode, type RunningStadiumNode } from "../support/stadium-node";
import { addChannel, openChannel, startSeededPlatform, type Platform } from "../support/platform";

let p: Platform;
let node: RunningStadiumNode | undefined;
beforeAll(async () => {
  p = await startSeededPlatform({ edgeBindings: { PULL_ZONE_HEARTBEAT_SECONDS: "1", STEERING_TTL_SECONDS: "2" } });
});
afterAll(async () => {
  await node?.stop();
  await p?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const text = async (url: string) => (await fetch(url)).text();
const steeringOf = async (v: { token: string }) => (await (await fetch(`${p.edgeUrl}/play/${v.token}/steering.json?_HLS_pathway=edge&_HLS_throughput=1000`)).json()) as Record<string, unknown>;

it("an event without nodes gets the shared multivariant, without a steering tag", async () => {
  const v = await openChannel(p, "main");
  const mv = await text(v.playbackUrl);
  expect(mv).not.toContain("EXT-X-CONTENT-STEERING");
  expect(mv).not.toContain("PATHWAY-ID");
});

it("with a node, a viewer who reached it starts on the node's pathway and steering.json puts it first", async () => {
  node = await startNode(p, "stand-north");
  await sleep(1100); // the edge's copy of the event's node list is at most a second old
  const v = await openChannel(p, "main");
  expect((await chooseCache(p, v.sessionId, v.token, "stand-north")).status).toBe(200);
  const mv = await text(v.playbackUrl);
  const pathway = `pz-stand-north.${node.incarnation}`;
  expect(mv).toContain(`#EXT-X-CONTENT-STEERING:SERVER-URI="steering.json",PATHWAY-ID="${pathway}"`);
  expect(mv).toMatch(/PATHWAY-ID="edge"\n[^#h][^\n]*\.m3u8/); // edge variants stay relative
  expect(mv).toContain(`PATHWAY-ID="pz-stand-north"`);
  expect(mv).toContain(`PATHWAY-ID="${pathway}"\n${node.url}/play/${v.token}/`);
  const manifest = await steeringOf(v);
  expect(manifest).toEqual({
    VERSION: 1,
    TTL: 2,
    "PATHWAY-PRIORITY": [pathway, "edge"],
    "PATHWAY-CLONES": [{ "BASE-ID": "pz-stand-north", ID: pathway, "URI-REPLACEMENT": { HOST: "127.0.0.1" } }],
  });
});

it("steering.json never answers 429, and lists only the edge for a viewer who reached no node", async () => {
  const v = await openChannel(p, "main");
  const statuses = await Promise.all(Array.from({ length: 60 }, () => fetch(`${p.edgeUrl}/play/${v.token}/steering.json`).then((r) => r.status)));
  expect(new Set(statuses)).toEqual(new Set([200]));
  expect((await steeringOf(v))["PATHWAY-PRIORITY"]).toEqual(["edge"]);
  const mv = await text(v.playbackUrl);
  expect(mv).toContain(`#EXT-X-CONTENT-STEERING:SERVER-URI="steering.json",PATHWAY-ID="edge"`);
});

it("a viewer reports a new node or none later, and steering follows; a token of another session is refused", async () => {
  const v = await openChannel(p, "main");
  const other = await openChannel(p, "main");
  expect((await chooseCache(p, v.sessionId, other.token, "stand-north")).status).toBe(403);
  await chooseCache(p, v.sessionId, v.token, "stand-north");
  expect((await steeringOf(v))["PATHWAY-PRIORITY"]).toEqual([`pz-stand-north.${node!.incarnation}`, "edge"]);
  await chooseCache(p, v.sessionId, v.token, null);
  expect((await steeringOf(v))["PATHWAY-PRIORITY"]).toEqual(["edge"]);
  // The session is still admitted: its playlists still play.
  expect((await fetch(v.playbackUrl)).status).toBe(200);
});

it("a node's own upstream requests get the shared playlists, with no viewer's links in them", async () => {
  const v = await openChannel(p, "main");
  await chooseCache(p, v.sessionId, v.token, "stand-north", false);
  const mv = await text(`${node!.url}/play/${v.token}/index.m3u8`);
  expect(mv).not.toContain("http");
  const variant = mv.split("\n").find((l) => l && !l.startsWith("#"))!;
  expect(await text(`${node!.url}/play/${v.token}/${variant}`)).not.toContain("http");
});

it("a channel whose playback URL is a single media playlist is steered too: without steering its index.m3u8 points at the node", async () => {
  // Many origins publish one rendition: index.m3u8 is then a media playlist, reloaded every target duration.
  await addChannel(p, "single", `${p.originUrl}/live/single/ts-360p/index.m3u8`);
  const legacy = await openChannel(p, "single");
  expect((await chooseCache(p, legacy.sessionId, legacy.token, "stand-north", false)).status).toBe(200);
  await sleep(1100); // the edge's copy of the event's node view is at most a second old
  for (let reload = 0; reload < 2; reload++) {
    const media = await text(legacy.playbackUrl);
    expect(media).toContain("#EXTINF:");
    const segments = media.split("\n").filter((l) => l && !l.startsWith("#"));
    expect(segments.length).toBeGreaterThan(0);
    for (const s of segments) expect(s.startsWith(`${node!.url}/play/${legacy.token}/`)).toBe(true);
  }
  // A viewer whose player steers gets the shared playlist: a media playlist has no pathways to offer.
  const steering = await openChannel(p, "single");
  expect((await chooseCache(p, steering.sessionId, steering.token, "stand-north", true)).status).toBe(200);
  const media = await text(steering.playbackUrl);
  expect(media).not.toContain("EXT-X-CONTENT-STEERING");
  for (const s of media.split("\n").filter((l) => l && !l.startsWith("#"))) expect(s.startsWith("http")).toBe(false);
});

it("with steering off, media playlists point at the viewer's healthy node, and at the edge again once it is gone", async () => {
  const v = await openChannel(p, "main");
  expect((await chooseCache(p, v.sessionId, v.token, "stand-north", false)).status).toBe(200);
  const mv = await text(v.playbackUrl);
  expect(mv).not.toContain("EXT-X-CONTENT-STEERING");
  const variant = mv.split("\n").find((l) => l && !l.startsWith("#"))!;
  await sleep(1100); // the edge's copy of the event's node view is at most a second old
  const media = await text(`${p.edgeUrl}/play/${v.token}/${variant}`);
  const segments = media.split("\n").filter((l) => l && !l.startsWith("#"));
  expect(segments.length).toBeGreaterThan(0);
  for (const s of segments) expect(s.startsWith(`${node!.url}/play/${v.token}/`)).toBe(true);
  expect((await fetch(segments[0]!)).status).toBe(200);

  await node!.stop({ deregister: false }); // the box loses power: no goodbye
  node = undefined;
  await sleep(3200); // two missed heartbeat intervals, plus the edge's one-second view
  const after = await text(`${p.edgeUrl}/play/${v.token}/${variant}`);
  for (const s of after.split("\n").filter((l) => l && !l.startsWith("#"))) expect(s.startsWith("http")).toBe(false);
});

it("a full node takes no new viewers: one who chooses it now is steered to the edge, its own viewers keep playing from it", async () => {
  // 0.2 Mbit/s: one viewer pulling segments fills it within seconds (heartbeats every 1 s here).
  const small = await startNode(p, "stand-small", { capacityMbps: 0.2 });
  let playing = true;
  let player: Promise<void> = Promise.resolve();
  try {
    await sleep(1100);
    const early = await openChannel(p, "main");
    const earlyLegacy = await openChannel(p, "main");
    expect((await chooseCache(p, early.sessionId, early.token, "stand-small")).status).toBe(200);
    expect((await chooseCache(p, earlyLegacy.sessionId, earlyLegacy.token, "stand-small", false)).status).toBe(200);
    const pathway = `pz-stand-small.${small.incarnation}`;
    expect((await steeringOf(early))["PATHWAY-PRIORITY"]).toEqual([pathway, "edge"]);

    // The early viewer plays from the node all along; the node's heartbeats report it full.
    const mv = await text(`${small.url}/play/${early.token}/index.m3u8`);
    const variant = mv.split("\n").find((l) => l && !l.startsWith("#"))!;
    const dir = variant.slice(0, variant.lastIndexOf("/") + 1);
    const statuses: number[] = [];
    player = (async () => {
      while (playing) {
        const media = await text(`${small.url}/play/${early.token}/${variant}`);
        for (const s of media.split("\n").filter((l) => l && !l.startsWith("#")).slice(-3)) {
          const res = await fetch(`${small.url}/play/${early.token}/${dir}${s}`);
          statuses.push(res.status);
          await res.arrayBuffer();
        }
        await sleep(300);
      }
    })();
    let full = false;
    for (const stop = Date.now() + 20_000; Date.now() < stop && !full; await sleep(300)) {
      full = (await listCaches(p)).find((n) => n.id === "stand-small")?.full === true;
    }
    expect(full).toBe(true);

    // A viewer choosing the full node now stays on the edge, with steering and without.
    const late = await openChannel(p, "main");
    const lateLegacy = await openChannel(p, "main");
    expect((await chooseCache(p, late.sessionId, late.token, "stand-small")).status).toBe(200);
    expect((await chooseCache(p, lateLegacy.sessionId, lateLegacy.token, "stand-small", false)).status).toBe(200);
    expect((await steeringOf(late))["PATHWAY-PRIORITY"]).toEqual(["edge"]);
    expect(await text(late.playbackUrl)).toContain(`#EXT-X-CONTENT-STEERING:SERVER-URI="steering.json",PATHWAY-ID="edge"`);
    await sleep(1100); // the edge's copy of the event's node view is at most a second old
    const lateMedia = await text(`${p.edgeUrl}/play/${lateLegacy.token}/${variant}`);
    for (const s of lateMedia.split("\n").filter((l) => l && !l.startsWith("#"))) expect(s.startsWith("http")).toBe(false);

    // The early viewers stay on it, even when their apps report the same node again.
    expect((await chooseCache(p, early.sessionId, early.token, "stand-small")).status).toBe(200);
    expect((await steeringOf(early))["PATHWAY-PRIORITY"]).toEqual([pathway, "edge"]);
    const earlyMedia = await text(`${p.edgeUrl}/play/${earlyLegacy.token}/${variant}`);
    const earlySegments = earlyMedia.split("\n").filter((l) => l && !l.startsWith("#"));
    expect(earlySegments.length).toBeGreaterThan(0);
    for (const s of earlySegments) expect(s.startsWith(`${small.url}/play/${earlyLegacy.token}/`)).toBe(true);
    expect(statuses.length).toBeGreaterThan(3);
    expect(new Set(statuses)).toEqual(new Set([200]));
  } finally {
    playing = false;
    await player;
    await small.stop();
  }
});
