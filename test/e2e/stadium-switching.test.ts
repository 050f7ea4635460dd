// Acceptance: hls.js in headless Chromium plays through a stadium node started with `npm run stadium-node`,
// carries on through the edge when the node process is killed (longest currentTime stall printed), and
// returns to the node when it is back; once with HLS Content Steering and once without (legacy players).
// The node serves HTTPS (--cert/--key) with a certificate from a CA made here, which Chromium is told to
// accept for that certificate's key only; every request the page sends to the node is https://.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { observePlayback, openPlayer } from "../support/browser";
import { chooseCache, listCaches, provision } from "../support/stadium-node";
import { httpsGet, makeTestCertificates, type TestCertificates } from "../support/tls";
import { addChannel, openChannel, startSeededPlatform, type Platform } from "../support/platform";
import { ROOT } from "../../scripts/lib/platform";

let p: Platform;
let browser: Browser;
let nodeProcess: ChildProcess | undefined;
let nodePort: number;
const NODE_ID = "stand-e2e";
// Where the node keeps its id and registration key across restarts (a service's state directory).
// Also the node's TMPDIR: a killed node leaves its workerd config folder (with a copy of the key) behind.
const nodeDir = mkdtempSync(join(tmpdir(), "balancer-node-"));
const stateFile = join(nodeDir, `stadium-node-${NODE_ID}.json`);
let registrationKey: string | undefined;
let certs: TestCertificates;

beforeAll(async () => {
  certs = makeTestCertificates({ ips: ["127.0.0.1"] });
  [p, browser, nodePort] = await Promise.all([
    startSeededPlatform({ edgeBindings: { PULL_ZONE_HEARTBEAT_SECONDS: "1", STEERING_TTL_SECONDS: "2" } }),
    // The player page is served by the test (no address of its own), so Chromium's Local Network Access
    // would treat it as public and refuse its requests to a node on 127.0.0.1. A venue's web player faces
    // the same rule (docs/stadium-nodes.md); here the check is switched off.
    chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      headless: true,
      // The node's certificate comes from the test's own CA: Chromium accepts it by its public key's hash
      // (honoured with a user data dir, which Playwright always gives), and no other certificate error.
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run", "--autoplay-policy=no-user-gesture-required", "--disable-features=LocalNetworkAccessChecks,PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults", `--ignore-certificate-errors-spki-list=${certs.spkiSha256}`],
    }),
    freePort(),
  ]);
  registrationKey = await provision(p, NODE_ID);
});
afterAll(async () => {
  killNode();
  await browser?.close();
  await p?.stop();
  certs?.remove();
  rmSync(nodeDir, { recursive: true, force: true });
});

/** Starts the node the way docs/stadium-nodes.md says, as its own process group (workerd is its child). */
async function startNodeProcess(attempt = 1): Promise<void> {
  // The registration key is given once (the first start); a restart finds it in the node's state file.
  const args = ["workers/stadium-node/service/main.ts", "--platform", p.edgeUrl, "--id", NODE_ID, "--port", String(nodePort), "--state-file", stateFile, "--cert", certs.certFile, "--key", certs.keyFile];
  if (registrationKey) args.push("--registration-key", registrationKey);
  registrationKey = undefined;
  const child = spawn(`${ROOT}/node_modules/.bin/tsx`, args, {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, BALANCER_PREBUILT: "1", TMPDIR: nodeDir },
  });
  nodeProcess = child;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    // The port of the killed process can take a moment to be free again.
    if (child.exitCode !== null && attempt < 5) {
      await new Promise((r) => setTimeout(r, 1000));
      return startNodeProcess(attempt + 1);
    }
    const ok = await httpsGet(`https://127.0.0.1:${nodePort}/ping`, certs.caPem).then((r) => r.status === 200, () => false);
    if (ok && (await listCaches(p)).some((n) => n.id === NODE_ID)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("the stadium node did not come up");
}

