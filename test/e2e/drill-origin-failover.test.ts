// Issue 14 drills (a) and (b): a channel's primary origin is killed mid-playback and hls.js, playing through
// the edge, keeps playing from the backup: (a) a backup aligned with the primary (same segment names and
// sequence numbers), (b) a backup whose numbering differs (another encoder), across a discontinuity.
// Real processes: the edge, the primary demo origin and the backup demo origin are separate workerd processes.
import type { Browser } from "playwright-core";
import { afterEach, beforeAll, afterAll, expect, it } from "vitest";
import { runWorker, type RunningWorker } from "../../scripts/lib/platform";
import { buildWorker } from "../../scripts/lib/build";
import { parsePlaylist } from "../../workers/hls/parse";
import { launchBrowser, observePlayback, openPlayer } from "../support/browser";
import { adminPut, openChannel, startSeededPlatform, type Platform } from "../support/platform";

let browser: Browser;
let p: Platform | undefined;
let backup: RunningWorker | undefined;

beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  await backup?.stop().catch(() => {});
  await p?.stop().catch(() => {});
  backup = p = undefined;
});

/** The platform, a second demo origin (the backup encoder, numbered `offset` apart) and a channel on both. */
async function setUp(channelId: string, offset: number): Promise<{ playbackUrl: string; token: string }> {
  p = await startSeededPlatform();
  backup = await runWorker(buildWorker("demo-origin", process.env.BALANCER_PREBUILT === "1"), { port: 0, persistTo: false, bindings: { LIVE_MSN_OFFSET: String(offset) } });
  const res = await adminPut(p, `/admin/events/demo/channels/${channelId}`, {
    title: channelId,
    originUrl: `${p.originUrl}/live/${channelId}/index.m3u8`,
    backupOriginUrls: [`${backup.url}/live/${channelId}/index.m3u8`],
    paid: false,
  });
  expect(res.status).toBe(200);
  return openChannel(p, channelId);
}

interface Listed {
  msn: number;
  uri: string;
  discontinuity: boolean;
}

/** The media playlist a viewer reloads, as (sequence number, URI, discontinuity before it). */
async function mediaPlaylist(playbackUrl: string): Promise<Listed[]> {
  const entry = await (await fetch(playbackUrl)).text();
  const first = entry.split("\n").find((l) => l !== "" && !l.startsWith("#"))!;
  const info = parsePlaylist(await (await fetch(new URL(first, playbackUrl))).text());
  return info.segments.map((s, i) => ({ msn: (info.mediaSequence ?? 0) + i, uri: s.uri, discontinuity: s.discontinuity }));
}

async function operatorOrigin(channelId: string): Promise<{ serving: string; servingIndex: number; switchedAt: string | null; switches: { reason: string }[] }> {
  const res = await fetch(`${p!.edgeUrl}/api/v1/admin/events/demo/stats`, { headers: { authorization: `Bearer ${p!.adminToken}` } });
  const stats = (await res.json()) as { channels: { id: string; origin: { serving: string; servingIndex: number; switchedAt: string | null; switches: { reason: string }[] } }[] };
  return stats.channels.find((c) => c.id === channelId)!.origin;
}

/** The operator console's line for the channel, once it names a backup: what an operator sees there. */
async function consoleLine(channelId: string, locale: string): Promise<string> {
  const page = await browser.newPage({ locale, viewport: { width: 1000, height: 1200 } });
  try {
    await page.goto(`${p!.edgeUrl}/operator?pollMs=1000`);
    await page.waitForSelector("body[data-ready=true]");
    await page.locator("input[type=password]").fill(p!.adminToken);
    await page.keyboard.press("Enter");
    const line = page.locator(`#origins li[data-channel-id="${channelId}"][data-serving-index="1"]`);
    await line.waitFor({ timeout: 20_000 });
    return (await line.textContent()) ?? "";
  } finally {
    await page.close();
  }
}

/** Plays the channel, kills the primary after some playback, and watches hls.js for 20 s more. */
async function killPrimaryDuringPlayback(playbackUrl: string) {
  const page = await openPlayer(browser, p!.edgeUrl, playbackUrl);
  await page.waitForFunction(() => (document.getElementById("v") as HTMLVideoElement).currentTime > 4, null, { timeout: 40_000 });
  const before = await mediaPlaylist(playbackUrl);
  const killedAt = Date.now();
  await p!.origin.stop();
  const trace = await observePlayback(page, 20);
  const log = await page.evaluate(() => (window as unknown as { playerLog: { type: string; fatal?: boolean; details?: string; url?: string }[] }).playerLog);
  await page.close();
  return { before, killedAt, trace, log };
}

