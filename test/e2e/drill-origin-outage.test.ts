// Issue 14 drill (c): a channel's only origin is down for 20 s mid-playback. hls.js, playing through the edge,
// plays what is cached and reports no fatal error, and plays on once the origin is back; meanwhile the origin
// is asked at most about once a second for the channel, however many playlists and segments viewers want.
// Real processes: the edge and the demo origin run on workerd; while "down", a plain server on the origin's
// port answers every request 503 and counts them.
import { createServer, type Server } from "node:http";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildWorker } from "../../scripts/lib/build";
import { runWorker, type RunningWorker } from "../../scripts/lib/platform";
import { launchBrowser, observePlayback, openPlayer } from "../support/browser";
import { addChannel, openChannel, startSeededPlatform, type Platform } from "../support/platform";

let p: Platform;
let browser: Browser;
let revived: RunningWorker | undefined;
beforeAll(async () => {
  [p, browser] = await Promise.all([startSeededPlatform(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await revived?.stop().catch(() => {});
  await p?.stop().catch(() => {});
});

const OUTAGE_MS = 20_000;

it("(c) the only origin down for 20 s: viewers play what is cached, recover when it returns, and the origin gets about one request a second", async () => {
  await addChannel(p, "outage", `${p.originUrl}/live/outage/index.m3u8`);
  const { playbackUrl } = await openChannel(p, "outage");
  // Two viewers, so the origin's load is not one player's alone.
  const pages = await Promise.all([openPlayer(browser, p.edgeUrl, playbackUrl), openPlayer(browser, p.edgeUrl, playbackUrl)]);
  for (const page of pages) await page.waitForFunction(() => (document.getElementById("v") as HTMLVideoElement).currentTime > 4, null, { timeout: 40_000 });

  const port = Number(new URL(p.originUrl).port);
  await p.origin.stop();
  const arrivals: number[] = [];
  const down: Server = createServer((req, res) => {
    arrivals.push(Date.now());
    res.writeHead(503, { "content-type": "text/plain" }).end("origin down");
  });
  await new Promise<void>((r) => down.listen(port, "127.0.0.1", r));
  const wentDown = Date.now();
  const during = observePlayback(pages[0]!, OUTAGE_MS / 1000);
  await new Promise((r) => setTimeout(r, OUTAGE_MS));
  await new Promise<void>((r) => {
    down.closeAllConnections();
    down.close(() => r());
  });
  const downFor = Date.now() - wentDown;
  const outage = await during;
  revived = await runWorker(buildWorker("demo-origin", process.env.BALANCER_PREBUILT === "1"), { port, persistTo: false });
  const cameBack = Date.now();
  // Recovery: the time until the player's clock moves steadily again.
  await pages[0]!.waitForFunction(
    () => {
      const v = document.getElementById("v") as HTMLVideoElement;
      const w = window as unknown as { resumeMark?: number };
      if (w.resumeMark === undefined) w.resumeMark = v.currentTime;
      return v.currentTime > w.resumeMark + 2;
    },
    null,
    { timeout: 40_000, polling: 100 },
  );
  const recoveredMs = Date.now() - cameBack;
  const after = await observePlayback(pages[0]!, 6);
  const logs = await Promise.all(pages.map((page) => page.evaluate(() => (window as unknown as { playerLog: { type: string; fatal?: boolean; details?: string }[] }).playerLog)));

  let peak = 0;
  for (const t of arrivals) peak = Math.max(peak, arrivals.filter((u) => u >= t && u < t + 1000).length);
  console.log(
    `drill (c) origin down ${(downFor / 1000).toFixed(1)} s: ${arrivals.length} requests reached it (${(arrivals.length / (downFor / 1000)).toFixed(2)}/s, at most ${peak} in any 1 s); ` +
      `hls.js played ${outage.advanced.toFixed(1)} s of cached media during the outage; playing again ${recoveredMs} ms after the origin returned; ` +
      `errors: ${[...new Set(logs.flat().filter((e) => e.type === "error").map((e) => e.details))].join(", ") || "none"}`,
  );
  for (const log of logs) expect(log.filter((e) => e.type === "error" && e.fatal)).toEqual([]);
  // About one request a second for the whole channel (two viewers, two renditions polled, segments wanted).
  expect(arrivals.length).toBeLessThanOrEqual(Math.ceil(downFor / 1000) + 1);
  expect(peak).toBeLessThanOrEqual(2);
  // What was cached played on after the origin went down.
  expect(outage.advanced).toBeGreaterThan(2);
  // Playing again after the origin came back.
  expect(after.advanced).toBeGreaterThan(4);
});
