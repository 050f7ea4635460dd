// Acceptance of goods fulfilment in a Russian and an English browser: the viewer buys the food voucher and sees its
// redemption code as text and QR in "Your purchases"; the operator issues a kiosk in the console; the kiosk checks and redeems it; a second kiosk's redemption of the
// same code is refused with when and where it was redeemed; the viewer's page then says it was redeemed.
import { mkdirSync } from "node:fs";
import qrcode from "qrcode-generator";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "../support/browser";
import { startSeededPlatform, type Platform } from "../support/platform";

let p: Platform;
let browser: Browser;

beforeAll(async () => {
  [p, browser] = await Promise.all([startSeededPlatform(), launchBrowser()]);
  mkdirSync("test-results", { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await p?.stop();
});

async function api<T>(path: string, init: { method?: string; token?: string; json?: unknown } = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${p.edgeUrl}/api/v1${path}`, {
    method: init.method ?? "GET",
    headers: { ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), ...(init.json !== undefined ? { "content-type": "application/json" } : {}) },
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** The QR image the viewer page should draw for `code`: the same library, the same settings (web/qr.ts). */
function expectedQr(code: string): string {
  const qr = qrcode(0, "M");
  qr.addData(code, "Alphanumeric");
  qr.make();
  return qr.createDataURL(6, 24);
}

const space = (s: string | null) => (s ?? "").replace(/[\u00a0\u202f]/g, " ").trim();

/** The words each language's run expects, written out so a wrong catalogue fails too. */
const LANGS = {
  ru: {
    locale: "ru-RU",
    bought: "Готово: вы купили «Food voucher».",
    codeLabel: "Код получения:",
    codeHint: "Покажите этот код или его QR-код на пункте выдачи; погасить его можно один раз.",
    qrAlt: (code: string) => `QR-код кода получения ${code}`,
    kioskTitle: "Balancer · пункт выдачи",
    kioskAs: (name: string) => `Пункт выдачи: ${name}`,
    valid: "Код действителен и ещё не погашен. Выдайте товар и нажмите «Погасить».",
    notRedeemed: "Не погашен",
    redeemedNow: "Погашен: выдайте «Food voucher».",
    already: (kiosk: string) => new RegExp(`^Уже погашен \\d{1,2} [а-я]{3,4}\\.? \\d{4} г\\., \\d{1,2}:\\d{2}, пункт: ${kiosk}\\.$`),
    mistyped: "Такого кода не бывает. Проверьте каждый символ и попробуйте снова.",
    redeemedOnViewer: /^Погашен \d{1,2} [а-я]{3,4}\.? \d{4} г\., \d{1,2}:\d{2}\.$/,
    issued: "Пункт «Food court» создан. Введите его токен на странице пункта сейчас: больше он не покажется.",
    listed: (id: string) => new RegExp(`^Food court \\(${id}\\), выдан \\d{1,2} [а-я]{3,4}\\.? \\d{4} г\\., \\d{1,2}:\\d{2}$`),
  },
  en: {
    locale: "en-US",
    bought: "You bought the Food voucher.",
    codeLabel: "Redemption code:",
    codeHint: "Show this code or its QR code at a kiosk; it can be redeemed once.",
    qrAlt: (code: string) => `QR code of redemption code ${code}`,
    kioskTitle: "Balancer · kiosk",
    kioskAs: (name: string) => `Kiosk: ${name}`,
    valid: "Valid and not redeemed yet. Hand over the goods, then press Redeem.",
    notRedeemed: "Not redeemed",
    redeemedNow: "Redeemed: hand over Food voucher.",
    already: (kiosk: string) => new RegExp(`^Already redeemed [A-Z][a-z]{2} \\d{1,2}, \\d{4}, \\d{1,2}:\\d{2} [AP]M at ${kiosk}\\.$`),
    mistyped: "This is not a valid code. Check each character and try again.",
    redeemedOnViewer: /^Redeemed [A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2} [AP]M\.$/,
    issued: "Kiosk Food court is issued. Type its token into that kiosk's page now: it is not shown again.",
    listed: (id: string) => new RegExp(`^Food court \\(${id}\\), issued [A-Z][a-z]{2} \\d{1,2}, \\d{4}, \\d{1,2}:\\d{2} [AP]M$`),
  },
} as const;

for (const lang of ["ru", "en"] as const) {
  const L = LANGS[lang];

  describe(`in a ${L.locale} browser`, () => {
    it("shows a bought voucher's code and QR, issues a kiosk in the console, redeems the code there once and refuses it at a second kiosk with when and where", async () => {
      // A viewer of this run, signed in through the API; the page finds the token where it keeps it.
      const login = `kiosk-${lang}-${Date.now().toString(36)}`;
      const { body: auth } = await api<{ token: string }>("/auth/register", { method: "POST", json: { login, password: "123456" } });
      const kioskB = await api<{ kioskToken: string }>(`/admin/kiosks/gate-b-${lang}`, { method: "PUT", token: p.adminToken, json: { name: "Gate B" } });
      expect(kioskB.status).toBe(201);

      const context = await browser.newContext({ locale: L.locale, viewport: { width: 900, height: 1100 } });
      try {
        await context.addInitScript((token) => localStorage.setItem("balancer.viewerToken", token), auth.token);
        const viewer = await context.newPage();
        await viewer.goto(`${p.edgeUrl}/`);
        await viewer.waitForSelector("body[data-ready=true]");

        // Buy the voucher: its code appears under "Your purchases", as text and as a QR code of the same code.
        await viewer.locator('li[data-product-id="food-voucher"]').getByRole("button").click();
        await viewer.waitForSelector("#purchases .goods-code .code");
        expect(space(await viewer.locator("#shop-status").textContent())).toBe(L.bought);
        const code = (await viewer.locator("#purchases .goods-code .code").getAttribute("data-code"))!;
        expect(code).toMatch(/^[2-9A-HJKMNP-Z]{10}$/);
        const grouped = `${code.slice(0, 5)}-${code.slice(5)}`;
        expect(space(await viewer.locator("#purchases .goods-code p").first().textContent())).toBe(`${L.codeLabel} ${grouped}`);
        const qr = viewer.locator("#purchases img.qr");
        expect(await qr.getAttribute("alt")).toBe(L.qrAlt(grouped));
        expect(await qr.getAttribute("src")).toBe(expectedQr(code));
        expect(await qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 100)).toBe(true);
        expect(space(await viewer.locator("#purchases .goods-code .hint").textContent())).toBe(L.codeHint);
        await viewer.screenshot({ path: `test-results/web-kiosk-viewer-${lang}.png`, fullPage: true });

        // The operator issues kiosk A in the console; its token is shown there once.
        const operator = await context.newPage();
        await operator.goto(`${p.edgeUrl}/operator`);
        await operator.waitForSelector("body[data-ready=true]");
        await operator.fill("#token", p.adminToken);
        await operator.press("#token", "Enter");
        await operator.waitForSelector("#console:not([hidden])");
        await operator.click("#kiosks-section > summary");
        await operator.fill("#kiosk-id", `food-court-${lang}`);
        await operator.fill("#kiosk-name-input", "Food court");
        await operator.click("#kiosk-form button[type=submit]");
        const kioskAToken = space(await operator.locator("#kiosk-token").textContent());
        expect(kioskAToken).toMatch(new RegExp(`^kiosk\\.food-court-${lang}\\.[\\w-]{43}$`));
        expect(space(await operator.locator("#kiosks-status").textContent())).toBe(L.issued);
        expect(space(await operator.locator(`#kiosks li[data-kiosk-id="food-court-${lang}"] span`).textContent())).toMatch(L.listed(`food-court-${lang}`));
        await operator.screenshot({ path: `test-results/web-kiosk-console-${lang}.png`, fullPage: true });

        // Two kiosks open with their own tokens.
        const open = async (token: string, name: string): Promise<Page> => {
          const page = await context.newPage();
          await page.goto(`${p.edgeUrl}/kiosk`);
          await page.waitForSelector("body[data-ready=true]");
          expect(await page.title()).toBe(L.kioskTitle);
          await page.fill("#token", token);
          await page.press("#token", "Enter");
          await page.waitForSelector("#kiosk:not([hidden])");
          expect(space(await page.locator("#kiosk-name").textContent())).toBe(L.kioskAs(name));
          return page;
        };
        const [a, b] = [await open(kioskAToken, "Food court"), await open(kioskB.body.kioskToken, "Gate B")];

        // A mistyped code is refused as not a code at all.
        const typo = code.slice(0, 4) + (code[4] === "2" ? "3" : "2") + code.slice(5);
        await a.fill("#code", typo);
        await a.press("#code", "Enter");
        await a.waitForFunction(() => document.getElementById("code-status")?.dataset.tone === "error");
        expect(space(await a.locator("#code-status").textContent())).toBe(L.mistyped);

        // Both kiosks check the real code (lower case, as a person might type it): valid, not redeemed.
        for (const k of [a, b]) {
          await k.fill("#code", grouped.toLowerCase());
          await k.press("#code", "Enter");
          await k.waitForFunction(() => document.getElementById("code-status")?.dataset.tone === "ok");
          expect(space(await k.locator("#code-status").textContent())).toBe(L.valid);
          const result = space(await k.locator("#result").textContent());
          for (const expected of [grouped, "Food voucher", login, L.notRedeemed]) expect(result).toContain(expected);
          expect(await k.locator("#redeem").isEnabled()).toBe(true);
        }

        // Kiosk A redeems; kiosk B, still showing the code as valid, is refused with when and where.
        await a.click("#redeem");
        await a.waitForFunction((text) => document.getElementById("code-status")?.textContent === text, L.redeemedNow);
        await a.screenshot({ path: `test-results/web-kiosk-${lang}.png`, fullPage: true });
        await b.click("#redeem");
        await b.waitForFunction(() => document.getElementById("code-status")?.dataset.tone === "error");
        expect(space(await b.locator("#code-status").textContent())).toMatch(L.already("Food court"));
        expect(await b.locator("#redeem").isDisabled()).toBe(true);
        await b.screenshot({ path: `test-results/web-kiosk-refused-${lang}.png`, fullPage: true });

        // Kiosk A trying again is refused the same way: the code is redeemed once.
        await a.fill("#code", code);
        await a.press("#code", "Enter");
        await a.waitForFunction(() => document.getElementById("code-status")?.dataset.tone === "error");
        expect(space(await a.locator("#code-status").textContent())).toMatch(L.already("Food court"));
        expect(await a.locator("#redeem").isDisabled()).toBe(true);

        // A phone-sized kiosk needs no sideways scrolling.
        await a.setViewportSize({ width: 360, height: 740 });
        expect(await a.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);

        // The viewer's page says the voucher was redeemed.
        await viewer.reload();
        await viewer.waitForSelector("#purchases .goods-code .hint");
        expect(space(await viewer.locator("#purchases .goods-code .hint").textContent())).toMatch(L.redeemedOnViewer);
        expect(await viewer.locator("#purchases img.qr").count()).toBe(0);
      } finally {
        await context.close();
      }
    });
  });
}