/** The box loses power: SIGKILL to the whole group, no deregistration. */
function killNode(): void {
  if (nodeProcess?.pid && nodeProcess.exitCode === null) {
    try {
      process.kill(-nodeProcess.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  nodeProcess = undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Counts segment requests the page sends to the node (over https) and to the edge, playlists it loads from the
 * node, and any request to the node's port that is not https (there must be none).
 */
function countSegments(page: Page) {
  const counts = { node: 0, edge: 0, nodePlaylists: 0, nodeNotHttps: 0 };
  page.on("request", (req) => {
    const url = req.url();
    if (new URL(url).port === String(nodePort) && !url.startsWith(`https://127.0.0.1:${nodePort}/`)) counts.nodeNotHttps++;
    if (!url.includes("/play/") || url.includes("steering.json")) return;
    if (url.includes(".m3u8")) {
      if (url.startsWith(`https://127.0.0.1:${nodePort}/`)) counts.nodePlaylists++;
      return;
    }
    if (url.startsWith(`https://127.0.0.1:${nodePort}/`)) counts.node++;
    else if (url.startsWith(p.edgeUrl)) counts.edge++;
  });
  return counts;
}

// The app's player settings: fail over fast rather than retry a dead host for seconds.
const fastFailover = {
  fragLoadPolicy: { default: { maxTimeToFirstByteMs: 4000, maxLoadTimeMs: 10_000, timeoutRetry: { maxNumRetry: 1, retryDelayMs: 0, maxRetryDelayMs: 0 }, errorRetry: { maxNumRetry: 12, retryDelayMs: 500, maxRetryDelayMs: 500 } } },
  playlistLoadPolicy: { default: { maxTimeToFirstByteMs: 4000, maxLoadTimeMs: 10_000, timeoutRetry: { maxNumRetry: 1, retryDelayMs: 0, maxRetryDelayMs: 0 }, errorRetry: { maxNumRetry: 12, retryDelayMs: 500, maxRetryDelayMs: 500 } } },
};

/** The demo's regular channel, or the LL-HLS one (0.5 s parts, blocking reloads) played by hls.js in low-latency mode. */
type Channel = "main" | "ll";

async function scenario(steering: boolean, channel: Channel = "main"): Promise<void> {
  await startNodeProcess();
  // The key the first start was given is kept for the restarts below, readable by the node's user only.
  expect(statSync(stateFile).mode & 0o777).toBe(0o600);
  if (channel === "ll") await addChannel(p, "ll-switching", `${p.originUrl}/ll/switching/index.m3u8`);
  const v = await openChannel(p, channel === "ll" ? "ll-switching" : "main");
  expect((await chooseCache(p, v.sessionId, v.token, NODE_ID, steering ? undefined : false)).status).toBe(200);
  await new Promise((r) => setTimeout(r, 1100)); // the edge's view of the event is at most a second old
  // hls.js treats a segment whose URI changed between reloads as a fatal "media sequence mismatch"
  // unless told otherwise; players without steering (ExoPlayer, the prototype's app) do not check this.
  const config = { ...fastFailover, ...(steering ? {} : { ignorePlaylistParsingErrors: true }), ...(channel === "ll" ? { lowLatencyMode: true } : {}) };
  const page = await openPlayer(browser, p.edgeUrl, v.playbackUrl, config);
  const counts = countSegments(page);
  await page.waitForFunction(() => (document.getElementById("v") as HTMLVideoElement).currentTime > 0, null, { timeout: 30_000 });

  // 1. On the node: its request count grows, the edge serves no segments.
  const onNode = await observePlayback(page, 8);
  const label = `${steering ? "steering" : "legacy"}${channel === "ll" ? ", LL-HLS" : ""}`;
  console.log(`[${label}] on node (https): ${onNode.advanced.toFixed(1)} s played, node segments ${counts.node}, node playlists ${counts.nodePlaylists}, edge segments ${counts.edge}, longest stall ${onNode.longestStallMs} ms`);
  expect(counts.node).toBeGreaterThan(2);
  expect(counts.edge).toBe(0);
  // With steering the media playlists come from the node too; without, from the edge (segments point at the node).
  if (steering) expect(counts.nodePlaylists).toBeGreaterThan(0);
  expect(counts.nodeNotHttps).toBe(0);

  // 2. The node process dies: playback goes on through the edge.
  killNode();
  const edgeBefore = counts.edge;
  const onEdge = await observePlayback(page, 15);
  console.log(`[${label}] node killed: ${onEdge.advanced.toFixed(1)} s played, edge segments ${counts.edge - edgeBefore}, LONGEST STALL ${onEdge.longestStallMs} ms`);
  if (onEdge.longestStallMs > 3000) console.log(JSON.stringify(await page.evaluate(() => (window as unknown as { playerLog: { type: string }[] }).playerLog.filter((e) => e.type === "error"))));
  expect(counts.edge - edgeBefore).toBeGreaterThan(2);
  expect(onEdge.advanced).toBeGreaterThan(10);
  // An LL player holds only its 1.5 s part hold-back of media, so the switch (a failed part, the pathway
  // penalised or the next playlist pointing at the edge) shows as a stall more often: 0.4-4.3 s here, loaded.
  expect(onEdge.longestStallMs).toBeLessThanOrEqual(channel === "ll" ? 5000 : 3000);

  // 3. The node comes back (a new process, a new incarnation): traffic returns to it.
  await startNodeProcess();
  const nodeBefore = counts.node;
  const back = await observePlayback(page, 20);
  console.log(`[${label}] node back: ${back.advanced.toFixed(1)} s played, node segments ${counts.node - nodeBefore}, longest stall ${back.longestStallMs} ms`);
  expect(counts.node - nodeBefore).toBeGreaterThan(2);
  expect(counts.nodeNotHttps).toBe(0);
  const log = await page.evaluate(() => (window as unknown as { playerLog: { type: string; fatal?: boolean; details?: string }[] }).playerLog);
  expect(log.filter((e) => e.type === "error" && e.fatal)).toEqual([]);
  await page.close();
  killNode();
}

it("with Content Steering: plays through the node, survives its death on the edge, and returns to it", async () => {
  await scenario(true);
}, 180_000);

it("without Content Steering (legacy): the same, switched at each media playlist reload", async () => {
  await scenario(false);
}, 180_000);

it("LL-HLS with Content Steering: hls.js in low-latency mode plays parts through the node, survives its death, returns", async () => {
  await scenario(true, "ll");
}, 180_000);

it("LL-HLS without Content Steering (legacy): the same", async () => {
  await scenario(false, "ll");
}, 180_000);
