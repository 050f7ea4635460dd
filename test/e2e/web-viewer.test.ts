// Acceptance: the viewer page at `/` signs the prototype's account in, shows premium locked, refuses a declined
// payment in words, unlocks premium with a pass and plays it with hls.js in Chromium.
import { mkdirSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { launchBrowser } from "../support/browser";
import { startSeededPlatform, type Platform } from "../support/platform";

let p: Platform;
let browser: Browser;
let page: Page;
beforeAll(async () => {
  [p, browser] = await Promise.all([startSeededPlatform(), launchBrowser()]);
  page = await browser.newPage({ locale: "en-US", viewport: { width: 900, height: 1100 } });
});
afterAll(async () => {
  await browser?.close();
  await p?.stop();
});

const channel = (id: string) => page.locator(`li[data-channel-id="${id}"]`);

it("serves the viewer page, its scripts and hls.js as static assets while the API keeps answering JSON", async () => {
  const [html, js, hls, health, missing] = await Promise.all(
    ["/", "/js/viewer.js", "/js/hls.min.js", "/healthz", "/api/v1/nothing-here"].map((path) => fetch(p.edgeUrl + path)),
  );
  expect(html!.status).toBe(200);
  expect(html!.headers.get("content-type")).toContain("text/html");
  expect(await html!.text()).toContain('src="/js/viewer.js"');
  expect(js!.status).toBe(200);
  expect(hls!.status).toBe(200);
  expect(await health!.json()).toEqual({ ok: true });
  expect(missing!.status).toBe(404);
  expect(((await missing!.json()) as { error: { code: string } }).error.code).toBe("not_found");
});

it("signs fdpd6 in, shows premium locked, says a declined payment in a sentence, unlocks premium with the pass and plays it", async () => {
  await page.goto(p.edgeUrl + "/");
  await page.waitForSelector("body[data-ready=true]");
  await expect.poll(() => channel("main").locator(".badge").textContent()).toBe("Free");

  await page.getByLabel("Login").fill("fdpd6");
  await page.getByLabel("Password").fill("123456");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect.poll(() => page.locator("#signed-in-as").textContent()).toBe("Signed in as fdpd6");
  await expect.poll(() => channel("premium").locator(".badge").textContent()).toBe("Locked");

  // Watching a locked channel is refused with the reason, not a code.
  await channel("premium").getByRole("button").click();
  await expect.poll(() => page.locator("#shop-status").textContent()).toContain("Premium camera needs the Premium pass");

  await page.getByLabel("Payment method").selectOption("test_decline");
  await page.locator('li[data-product-id="premium-pass"]').getByRole("button").click();
  await expect.poll(() => page.locator("#shop-status").textContent()).toMatch(/^The payment was declined\b.*\.$/);
  expect(await page.locator("#shop-status").textContent()).not.toContain("payment_declined");
  expect(await channel("premium").locator(".badge").textContent()).toBe("Locked");

  await page.getByLabel("Payment method").selectOption("");
  await page.locator('li[data-product-id="premium-pass"]').getByRole("button").click();
  await expect.poll(() => page.locator("#shop-status").textContent()).toContain("You bought the Premium pass.");
  await expect.poll(() => channel("premium").locator(".badge").textContent()).toBe("Unlocked");
  await expect.poll(() => page.locator("#purchases").textContent()).toContain("Premium pass");

  await channel("premium").getByRole("button", { name: "Watch Premium camera" }).click();
  const currentTime = () => page.evaluate(() => (document.getElementById("video") as HTMLVideoElement).currentTime);
  await expect.poll(currentTime, { timeout: 30_000 }).toBeGreaterThan(0).catch(async (err: unknown) => {
    console.log("player did not start:", await page.locator("#now-playing").textContent(), await page.evaluate(() => (window as unknown as { playerLog: unknown }).playerLog));
    throw err;
  });
  const t0 = await currentTime();
  await page.waitForTimeout(5000);
  expect(await currentTime()).toBeGreaterThan(t0 + 3);
  expect(await page.locator("#now-playing").textContent()).toBe("Playing Premium camera.");
  expect(await page.locator("#pathway").textContent()).toBe("internet edge");

  mkdirSync("test-results", { recursive: true });
  await page.evaluate(() => scrollTo(0, 0));
  await page.screenshot({ path: "test-results/web-viewer-playing.png" });
});

it("registers a new viewer, signs out again, and reports a taken login in a sentence", async () => {
  await page.getByRole("button", { name: "Stop" }).click();
  await page.getByRole("button", { name: "Log out" }).click();
  await expect.poll(() => page.locator("#status").textContent()).toBe("You are signed out.");
  await expect.poll(() => channel("premium").locator(".badge").textContent()).toBe("Locked");

  await page.getByLabel("Login").fill("fdpd6");
  await page.getByLabel("Password").fill("another-password");
  await page.getByRole("button", { name: "Register" }).click();
  await expect.poll(() => page.locator("#auth-status").textContent()).toBe("That login is already taken.");

  // Keyboard only: Tab from field to field to the Register button, Enter.
  await page.getByLabel("Login").fill("");
  await page.getByLabel("Login").focus();
  await page.keyboard.type("web-newcomer");
  await page.keyboard.press("Tab");
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.type("newcomer-password");
  await page.keyboard.press("Tab");
  expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Log in");
  await page.keyboard.press("Tab");
  expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Register");
  await page.keyboard.press("Enter");
  await expect.poll(() => page.locator("#signed-in-as").textContent()).toBe("Signed in as web-newcomer");
  expect(await channel("premium").locator(".badge").textContent()).toBe("Locked");
  await page.screenshot({ path: "test-results/web-viewer-registered.png", fullPage: true });
});
