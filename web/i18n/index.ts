// The pages' language: chosen from the browser (Russian for a Russian browser, English otherwise), switchable on the
// page and remembered in localStorage; texts from the typed catalogues, numbers, prices, dates and durations through Intl.
import { ApiError } from "../api";
import { fillParts, pluralText, type Catalogue, type MessageKey, type Vars } from "./core";
import { en } from "./en";
import { ru } from "./ru";

export type Locale = "ru" | "en";
const CATALOGUES: Record<Locale, Catalogue> = { en, ru };
/** Each language named in itself, for the switch (never translated). */
const NAMES: Record<Locale, string> = { ru: "Русский", en: "English" };
const STORAGE_KEY = "balancer.lang";

let current: Locale = "en";
/** The BCP 47 tag Intl formats with: the browser's own variant of the chosen language (en-GB dates for a British browser). */
let tag = "en-US";
let plurals = new Intl.PluralRules(tag);
const listeners: (() => void)[] = [];

function isLocale(v: unknown): v is Locale {
  return v === "ru" || v === "en";
}

function browserLanguages(): readonly string[] {
  return navigator.languages?.length ? navigator.languages : [navigator.language ?? "en-US"];
}

/** The language a first visit gets: the first of the browser's languages that the pages speak, else English. */
export function preferredLocale(languages: readonly string[] = browserLanguages()): Locale {
  for (const l of languages) {
    const primary = l.toLowerCase().split("-")[0];
    if (isLocale(primary)) return primary;
  }
  return "en";
}

function storedLocale(): Locale | null {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    return isLocale(v) ? v : null;
  } catch {
    // Storage blocked (a privacy mode): the browser's language still applies.
    return null;
  }
}

export function locale(): Locale {
  return current;
}

/** The text of `key` in the current language, with `{placeholders}` filled (numbers formatted for the locale). */
export function t<K extends MessageKey>(key: K, ...vars: Vars<K>): string {
  return tParts(key, ...(vars as [])).join("");
}

/** Like `t`, but a placeholder may be an element (a countdown in a <strong>), returned in place for `append`. */
export function tNodes<K extends MessageKey>(key: K, ...vars: Vars<K, string | number | Node>): (string | Node)[] {
  return tParts(key, ...(vars as []));
}

/** Untyped lookup for keys computed at run time (`error.${code}`, `data-i18n` attributes); the caller checked the key exists. */
function text(key: MessageKey, vars: Record<string, string | number> = {}): string {
  return tParts(key, vars).join("");
}

function tParts(key: MessageKey, vars: Record<string, string | number | Node> = {}): (string | Node)[] {
  const message = CATALOGUES[current][key] ?? en[key];
  const count = typeof vars.count === "number" ? vars.count : undefined;
  const text = pluralText(message, plurals, count);
  return fillParts(text, vars).map((v) => (typeof v === "number" ? formatNumber(v) : v));
}

// ---- Intl ----------------------------------------------------------------------------------------

export function formatNumber(n: number, options?: Intl.NumberFormatOptions): string {
  return new Intl.NumberFormat(tag, options).format(n);
}

/** A price in minor units: "299 ₽" in Russian, "₽299" in English; kopecks only when there are some. */
export function formatMoney(price: { amount: number; currency: string }): string {
  const whole = price.amount % 100 === 0;
  try {
    return new Intl.NumberFormat(tag, {
      style: "currency",
      currency: price.currency,
      currencyDisplay: "narrowSymbol",
      minimumFractionDigits: whole ? 0 : 2,
      maximumFractionDigits: whole ? 0 : 2,
    }).format(price.amount / 100);
  } catch {
    // An unknown currency code: the amount and the code as sent.
    return `${formatNumber(price.amount / 100)} ${price.currency}`;
  }
}

export function formatDateTime(date: Date): string {
  return new Intl.DateTimeFormat(tag, { dateStyle: "medium", timeStyle: "short" }).format(date);
}

export function formatTime(date: Date): string {
  return new Intl.DateTimeFormat(tag, { timeStyle: "medium" }).format(date);
}

/** A ratio (0..1) as a percentage: "41.7%" / "41,7 %". */
export function formatPercent(ratio: number, fractionDigits = 1): string {
  return formatNumber(ratio, { style: "percent", minimumFractionDigits: fractionDigits, maximumFractionDigits: fractionDigits });
}

/** A rough wait: "less than a minute", "about 40 seconds", "about 2 minutes" / "около 2 минут", "about 1 hour". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) return t("duration.lessThanMinute");
  if (seconds < 90) return t("duration.aboutSeconds", { count: Math.max(1, Math.round(seconds)) });
  if (seconds < 90 * 60) return t("duration.aboutMinutes", { count: Math.round(seconds / 60) });
  return t("duration.aboutHours", { count: Math.round(seconds / 3600) });
}

/** A bitrate: "640 kbit/s" under a megabit, "3.2 Mbit/s" above. */
export function formatBitrate(bps: number): string {
  return bps < 1e6
    ? t("unit.kbps", { value: formatNumber(bps / 1e3, { maximumFractionDigits: 0 }) })
    : t("unit.mbps", { value: formatNumber(bps / 1e6, { minimumFractionDigits: 1, maximumFractionDigits: 1 }) });
}

