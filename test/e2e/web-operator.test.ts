// Acceptance: the operator console at `/operator` takes the operator token, flips the overload switch (a new viewer
// on the viewer page then waits in line with its position and is admitted by itself when the switch goes off),
// shows the session count rise and fall, and saves limits.
import { mkdirSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { launchBrowser } from "../support/browser";
import { startSeededPlatform, type Platform } from "../support/platform";

let p: Platform;
let browser: Browser;
let operator: Page;
let first: Page;
let second: Page;
beforeAll(async () => {
  [p, browser] = await Promise.all([startSeededPlatform(), launchBrowser()]);
  operator = await browser.newPage({ locale: "en-US", viewport: { width: 1000, height: 1200 } });
  first = await browser.newPage({ locale: "en-US", viewport: { width: 800, height: 900 } });
  second = await browser.newPage({ locale: "en-US", viewport: { width: 800, height: 900 } });
});
afterAll(async () => {
  await browser?.close();
  await p?.stop();
});

const figure = (key: string) => operator.locator(`#fig-${key}`).getAttribute("data-value");
const currentTime = (page: Page) => page.evaluate(() => (document.getElementById("video") as HTMLVideoElement).currentTime);

async function openViewer(page: Page): Promise<void> {
  await page.goto(`${p.edgeUrl}/`);
  await page.waitForSelector("body[data-ready=true]");
}

it("refuses a wrong operator token in a sentence and opens the console with the right one, keyboard only", async () => {
  await operator.goto(`${p.edgeUrl}/operator?pollMs=1000`);
  await operator.waitForSelector("body[data-ready=true]");
  // The token field has focus on arrival; Enter submits.
  await operator.keyboard.type("not-the-token");
  await operator.keyboard.press("Enter");
  await expect.poll(() => operator.locator("#status").textContent()).toBe("That operator token is not accepted. Check it and try again.");
  await operator.getByLabel("Operator token (ADMIN_TOKEN)").fill(p.adminToken);
  await operator.keyboard.press("Enter");
  await expect.poll(() => operator.locator("#console").isVisible()).toBe(true);
  await expect.poll(() => operator.locator("#overload").getAttribute("aria-checked")).toBe("false");
  await expect.poll(() => figure("activeSessions")).toBe("0");
  // The limits come from the live figures.
  await expect.poll(() => operator.getByLabel("Maximum concurrent sessions").inputValue()).toBe("1000");
});

it("shows the session count rise when a viewer plays and a second one waits in line while overload is on, then admits it by itself", async () => {
  await openViewer(first);
  await first.getByRole("button", { name: "Watch Main camera" }).click();
  await expect.poll(() => currentTime(first), { timeout: 30_000 }).toBeGreaterThan(0);
  await expect.poll(() => figure("activeSessions"), { timeout: 15_000 }).toBe("1");

  // Overload on, with the keyboard: focus the switch and press Space.
  await operator.locator("#overload").focus();
  await operator.keyboard.press("Space");
  await expect.poll(() => operator.locator("#overload").getAttribute("aria-checked")).toBe("true");
  expect(await operator.locator("#overload-state").textContent()).toBe("Overload is on: every new viewer waits in line.");

  await openViewer(second);
  await second.getByRole("button", { name: "Watch Main camera" }).click();
  await second.waitForSelector("#waiting:not([hidden])");
  expect(await second.locator("#queue-position").textContent()).toBe("1");
  expect(Number(await second.locator("#queue-countdown").textContent())).toBeGreaterThan(0);
  expect(await second.locator("#now-playing").textContent()).toContain("you are number 1 in line");
  await expect.poll(() => figure("queued"), { timeout: 15_000 }).toBe("1");
  mkdirSync("test-results", { recursive: true });
  await second.screenshot({ path: "test-results/web-viewer-waiting.png", fullPage: true });
  // It keeps waiting (and retrying with its ticket) while the switch stays on.
  await second.waitForTimeout(4500);
  expect(await second.locator("#waiting").isVisible()).toBe(true);
  expect(await currentTime(second)).toBe(0);

  await operator.locator("#overload").click();
  await expect.poll(() => operator.locator("#overload").getAttribute("aria-checked")).toBe("false");
  // Nobody touches the second viewer's page: it is admitted on its next retry and starts playing.
  await expect.poll(() => second.locator("#waiting").isHidden(), { timeout: 15_000 }).toBe(true);
  await expect.poll(() => currentTime(second), { timeout: 30_000 }).toBeGreaterThan(0);
  await expect.poll(() => figure("activeSessions"), { timeout: 15_000 }).toBe("2");
  await expect.poll(() => figure("queued")).toBe("0");
  await operator.screenshot({ path: "test-results/web-operator-live.png", fullPage: true });
});

it("shows the session count fall as the viewers stop, and saves edited limits", async () => {
  await first.getByRole("button", { name: "Stop" }).click();
  await expect.poll(() => figure("activeSessions"), { timeout: 15_000 }).toBe("1");
  await second.getByRole("button", { name: "Stop" }).click();
  await expect.poll(() => figure("activeSessions"), { timeout: 15_000 }).toBe("0");

  await operator.getByLabel("Maximum concurrent sessions").fill("500");
  await operator.getByLabel("Maximum egress, Mbit/s (edge and stadium together)").fill("200");
  await operator.getByRole("button", { name: "Save limits" }).click();
  await expect.poll(() => operator.locator("#limits-status").textContent()).toBe(
    "The limits are saved; they apply to the next viewers who ask for access.",
  );
  const res = await fetch(`${p.edgeUrl}/api/v1/admin/events/demo/stats`, { headers: { authorization: `Bearer ${p.adminToken}` } });
  const stats = (await res.json()) as { limits: { maxSessions?: number; maxEgressMbps?: number } };
  expect(stats.limits).toMatchObject({ maxSessions: 500, maxEgressMbps: 200 });
  await operator.screenshot({ path: "test-results/web-operator-console.png", fullPage: true });
});

it("fits both pages into a 360 px wide phone screen without sideways scrolling", async () => {
  const phone = await browser.newPage({ locale: "en-US", viewport: { width: 360, height: 740 } });
  // Signed in as operator, so the whole console (figures, charts, limits) is laid out, not just the token form.
  await phone.addInitScript((token) => sessionStorage.setItem("balancer.operatorToken", token), p.adminToken);
  for (const path of ["/", "/operator"]) {
    await phone.goto(p.edgeUrl + path);
    await phone.waitForSelector("body[data-ready=true]");
    if (path === "/operator") await phone.waitForSelector("#fig-activeSessions[data-value='0']");
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, path).toBeLessThanOrEqual(0);
    await phone.screenshot({ path: `test-results/web-phone${path === "/" ? "-viewer" : "-operator"}.png`, fullPage: true });
  }
  await phone.close();
});