describe("the kiosk's camera", () => {
  it("reads a viewer's QR code where the browser detects QR codes, and is not offered where it cannot", async () => {
    const { body: auth } = await api<{ token: string }>("/auth/register", { method: "POST", json: { login: `camera-${Date.now().toString(36)}`, password: "123456" } });
    const bought = await fetch(`${p.edgeUrl}/api/v1/purchases`, {
      method: "POST",
      headers: { authorization: `Bearer ${auth.token}`, "content-type": "application/json", "idempotency-key": `camera-${Date.now()}` },
      body: JSON.stringify({ productId: "food-voucher" }),
    });
    const { purchase } = (await bought.json()) as { purchase: { code: string } };

    const context = await browser.newContext({ locale: "en-US" });
    try {
      // Headless Chromium on Linux has neither a camera nor BarcodeDetector: a canvas stands in for the camera and a
      // detector that reports what the test puts in window.__qr stands in for the browser's, so the page's own
      // wiring (offer, camera on, read, check, camera off) is what is tested.
      await context.addInitScript(() => {
        const w = window as unknown as { __qr?: string; BarcodeDetector?: unknown };
        w.BarcodeDetector = class {
          static async getSupportedFormats() {
            return ["qr_code"];
          }
          async detect() {
            return w.__qr ? [{ rawValue: w.__qr }] : [];
          }
        };
        const getUserMedia = async () => {
          const canvas = document.createElement("canvas");
          canvas.width = canvas.height = 64;
          canvas.getContext("2d")!.fillRect(0, 0, 64, 64);
          return canvas.captureStream(5);
        };
        if (navigator.mediaDevices) navigator.mediaDevices.getUserMedia = getUserMedia;
        else Object.defineProperty(navigator, "mediaDevices", { value: { getUserMedia } });
      });
      const page = await context.newPage();
      await page.goto(`${p.edgeUrl}/kiosk`);
      await page.waitForSelector("body[data-ready=true]");
      await page.fill("#token", p.adminToken);
      await page.press("#token", "Enter");
      await page.waitForSelector("#scan:not([hidden])");
      await page.click("#scan");
      await page.waitForSelector("#camera:not([hidden])");
      expect(space(await page.locator("#code-status").textContent())).toBe("Hold the QR code in front of the camera.");
      await page.evaluate((code) => ((window as unknown as { __qr?: string }).__qr = code), purchase.code);
      await page.waitForFunction(() => document.getElementById("code-status")?.dataset.tone === "ok");
      expect(space(await page.locator("#code-status").textContent())).toBe(LANGS.en.valid);
      expect(await page.inputValue("#code")).toBe(`${purchase.code.slice(0, 5)}-${purchase.code.slice(5)}`);
      expect(await page.locator("#camera").isHidden()).toBe(true);
      expect(space(await page.locator("#result").textContent())).toContain("Food voucher");
    } finally {
      await context.close();
    }

    // Without BarcodeDetector (this browser as it is), no camera button.
    const plain = await browser.newPage();
    try {
      await plain.goto(`${p.edgeUrl}/kiosk`);
      await plain.waitForSelector("body[data-ready=true]");
      await plain.fill("#token", p.adminToken);
      await plain.press("#token", "Enter");
      await plain.waitForSelector("#kiosk:not([hidden])");
      expect(await plain.locator("#scan").isHidden()).toBe(true);
    } finally {
      await plain.close();
    }
  });
});