// ---- status lines ----------------------------------------------------------------------------------

/** A status text, or a function that makes it, so the line can be said again in another language. */
export type Text = string | (() => string);
const lines = new Map<string, { text: Text; tone: "info" | "error" | "ok" }>();

/** Shows a status line in element `id`; the tone picks its colour (see .status in public/style.css). */
export function say(id: string, text: Text, tone: "info" | "error" | "ok" = "info"): void {
  lines.set(id, { text, tone });
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  el.textContent = typeof text === "function" ? text() : text;
  el.dataset.tone = tone;
}

/** What to tell a person about a failed call, from the API's error `code` (never the server's English `message`). */
export function errorText(err: unknown): () => string {
  return () => describeError(err);
}

function hasKey(key: string): key is MessageKey {
  return Object.prototype.hasOwnProperty.call(en, key);
}

function describeError(err: unknown): string {
  if (!(err instanceof ApiError)) return t("error.unexpected");
  if (err.code === "invalid_request") {
    const fields = [...new Set(err.issues.map((i) => fieldName(i.path)))];
    return fields.length ? t("error.invalid_request", { fields: fields.join(", ") }) : t("error.invalid_request.plain");
  }
  const key = `error.${err.code}`;
  if (hasKey(key)) return text(key);
  if (err.status === 401) return t("error.unauthenticated");
  if (err.status === 404) return t("error.not_found");
  if (err.status >= 500) return t("error.internal");
  return t("error.http", { status: err.status });
}

function fieldName(path: string | undefined): string {
  const parts = (path ?? "").split(/[./]/).filter(Boolean);
  const key = `field.${parts[parts.length - 1] ?? ""}`;
  return hasKey(key) ? text(key) : t("field.other");
}

// ---- the page --------------------------------------------------------------------------------------

/** Translates the page's fixed texts: `data-i18n` (text), `data-i18n-label` (aria-label), `data-i18n-placeholder`. */
function applyStatic(): void {
  document.documentElement.lang = current;
  // forEach, not for…of: the Node-side typecheck of the unit tests has the DOM without its iterables.
  document.querySelectorAll<HTMLElement>("[data-i18n]").forEach((el) => (el.textContent = known(el.dataset.i18n)));
  document.querySelectorAll<HTMLElement>("[data-i18n-label]").forEach((el) => el.setAttribute("aria-label", known(el.dataset.i18nLabel)));
  document.querySelectorAll<HTMLElement>("[data-i18n-placeholder]").forEach((el) => el.setAttribute("placeholder", known(el.dataset.i18nPlaceholder)));
  document.querySelectorAll<HTMLButtonElement>("#lang-switch button[data-lang]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.lang === current)));
  for (const [id, line] of lines) {
    const el = document.getElementById(id);
    if (el && typeof line.text === "function") el.textContent = line.text();
  }
}

/** A key named in the HTML; a typo shows itself on the page instead of an empty element. */
function known(key: string | undefined): string {
  return key && hasKey(key) ? text(key) : `{${key}}`;
}

function use(l: Locale): void {
  current = l;
  const own = browserLanguages().find((x) => x.toLowerCase().split("-")[0] === l);
  tag = own ?? (l === "ru" ? "ru-RU" : "en-US");
  plurals = new Intl.PluralRules(tag);
}

/** Switches the page to `l`, remembers the choice, and has the page redraw what it drew from data. */
export function setLocale(l: Locale): void {
  use(l);
  try {
    localStorage.setItem(STORAGE_KEY, l);
  } catch {
    // Not remembered; the page still switches.
  }
  applyStatic();
  for (const fn of listeners) fn();
}

/** `fn` runs after every switch of language (the page redraws its lists and values). */
export function onLocaleChange(fn: () => void): void {
  listeners.push(fn);
}

/** Picks the language (remembered choice, else the browser's), translates the fixed texts and wires the switch in #lang-switch. */
export function initI18n(): void {
  use(storedLocale() ?? preferredLocale());
  const group = document.getElementById("lang-switch");
  if (group) {
    group.replaceChildren(
      ...(Object.keys(NAMES) as Locale[]).map((l) => {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "secondary";
        b.dataset.lang = l;
        b.lang = l;
        b.textContent = NAMES[l];
        b.addEventListener("click", () => l !== current && setLocale(l));
        return b;
      }),
    );
  }
  applyStatic();
}