it("(a) primary killed mid-playback, aligned backup: hls.js keeps playing, numbers continue with no added discontinuity", async () => {
  const { playbackUrl } = await setUp("drill-a", 0);
  const { before, trace, log } = await killPrimaryDuringPlayback(playbackUrl);
  const after = await mediaPlaylist(playbackUrl);
  console.log(`drill (a) aligned backup: hls.js played ${trace.advanced.toFixed(1)} s of media in the 20 s after the primary died; longest stall ${trace.longestStallMs} ms; errors: ${log.filter((e) => e.type === "error").map((e) => e.details).join(", ") || "none"}`);
  expect(log.filter((e) => e.type === "error" && e.fatal)).toEqual([]);
  expect(trace.longestStallMs).toBeLessThan(3000);
  expect(trace.advanced).toBeGreaterThan(15);
  // The backup serves: its segments are listed under its own keys, the numbering goes on from the primary's.
  expect(after.some((s) => s.uri.includes("_b1/"))).toBe(true);
  expect(after[0]!.msn).toBeGreaterThan(before[0]!.msn);
  // Aligned encoders: the only discontinuities are the demo stream's own (before every 5th segment, its loop).
  for (const s of after) expect([s.uri, s.discontinuity]).toEqual([s.uri, Number(/seg-(\d+)\./.exec(s.uri)![1]) % 5 === 0]);
  // Segments hls.js loaded after the switch came from the backup's keys, through the edge.
  expect(log.some((e) => e.type === "frag" && e.url!.includes("/_b1/"))).toBe(true);
  const origin = await operatorOrigin("drill-a");
  expect(origin.servingIndex).toBe(1);
  expect(origin.serving).toBe(`${backup!.url}/live/drill-a/index.m3u8`);
  expect(origin.switchedAt).not.toBeNull();
  expect(origin.switches.at(-1)!.reason).toBe("failed");
  // The console says it too: which origin serves the channel, since when and why.
  const line = await consoleLine("drill-a", "en-US");
  console.log(`console: ${line}`);
  expect(line).toContain("backup 1");
  expect(line).toContain(`served from ${new URL(backup!.url).host}`);
  expect(line).toMatch(/switched at .+: the previous origin failed/);
  expect(line).toContain(`failing: ${new URL(p!.originUrl).host}`);
});

it("(b) primary killed, backup numbered differently: hls.js keeps playing across one discontinuity, numbers still rising", async () => {
  const { playbackUrl } = await setUp("drill-b", 100_000);
  const { before, trace, log } = await killPrimaryDuringPlayback(playbackUrl);
  const after = await mediaPlaylist(playbackUrl);
  console.log(`drill (b) misaligned backup: hls.js played ${trace.advanced.toFixed(1)} s of media in the 20 s after the primary died; longest stall ${trace.longestStallMs} ms; errors: ${log.filter((e) => e.type === "error").map((e) => e.details).join(", ") || "none"}`);
  expect(log.filter((e) => e.type === "error" && e.fatal)).toEqual([]);
  expect(trace.longestStallMs).toBeLessThan(3000);
  expect(trace.advanced).toBeGreaterThan(15);
  // Sequence numbers rise across the switch (the backup's own run from 100,000 on is never shown).
  expect(after[0]!.msn).toBeGreaterThan(before[0]!.msn);
  expect(after.at(-1)!.msn).toBeLessThan(before.at(-1)!.msn + 100);
  const firstBackup = after.findIndex((s) => s.uri.includes("_b1/"));
  expect(firstBackup).toBeGreaterThanOrEqual(0);
  if (firstBackup > 0) expect(after[firstBackup]!.discontinuity).toBe(true);
  expect(log.some((e) => e.type === "frag" && e.url!.includes("/_b1/"))).toBe(true);
  expect((await operatorOrigin("drill-b")).servingIndex).toBe(1);
  const line = await consoleLine("drill-b", "ru-RU");
  console.log(`console (ru): ${line}`);
  expect(line).toContain("резервный 1");
  expect(line).toContain(`поток идёт с ${new URL(backup!.url).host}`);
});
