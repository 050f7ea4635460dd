// Latency end to end: hls.js (lowLatencyMode) plays the LL-HLS channel (multivariant and single media playlist)
// and the regular live channel from the origin directly, through the edge and through a stadium node, and the
// test prints wall clock minus the program date time of the frame playing (hls.js `playingDate`), median of
// samples. Prints figures; asserts only that each path plays without a fatal error (timing goals live in the
// README, not in assertions).
//
// The player catches up (hls.js `maxLiveSyncPlaybackRate`, up to 1.5×; it used at most 1.1× here) as LL players
// are set up to: without it, headless Chromium on this 2-core machine falls ~40 ms a second further behind the
// wall clock (2.1 s after start, 2.8 s 15 s later, origin direct), and the figure says how long the test watched.
import { mkdirSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { launchBrowser, openPlayer } from "../support/browser";
import { addChannel, openChannel, startSeededPlatform, type Platform } from "../support/platform";
import { chooseCache, startNode, type RunningStadiumNode } from "../support/stadium-node";

const NODE_ID = "stand-latency";
/** Seconds of playback before sampling (startup, first catch-up), and seconds sampled, four samples a second. */
const WARM_UP_S = 4;
const SAMPLE_S = 12;
const PLAYER = { lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.5 };

let p: Platform;
let node: RunningStadiumNode;
let browser: Browser;

beforeAll(async () => {
  [p, browser] = await Promise.all([
    startSeededPlatform({ edgeBindings: { PULL_ZONE_HEARTBEAT_SECONDS: "1", STEERING_TTL_SECONDS: "2" } }),
    // The player page is fulfilled by the test (no address of its own): Chromium's Local Network Access would
    // take it for a public page and refuse its requests to the node on 127.0.0.1 (docs/stadium-nodes.md).
    launchBrowser(["--disable-features=LocalNetworkAccessChecks,PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults"]),
  ]);
  await addChannel(p, "ll-multi", `${p.originUrl}/ll/latency/index.m3u8`);
  await addChannel(p, "ll-single", `${p.originUrl}/ll/latency/media.m3u8`);
  node = await startNode(p, NODE_ID, { capacityMbps: 1000 });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await node?.stop();
  await p?.stop();
});

type PlayerLog = { type: string; fatal?: boolean; details?: string; url?: string }[];

interface Measurement {
  path: string;
  medianS: number | null;
  samples: number;
  fatal: PlayerLog;
  errors: PlayerLog;
  /** Media requests (parts, segments, init sections) by host, and playlist requests by host. */
  media: Record<string, number>;
  playlists: Record<string, number>;
  /** What the player asked for the LL way: parts, blocking reloads (_HLS_msn), delta updates (_HLS_skip). */
  ll: { parts: number; blockingReloads: number; deltaUpdates: number };
  failedRequests: string[];
}

const hostOf = (url: string, nodeUrl: string) => (url.startsWith(nodeUrl) ? "node" : url.startsWith(p.edgeUrl) ? "edge" : url.startsWith(p.originUrl) ? "origin" : "other");

/** Plays `src` with the page on `base`'s origin and samples wall clock − playingDate. */
async function measure(path: string, base: string, src: string, config: Record<string, unknown> = {}): Promise<Measurement> {
  const page: Page = await openPlayer(browser, base, src, { ...PLAYER, ...config });
  const media: Record<string, number> = {};
  const playlists: Record<string, number> = {};
  const failedRequests: string[] = [];
  const ll = { parts: 0, blockingReloads: 0, deltaUpdates: 0 };
  page.on("requestfinished", (req) => {
    const url = req.url();
    if (url.includes("/__e2e/")) return;
    if (/part-\d+-\d\.m4s/.test(url)) ll.parts++;
    if (url.includes("_HLS_msn=")) ll.blockingReloads++;
    if (url.includes("_HLS_skip=")) ll.deltaUpdates++;
    const bucket = /\.m3u8(\?|$)/.test(url) ? playlists : /\.(m4s|ts|mp4)(\?|$)/.test(url) ? media : undefined;
    if (bucket) bucket[hostOf(url, node.url)] = (bucket[hostOf(url, node.url)] ?? 0) + 1;
  });
  page.on("response", (res) => {
    if (res.status() >= 400) failedRequests.push(`${res.status()} ${res.url().replace(/\/play\/[^/]+\//, "/play/<token>/")}`);
  });
  page.on("requestfailed", (req) => failedRequests.push(`${req.failure()?.errorText ?? "failed"} ${req.url().replace(/\/play\/[^/]+\//, "/play/<token>/")}`));
  const latencies: number[] = [];
  try {
    await page.waitForFunction(() => (document.getElementById("v") as HTMLVideoElement).currentTime > 0, null, { timeout: 30_000 });
    await new Promise((r) => setTimeout(r, WARM_UP_S * 1000));
    for (let i = 0; i < SAMPLE_S * 4; i++) {
      const latency = await page.evaluate(() => {
        const date = (window as unknown as { hls: { playingDate: Date | null } }).hls.playingDate;
        const video = document.getElementById("v") as HTMLVideoElement;
        // Both clocks are this machine's: the origin dates each segment from the same wall clock.
        return date && !video.paused ? (Date.now() - date.getTime()) / 1000 : null;
      });
      if (latency !== null) latencies.push(latency);
      await new Promise((r) => setTimeout(r, 250));
    }
  } catch (err) {
    console.log(`[${path}] playback did not start: ${(err as Error).message.split("\n")[0]}`);
  }
  const log = await page.evaluate(() => (window as unknown as { playerLog: PlayerLog }).playerLog);
  mkdirSync("test-results", { recursive: true });
  await page.screenshot({ path: `test-results/e2e-latency-${path.replace(/[^a-z0-9]+/gi, "-")}.png` });
  await page.close();
  const sorted = [...latencies].sort((a, b) => a - b);
  const medianS = sorted.length ? (sorted[(sorted.length - 1) >> 1]! + sorted[sorted.length >> 1]!) / 2 : null;
  const errors = log.filter((e) => e.type === "error");
  return { path, medianS, samples: latencies.length, fatal: errors.filter((e) => e.fatal), errors, media, playlists, ll, failedRequests };
}

/** The same channel through the node: the session reports the node, then plays its playback URL. */
async function viaNode(channel: string, steering: boolean): Promise<string> {
  const v = await openChannel(p, channel);
  const res = await chooseCache(p, v.sessionId, v.token, NODE_ID, steering ? undefined : false);
  if (res.status !== 200) throw new Error(`choosing the node for ${channel}: ${res.status} ${await res.text()}`);
  await new Promise((r) => setTimeout(r, 1100)); // the edge's view of the event is at most a second old
  return v.playbackUrl;
}

function report(m: Measurement): string {
  const latency = m.medianS === null ? "no samples" : `${m.medianS.toFixed(2)} s median (${m.samples} samples)`;
  const counts = (r: Record<string, number>) => Object.entries(r).map(([k, n]) => `${k} ${n}`).join(", ") || "none";
  const failed = [...new Set(m.failedRequests)].slice(0, 6);
  const llCounts = m.ll.parts ? `; ${m.ll.parts} parts, ${m.ll.blockingReloads} blocking reloads, ${m.ll.deltaUpdates} delta updates` : "";
  return `${m.path.padEnd(34)} ${latency}; media from ${counts(m.media)}; playlists from ${counts(m.playlists)}${llCounts}` +
    (m.errors.length ? `; hls.js errors: ${[...new Set(m.errors.map((e) => `${e.details}${e.fatal ? " (fatal)" : ""}`))].join(", ")}` : "") +
    (failed.length ? `; failed requests: ${failed.join(" | ")}` : "");
}

const results: Measurement[] = [];

/** Measures the three paths one after another (never at once: they would share two cores), prints, checks. */
async function measurePaths(paths: (() => Promise<Measurement>)[]): Promise<void> {
  const measured: Measurement[] = [];
  for (const path of paths) measured.push(await path());
  results.push(...measured);
  for (const m of measured) console.log(report(m));
  for (const m of measured) {
    expect(m.fatal, m.path).toEqual([]);
    expect(m.samples, m.path).toBeGreaterThan(0);
  }
}

it("prints the latency of the LL-HLS channel (multivariant) from the origin, the edge and a stadium node", async () => {
  await measurePaths([
    () => measure("LL multivariant, origin direct", p.originUrl, `${p.originUrl}/ll/latency/index.m3u8`),
    async () => measure("LL multivariant, edge", p.edgeUrl, (await openChannel(p, "ll-multi")).playbackUrl),
    async () => measure("LL multivariant, stadium node", p.edgeUrl, await viaNode("ll-multi", true)),
  ]);
}, 240_000);

it("prints the latency of the LL-HLS channel (single media playlist) from the origin, the edge and a stadium node", async () => {
  await measurePaths([
    () => measure("LL single media playlist, origin", p.originUrl, `${p.originUrl}/ll/latency/media.m3u8`),
    async () => measure("LL single media playlist, edge", p.edgeUrl, (await openChannel(p, "ll-single")).playbackUrl),
    // No multivariant playlist, so no Content Steering: the node is reached through the media playlist (legacy).
    async () => measure("LL single media playlist, node", p.edgeUrl, await viaNode("ll-single", false), { ignorePlaylistParsingErrors: true }),
  ]);
}, 240_000);

it("prints the latency of the regular live channel from the origin, the edge and a stadium node", async () => {
  await measurePaths([
    () => measure("regular, origin direct", p.originUrl, `${p.originUrl}/live/main/index.m3u8`),
    async () => measure("regular, edge", p.edgeUrl, (await openChannel(p, "main")).playbackUrl),
    async () => measure("regular, stadium node", p.edgeUrl, await viaNode("main", true)),
  ]);
}, 240_000);

afterAll(() => {
  console.log(["", `latency (wall clock − hls.js playingDate, median; hls.js ${JSON.stringify(PLAYER)}):`, ...results.map((m) => `  ${m.path.padEnd(34)} ${m.medianS === null ? "—" : `${m.medianS.toFixed(2)} s`}`)].join("\n"));
});
