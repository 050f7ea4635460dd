// Acceptance: the viewer page pings the event's stadium node, passes it as cacheId, shows the stream coming from
// the node, and shows the internet edge once the node is gone, without the picture stopping.
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { provision, startNode, type RunningStadiumNode } from "../support/stadium-node";
import { launchBrowser } from "../support/browser";
import { startSeededPlatform, type Platform } from "../support/platform";

let p: Platform;
let node: RunningStadiumNode | undefined;
let browser: Browser;
let page: Page;

/** A port nobody listens on right now (the node's baseUrl must be known before it starts). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  // Fast heartbeats and a short steering TTL so node health and steering changes show within seconds.
  [p, browser] = await Promise.all([
    startSeededPlatform({ edgeBindings: { PULL_ZONE_HEARTBEAT_SECONDS: "1", STEERING_TTL_SECONDS: "2" } }),
    launchBrowser(),
  ]);
  node = await startNode(p, "stadium-north", { name: "North stand", port: await freePort(), capacityMbps: 1000 });
  page = await browser.newPage({ locale: "en-US", viewport: { width: 800, height: 1000 } });
});
afterAll(async () => {
  await browser?.close();
  await node?.stop({ deregister: false });
  await p?.stop();
});

const currentTime = () => page.evaluate(() => (document.getElementById("video") as HTMLVideoElement).currentTime);

it("pings the event's stadium node, shows it reachable and passes its id as cacheId when asking for access", async () => {
  const accessBodies: unknown[] = [];
  page.on("request", (req) => {
    if (req.method() === "POST" && req.url().endsWith("/channels/main/access")) accessBodies.push(req.postDataJSON());
  });
  await page.goto(`${p.edgeUrl}/`);
  await page.waitForSelector("body[data-ready=true]");
  await expect.poll(() => page.locator("#cache-status").textContent()).toMatch(/^North stand reachable \(\d+ ms\)$/);

  await page.getByRole("button", { name: "Watch Main camera" }).click();
  await expect.poll(currentTime, { timeout: 30_000 }).toBeGreaterThan(0);
  expect(accessBodies).toEqual([{ cacheId: "stadium-north" }]);
  mkdirSync("test-results", { recursive: true });
  await page.screenshot({ path: "test-results/web-cache-reachable.png", fullPage: true });
});

it("lists the event's stadium nodes in the operator console: the running one healthy with its egress against capacity, a provisioned one offline", async () => {
  await provision(p, "stadium-south", { name: "South stand", eventIds: ["demo"], capacityMbps: 500 });
  const console_ = await browser.newPage({ locale: "en-US", viewport: { width: 1000, height: 1000 } });
  await console_.addInitScript((token) => sessionStorage.setItem("balancer.operatorToken", token), p.adminToken);
  await console_.goto(`${p.edgeUrl}/operator?pollMs=1000`);
  const row = console_.locator('#nodes li[data-node-id="stadium-north"]');
  await expect.poll(() => row.textContent(), { timeout: 10_000 }).toContain("North stand");
  expect(await row.locator(".badge").textContent()).toBe("healthy");
  // Numbers as the browser's locale writes them (en-US: "1,000", "0%").
  expect(await row.textContent()).toMatch(/of 1,000 Mbit\/s \(\d+%\)/);
  const south = console_.locator('#nodes li[data-node-id="stadium-south"]');
  await expect.poll(() => south.textContent(), { timeout: 10_000 }).toContain("South stand");
  expect(await south.locator(".badge").textContent()).toBe("offline");
  await console_.screenshot({ path: "test-results/web-cache-operator-nodes.png", fullPage: true });
  await console_.close();

  // The same list in a Russian browser: states, viewers with their plural form, and numbers written the Russian way.
  const ru = await browser.newPage({ locale: "ru-RU", viewport: { width: 1000, height: 1000 } });
  await ru.addInitScript((token) => sessionStorage.setItem("balancer.operatorToken", token), p.adminToken);
  await ru.goto(`${p.edgeUrl}/operator?pollMs=1000`);
  const ruRow = ru.locator('#nodes li[data-node-id="stadium-north"]');
  await expect.poll(() => ruRow.textContent(), { timeout: 10_000 }).toContain("North stand");
  expect(await ruRow.locator(".badge").textContent()).toBe("работает");
  const ruText = (await ruRow.textContent())!.replace(/[\u00a0\u202f]/g, " ");
  const [, viewers, noun] = ruText.match(/(\d+) (зрителей|зрителя|зритель) · [\d ,]+ (?:кбит|Мбит)\/с из 1 ?000 Мбит\/с \(\d+ %\)/) ?? [];
  expect(noun, ruText).toBe({ one: "зритель", few: "зрителя", many: "зрителей", other: "зрителя" }[new Intl.PluralRules("ru").select(Number(viewers)) as "one" | "few" | "many" | "other"]);
  await expect.poll(() => ru.locator('#nodes li[data-node-id="stadium-south"] .badge').textContent(), { timeout: 10_000 }).toBe("не в сети");
  await ru.close();
});

it("shows the stream coming from the stadium node, then from the internet edge once the node stops, while the video keeps playing", async () => {
  await expect.poll(() => page.locator("#pathway").textContent(), { timeout: 20_000 }).toBe("stadium node North stand");

  // The node's box loses power: no goodbye to the platform.
  await node!.stop({ deregister: false });
  node = undefined;
  await expect.poll(() => page.locator("#pathway").textContent(), { timeout: 40_000 }).toBe("internet edge");
  const t0 = await currentTime();
  await page.waitForTimeout(4000);
  expect(await currentTime()).toBeGreaterThan(t0 + 2);
  await expect.poll(() => page.locator("#cache-status").textContent(), { timeout: 15_000 }).toMatch(/^none reachable|^none serves/);
  await page.screenshot({ path: "test-results/web-cache-indicator.png", fullPage: true });
});
