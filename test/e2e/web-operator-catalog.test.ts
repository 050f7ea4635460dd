// Acceptance: the console's catalog management, sessions and sales in a Russian and an English browser. The operator
// creates an event, renames and archives it (it leaves the viewer's list; restoring brings it back), creates a
// product whose title holds a comma and quotes, sees a viewer's session under its channel and ends it (its playback
// is then refused), reads the sales with prices in the page's locale and downloads them as CSV; every text on the
// page is in the browser's language but the API's own data (titles, ids, logins).
import { mkdirSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { en } from "../../web/i18n/en";
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

async function call<T>(path: string, init: { method?: string; bearer?: string; json?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.bearer) headers.authorization = `Bearer ${init.bearer}`;
  if (init.json !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${p.edgeUrl}/api/v1${path}`, { method: init.method ?? "GET", headers, ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** A signed-in viewer who bought the premium pass and is watching premium: a sale and a session with a login. */
async function watchingBuyer(login: string): Promise<{ sessionId: string; playbackUrl: string }> {
  const reg = await call<{ token: string }>("/auth/register", { method: "POST", json: { login, password: `${login}-password` } });
  expect(reg.status).toBe(201);
  const token = reg.body.token;
  expect((await call("/purchases", { method: "POST", bearer: token, headers: { "idempotency-key": `${login}-1` }, json: { productId: "premium-pass" } })).status).toBe(201);
  const access = await call<{ sessionId: string; playbackUrl: string }>("/events/demo/channels/premium/access", { method: "POST", bearer: token, json: {} });
  expect(access.status).toBe(200);
  // Played once, so the session is claimed.
  expect((await fetch(`${p.edgeUrl}${access.body.playbackUrl}`)).status).toBe(200);
  return access.body;
}

/** The console's parts this test is about: its catalog, sessions and sales sections and the event selector. */
const SECTIONS = ["#catalog-section", "#sessions-section", "#sales-section", "#event-select"];

/** Every text of those parts: all text nodes (hidden ones too), accessible names, placeholders, and the page title. */
async function pageTexts(page: Page): Promise<string[]> {
  return page.evaluate((sections) => {
    const out: string[] = [document.title];
    const roots = sections.map((s) => document.querySelector(s)!);
    for (const root of roots) {
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const text = n.textContent?.trim();
        if (text) out.push(text);
      }
    }
    for (const el of roots.flatMap((r) => [r, ...Array.from(r.querySelectorAll("[aria-label], [placeholder], [title]"))])) {
      for (const a of ["aria-label", "placeholder", "title"]) {
        const v = el.getAttribute(a);
        if (v) out.push(v);
      }
    }
    return out;
  }, SECTIONS);
}

/** The English catalogue's words between its placeholders, to name the key a Russian page left in English. */
const englishPieces = Object.entries(en).flatMap(([key, message]) =>
  (typeof message === "string" ? [message] : Object.values(message))
    .flatMap((text) => text.split(/\{\w+\}/))
    .map((piece) => piece.trim())
    .filter((piece) => /[A-Za-z]{2,}/.test(piece))
    .map((piece) => ({ key, piece })),
);

/**
 * Texts in the other language once the API's data (titles, ids, logins) is taken out: Latin words on a Russian page
 * (with the English key they come from, if any), Cyrillic on an English one; and any `{key}` a missing message leaves.
 */
async function foreignTexts(page: Page, lang: "ru" | "en", data: string[]): Promise<string[]> {
  const known = [...data, "Balancer", "ADMIN_TOKEN", lang === "ru" ? "English" : "Русский"].sort((a, b) => b.length - a.length);
  const left: string[] = [];
  for (const text of await pageTexts(page)) {
    if (/\{[a-z]+\.[\w.]+\}/.test(text)) {
      left.push(`${text}  ← a message key with no text`);
      continue;
    }
    let rest = text;
    for (const k of known) rest = rest.split(k).join(" ");
    if (lang === "en") {
      if (/[А-Яа-яЁё]/.test(rest)) left.push(text);
      continue;
    }
    const english = englishPieces.filter(({ piece }) => rest.includes(piece));
    if (english.length) left.push(`${text}  ← ${english.map((e) => e.key).join(", ")}`);
    else if (/[A-Za-z]/.test(rest)) left.push(text);
  }
  return left;
}

/** The API's own words the console shows: every title, id and description of the catalog, logins, session ids. */
async function apiData(extra: string[]): Promise<string[]> {
  const admin = { bearer: p.adminToken };
  const [events, products, channels, sessions] = await Promise.all([
    call<{ id: string; title: string }[]>("/admin/events", admin),
    call<{ id: string; title: string; description: string; eventId?: string; channelIds?: string[] }[]>("/admin/products", admin),
    call<{ id: string; title: string }[]>("/admin/events/demo/channels", admin),
    call<{ sessions: { id: string; viewer: { login: string | null } | null }[] }>("/admin/events/demo/sessions", admin),
  ]);
  return [
    ...events.body.flatMap((e) => [e.title, e.id]),
    ...products.body.flatMap((x) => [x.title, x.id, x.description, ...(x.channelIds ?? [])]),
    ...channels.body.flatMap((c) => [c.title, c.id]),
    ...sessions.body.sessions.flatMap((s) => [s.id.slice(0, 12), s.viewer?.login ?? ""]).filter(Boolean),
    ...extra,
  ];
}

/** What each language's run expects, written out (not read from the catalogues) so a wrong catalogue fails too. */
const LANGS = {
  ru: {
    locale: "ru-RU",
    tokenLabel: "Токен оператора (ADMIN_TOKEN)",
    catalog: "Каталог",
    sessions: "Сеансы",
    sales: "Продажи",
    id: "Идентификатор (строчные латинские буквы, цифры, «-» и «_»)",
    title: "Название",
    save: "Сохранить",
    saved: "Сохранено.",
    live: "активно",
    archived: "в архиве",
    archive: (t: string) => `Отправить «${t}» в архив`,
    restore: (t: string) => `Вернуть «${t}» из архива`,
    edit: (t: string) => `Изменить «${t}»`,
    archivedDone: (t: string) => `«${t}» в архиве: зрители его больше не видят; данные и продажи сохранены.`,
    price: "Цена",
    event: "Событие",
    anonymous: "аноним",
    channelHeading: "Premium camera: 1",
    end: "Завершить",
    ended: /^Сеанс ses_[0-9a-f]{8} завершён: место освобождено, показ остановлен\.$/,
    noSessions: "Активных сеансов нет.",
    // The Russian run goes first: its buyer's is the pass's one sale so far.
    sold: "1",
    passRevenue: "299 ₽",
    eventTotal: "Это событие: продано 1, 299 ₽",
    download: "Скачать таблицу продаж события",
  },
  en: {
    locale: "en-US",
    tokenLabel: "Operator token (ADMIN_TOKEN)",
    catalog: "Catalog",
    sessions: "Sessions",
    sales: "Sales",
    id: "Id (a–z, 0–9, “-” and “_”)",
    title: "Title",
    save: "Save",
    saved: "Saved.",
    live: "live",
    archived: "archived",
    archive: (t: string) => `Archive “${t}”`,
    restore: (t: string) => `Restore “${t}”`,
    edit: (t: string) => `Edit “${t}”`,
    archivedDone: (t: string) => `“${t}” is archived: viewers no longer see it; its data and sales are kept.`,
    price: "Price",
    event: "Event",
    anonymous: "anonymous",
    channelHeading: "Premium camera: 1",
    end: "End",
    ended: /^Session ses_[0-9a-f]{8} is ended: its slot is free and its playback stops\.$/,
    noSessions: "No active sessions.",
    sold: "2",
    passRevenue: "₽598",
    eventTotal: "This event: 2 sold, ₽598",
    download: "Download this event's sales (CSV)",
  },
} as const;

const space = (s: string | null) => (s ?? "").replace(/[\u00a0\u202f]/g, " ").trim();

for (const lang of ["ru", "en"] as const) {
  const L = LANGS[lang];

  describe(`the console's catalog, sessions and sales in a ${L.locale} browser`, () => {
    let context: BrowserContext;
    let page: Page;
    const text = async (selector: string) => space(await page.locator(selector).first().textContent());
    /** The session this run ended: the console still names it in its status line. */
    let endedSession = "";

    beforeAll(async () => {
      context = await browser.newContext({ locale: L.locale, viewport: { width: 1000, height: 1400 }, acceptDownloads: true });
      page = await context.newPage();
      await page.goto(`${p.edgeUrl}/operator?pollMs=1000`);
      await page.waitForSelector("body[data-ready=true]");
      await page.getByLabel(L.tokenLabel).fill(p.adminToken);
      await page.keyboard.press("Enter");
      await page.waitForSelector("#console:not([hidden])");
    });
    afterAll(async () => {
      await context?.close();
    });

    it("creates, renames, archives and restores an event; an archived event leaves the viewer's list", async () => {
      const eventId = `rehearsal-${lang}`;
      await page.locator("#catalog-section > summary").click();
      const form = page.locator("#cat-ev-form");
      await form.getByLabel(L.id).fill(eventId);
      await form.getByLabel(L.title, { exact: true }).fill("Rehearsal");
      await form.getByRole("button", { name: L.save, exact: true }).click();
      await expect.poll(() => text("#catalog-status")).toBe(L.saved);
      const row = page.locator(`#catalog-events li[data-event-id="${eventId}"]`);
      await expect.poll(() => row.locator(".badge").textContent()).toBe(L.live);

      await row.getByRole("button", { name: L.edit("Rehearsal") }).click();
      await form.getByLabel(L.title, { exact: true }).fill("Rehearsal, take 2");
      await form.getByRole("button", { name: L.save, exact: true }).click();
      await expect.poll(() => row.locator("strong").textContent()).toBe("Rehearsal, take 2");
      const publicIds = async () => (await call<{ id: string }[]>("/events")).body.map((e) => e.id);
      expect(await publicIds()).toContain(eventId);

      await row.getByRole("button", { name: L.archive("Rehearsal, take 2") }).click();
      await expect.poll(() => text("#catalog-status")).toBe(L.archivedDone("Rehearsal, take 2"));
      await expect.poll(() => row.locator(".badge").textContent()).toBe(L.archived);
      // Gone for viewers at once (the edge's catalog copy is the isolate's own, refreshed by the write).
      expect(await publicIds()).not.toContain(eventId);
      expect((await call(`/events/${eventId}/channels`)).status).toBe(404);

      await row.getByRole("button", { name: L.restore("Rehearsal, take 2") }).click();
      await expect.poll(() => row.locator(".badge").textContent()).toBe(L.live);
      expect(await publicIds()).toContain(eventId);
      await row.getByRole("button", { name: L.archive("Rehearsal, take 2") }).click();
      await expect.poll(() => row.locator(".badge").textContent()).toBe(L.archived);

      // A product with a comma and quotes in its title, priced in the form's own words.
      const productForm = page.locator("#pr-form");
      await productForm.getByLabel(L.id).fill(`scarf-${lang}`);
      await productForm.getByLabel(L.title, { exact: true }).fill('Scarf, "home" colours');
      await productForm.getByLabel(L.price).fill("12,50");
      await productForm.getByLabel(L.event).selectOption("demo");
      await productForm.getByRole("button", { name: L.save, exact: true }).click();
      await expect.poll(() => page.locator(`#catalog-products li[data-product-id="scarf-${lang}"] strong`).textContent()).toBe('Scarf, "home" colours');
      const product = (await call<{ id: string; price: { amount: number } }[]>("/products")).body.find((x) => x.id === `scarf-${lang}`);
      expect(product?.price.amount).toBe(1250);

      expect(await foreignTexts(page, lang, await apiData([]))).toEqual([]);
    });

    it("lists a viewer's session under its channel with the viewer's login, and ending it refuses its playback", async () => {
      const login = `buyer-${lang}`;
      const watching = await watchingBuyer(login);
      await page.locator("#sessions-section > summary").click();
      const item = page.locator(`#sessions-list li[data-session-id="${watching.sessionId}"]`);
      await expect.poll(() => item.locator("strong").textContent()).toBe(login);
      const group = page.locator(`#sessions-list .session-group[data-channel-id="premium"]`);
      expect(space(await group.locator("h4").textContent())).toBe(L.channelHeading);
      expect(await foreignTexts(page, lang, await apiData([login]))).toEqual([]);
      await page.screenshot({ path: `test-results/web-operator-catalog-${lang}.png`, fullPage: true });

      await item.getByRole("button", { name: new RegExp(`^${L.end}`) }).click();
      endedSession = watching.sessionId.slice(0, 12);
      await expect.poll(() => text("#sessions-status")).toMatch(L.ended);
      await expect.poll(() => item.count()).toBe(0);
      const refused = await fetch(`${p.edgeUrl}${watching.playbackUrl}`);
      expect(refused.status).toBe(410);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("session_expired");
    });

    it("shows the event's sales with revenue in the page's locale and offers them as a CSV download", async () => {
      await page.locator("#sales-section > summary").click();
      const pass = page.locator('#sales-products tr[data-product-id="premium-pass"]');
      const sold = L.sold;
      await expect.poll(async () => space(await pass.locator("td").first().textContent())).toBe(sold);
      expect(space(await pass.locator("td").nth(1).textContent())).toBe(L.passRevenue);
      expect(await text("#sales-total")).toBe(L.eventTotal);
      const link = page.getByRole("link", { name: L.download, exact: true });
      await expect.poll(() => link.getAttribute("download")).toBe("sales-demo.csv");
      const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
      const stream = await download.createReadStream();
      let csv = "";
      for await (const chunk of stream) csv += String(chunk);
      const lines = csv.split("\r\n");
      expect(lines[0]).toBe("event_id,event_title,product_id,product_title,kind,currency,sales,revenue,revenue_minor_units");
      expect(lines).toContain(`demo,Demo match,premium-pass,Premium pass,channel_pass,RUB,${sold},${sold === "1" ? "299.00" : "598.00"},${sold === "1" ? "29900" : "59800"}`);
      expect(lines).toContain(`demo,Demo match,scarf-${lang},"Scarf, ""home"" colours",goods,,0,,0`);
      expect(await foreignTexts(page, lang, await apiData([endedSession]))).toEqual([]);
    });
  });
}
