// Headless Chromium (Debian's) driven by playwright-core, with an hls.js player page served at the origin under test.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium, type Browser, type Page } from "playwright-core";

const require = createRequire(import.meta.url);
const HLS_JS = readFileSync(require.resolve("hls.js/dist/hls.min.js"), "utf8");

/** Debian's Chromium, headless; `extraArgs` are added to the command line (e.g. to switch a check off). */
export async function launchBrowser(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run", "--autoplay-policy=no-user-gesture-required", ...extraArgs],
  });
}

const PLAYER_HTML = `<!doctype html><meta charset="utf-8"><title>player</title>
<video id="v" muted playsinline style="width:640px;height:360px;background:#000"></video>
<script src="/__e2e/hls.js"></script>
<script>
  window.playerLog = [];
  window.startPlayer = (src, config) => {
    const video = document.getElementById("v");
    const hls = new Hls(Object.assign({ lowLatencyMode: false }, config || {}));
    window.hls = hls;
    hls.on(Hls.Events.ERROR, (_, d) => window.playerLog.push({ t: Date.now(), type: "error", fatal: d.fatal, details: d.details }));
    hls.on(Hls.Events.FRAG_LOADED, (_, d) => window.playerLog.push({ t: Date.now(), type: "frag", url: d.frag.url }));
    hls.loadSource(src);
    hls.attachMedia(video);
    hls.on(Hls.Events.MANIFEST_PARSED, () => video.play().catch(() => {}));
  };
</script>`;

/** Opens the player page on `baseUrl`'s origin (so requests are same-origin) and starts `src`. */
export async function openPlayer(browser: Browser, baseUrl: string, src: string, config?: Record<string, unknown>): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 800, height: 480 } });
  await page.route(`${baseUrl}/__e2e/**`, (route) => {
    const url = route.request().url();
    if (url.endsWith("/hls.js")) return route.fulfill({ status: 200, contentType: "text/javascript", body: HLS_JS });
    return route.fulfill({ status: 200, contentType: "text/html", body: PLAYER_HTML });
  });
  await page.goto(`${baseUrl}/__e2e/player.html`);
  await page.evaluate(([s, c]) => (window as unknown as { startPlayer: (s: string, c: unknown) => void }).startPlayer(s as string, c), [src, config ?? {}] as const);
  return page;
}

export interface PlaybackTrace {
  /** Media time played during the observation. */
  advanced: number;
  /** Longest wall-clock stretch in which currentTime did not move, in ms (after playback started). */
  longestStallMs: number;
  samples: { t: number; currentTime: number }[];
}

/** Samples video.currentTime every 100 ms for `seconds`. */
export async function observePlayback(page: Page, seconds: number, onSample?: (t: number) => Promise<void> | void): Promise<PlaybackTrace> {
  const samples: { t: number; currentTime: number }[] = [];
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const currentTime = await page.evaluate(() => (document.getElementById("v") as HTMLVideoElement).currentTime);
    samples.push({ t: Date.now(), currentTime });
    if (onSample) await onSample(Date.now());
    await new Promise((r) => setTimeout(r, 100));
  }
  let longestStallMs = 0;
  let lastMove: number | null = null;
  for (let i = 1; i < samples.length; i++) {
    const s = samples[i]!;
    if (s.currentTime !== samples[i - 1]!.currentTime) {
      if (lastMove !== null) longestStallMs = Math.max(longestStallMs, s.t - lastMove);
      lastMove = s.t;
    }
  }
  if (lastMove !== null) longestStallMs = Math.max(longestStallMs, samples[samples.length - 1]!.t - lastMove);
  const moving = samples.filter((s) => s.currentTime > 0);
  const advanced = moving.length ? samples[samples.length - 1]!.currentTime - moving[0]!.currentTime : 0;
  return { advanced, longestStallMs, samples };
}
