// Acceptance: an access request for demo/main returns a playback URL that hls.js plays in headless Chromium.
import { mkdirSync } from "node:fs";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { launchBrowser, observePlayback, openPlayer } from "../support/browser";
import { openChannel, startSeededPlatform, type Platform } from "../support/platform";

let p: Platform;
let browser: Browser;
beforeAll(async () => {
  [p, browser] = await Promise.all([startSeededPlatform(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await p?.stop();
});

it("plays the demo channel through the edge in hls.js for at least 10 seconds without a fatal error", async () => {
  const { playbackUrl } = await openChannel(p, "main");
  const page = await openPlayer(browser, p.edgeUrl, playbackUrl);
  // Wait for playback to start, then watch it run.
  await page.waitForFunction(() => (document.getElementById("v") as HTMLVideoElement).currentTime > 0, null, { timeout: 30_000 });
  const trace = await observePlayback(page, 12);
  const log = await page.evaluate(() => (window as unknown as { playerLog: { type: string; fatal?: boolean; url?: string }[] }).playerLog);
  mkdirSync("test-results", { recursive: true });
  await page.screenshot({ path: "test-results/e2e-hlsjs-plays-demo.png" });
  console.log(`hls.js played ${trace.advanced.toFixed(1)} s of media in 12 s; longest stall ${trace.longestStallMs} ms`);
  expect(log.filter((e) => e.type === "error" && e.fatal)).toEqual([]);
  expect(trace.advanced).toBeGreaterThanOrEqual(10);
  // Every fragment came through the edge's /play/ path.
  const frags = log.filter((e) => e.type === "frag");
  expect(frags.length).toBeGreaterThan(3);
  expect(frags.every((f) => f.url!.startsWith(`${p.edgeUrl}/play/`))).toBe(true);
});
