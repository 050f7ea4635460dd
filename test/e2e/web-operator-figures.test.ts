// The operator console's figures in a browser, in English and Russian: every chart says its unit, the time span it
// shows and the value at its top; the hit ratio shows each tier's share; egress is not 0 while a viewer plays.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "../support/browser";
import { openChannel, startSeededPlatform, type Platform } from "../support/platform";

let p: Platform;
let browser: Browser;
let stop = false;
let playing: Promise<void> | undefined;

beforeAll(async () => {
  [p, browser] = await Promise.all([startSeededPlatform(), launchBrowser()]);
  // A viewer playing the demo channel as a player does: the playlists, then each segment they list, again and again.
  const v = await openChannel(p, "main");
  const base = v.playbackUrl.replace(/index\.m3u8$/, "");
  const uris = (text: string) => text.split("\n").filter((l) => l && !l.startsWith("#"));
  playing = (async () => {
    const media = uris(await (await fetch(v.playbackUrl)).text())[0]!;
    while (!stop) {
      const list = await (await fetch(base + media)).text();
      const dir = media.includes("/") ? media.slice(0, media.lastIndexOf("/") + 1) : "";
      for (const seg of uris(list).slice(-3)) await (await fetch(base + dir + seg)).arrayBuffer();
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
});
afterAll(async () => {
  stop = true;
  await playing?.catch(() => {});
  await browser?.close();
  await p?.stop();
});

async function openConsole(locale: string): Promise<Page> {
  const page = await browser.newPage({ locale, viewport: { width: 1000, height: 1200 } });
  await page.goto(`${p.edgeUrl}/operator?pollMs=1000`);
  await page.waitForSelector("body[data-ready=true]");
  await page.locator("#token").fill(p.adminToken);
  await page.keyboard.press("Enter");
  await expect.poll(() => page.locator("#console").isVisible()).toBe(true);
  return page;
}

const LOCALES = [
  {
    locale: "en-US",
    axes: {
      activeSessions: /^sessions · last \d+ s · top of scale \d+$/,
      egress: /^Mbit\/s · last \d+ s · top of scale [\d.]+$/,
      originRequests: /^requests\/s · last \d+ s · top of scale [\d.]+$/,
      cacheHitRatio: /^% · last \d+ s · top of scale 100$/,
    },
    tiers: /^stadium [\d.]+% · edge memory [\d.]+% · edge Cache API [\d.]+% · shield [\d.]+% · origin [\d.]+%$/,
    zeroEgress: "0 kbit/s",
  },
  {
    locale: "ru-RU",
    axes: {
      activeSessions: /^сеансы · за последние \d+ с · верх шкалы \d+$/,
      egress: /^Мбит\/с · за последние \d+ с · верх шкалы [\d,]+$/,
      originRequests: /^запросов\/с · за последние \d+ с · верх шкалы [\d,]+$/,
      cacheHitRatio: /^% · за последние \d+ с · верх шкалы 100$/,
    },
    tiers: /^стадион [\d,]+\s?% · память интернет-узла [\d,]+\s?% · кэш-хранилище интернет-узла [\d,]+\s?% · щит источника [\d,]+\s?% · источник [\d,]+\s?%$/,
    zeroEgress: "0 кбит/с",
  },
];

for (const L of LOCALES) {
  describe(`in a ${L.locale} browser`, () => {
    it("labels every chart with its unit, span and top, shows the hit ratio's tiers, and egress above 0 while a viewer plays", async () => {
      const page = await openConsole(L.locale);
      const axis = (key: string) => page.locator(`#fig-${key} .axis`).textContent();
      for (const [key, pattern] of Object.entries(L.axes)) await expect.poll(() => axis(key), { timeout: 15_000 }).toMatch(pattern);
      // The chart's accessible name says the same.
      expect(await page.locator("#fig-egress svg").getAttribute("aria-label")).toContain((await axis("egress"))!);
      await expect.poll(() => page.locator("#fig-cacheHitRatio .tiers").textContent(), { timeout: 20_000 }).toMatch(L.tiers);
      await expect.poll(() => page.locator("#fig-egress .value").textContent(), { timeout: 20_000 }).not.toMatch(new RegExp(`^${L.zeroEgress}`));
      await page.close();
    });
  });
}
