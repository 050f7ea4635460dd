// The pages' message catalogues (web/i18n): both languages give every key, nothing is empty, placeholders and plural
// forms agree, Russian texts are Russian, every API error code and every key the HTML names has a text.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Failure } from "../../workers/shared/errors";
import { placeholdersOf, pluralText, type PluralForms } from "../../web/i18n/core";
import { en } from "../../web/i18n/en";
import { ru } from "../../web/i18n/ru";
import { preferredLocale } from "../../web/i18n";

const catalogues = { en, ru } as Record<"en" | "ru", Record<string, string | PluralForms>>;
const keys = Object.keys(en);
const forms = (m: string | PluralForms): string[] => (typeof m === "string" ? [m] : Object.values(m).filter((v): v is string => v !== undefined));

// Every code of the API's error union: adding a code to workers/shared/errors.ts without listing it here fails typecheck.
const API_ERROR_CODES: Record<Failure["code"], true> = {
  invalid_request: true,
  not_found: true,
  method_not_allowed: true,
  unauthenticated: true,
  forbidden: true,
  address_limit: true,
  invalid_token: true,
  session_expired: true,
  entitlement_required: true,
  login_taken: true,
  invalid_credentials: true,
  too_many_attempts: true,
  payment_declined: true,
  idempotency_conflict: true,
  already_owned: true,
  invalid_code: true,
  already_redeemed: true,
  event_busy: true,
  origin_error: true,
  origin_timeout: true,
  bad_origin_playlist: true,
  unavailable: true,
  internal: true,
};

describe("the message catalogues", () => {
  it("give every key in both languages, and no key only one of them has", () => {
    expect(Object.keys(ru).sort()).toEqual([...keys].sort());
  });

  it("have no empty text in any language or plural form", () => {
    for (const [lang, catalogue] of Object.entries(catalogues)) {
      for (const key of keys) for (const text of forms(catalogue[key]!)) expect(text.trim(), `${lang} ${key}`).not.toBe("");
    }
  });

  it("use the same placeholders in both languages and in every plural form", () => {
    for (const key of keys) {
      const expected = placeholdersOf(forms(en[key as keyof typeof en])[0]!);
      for (const [lang, catalogue] of Object.entries(catalogues)) {
        for (const text of forms(catalogue[key]!)) expect(placeholdersOf(text), `${lang} ${key}: ${text}`).toEqual(expected);
      }
    }
  });

  it("give a plural text where English has one, with every plural category the language has", () => {
    for (const [lang, catalogue] of Object.entries(catalogues)) {
      const categories = new Intl.PluralRules(lang).resolvedOptions().pluralCategories;
      for (const key of keys) {
        const message = catalogue[key]!;
        expect(typeof message, `${lang} ${key}`).toBe(typeof en[key as keyof typeof en]);
        if (typeof message === "string") continue;
        expect(placeholdersOf(message.other), `${lang} ${key}`).toContain("count");
        for (const category of categories) expect(message[category as keyof PluralForms], `${lang} ${key} ${category}`).toBeTruthy();
      }
    }
  });

  it("write every Russian text in Russian: no Latin words but the brand, protocol and variable names", () => {
    const allowed = /\b(Balancer|HTTP|ADMIN_TOKEN|QR)\b/g;
    for (const key of keys) {
      for (const text of forms(ru[key as keyof typeof ru])) {
        const words = text.replace(/\{\w+\}/g, "").replace(allowed, "");
        expect(words, `ru ${key}: ${text}`).not.toMatch(/[A-Za-z]/);
      }
    }
  });

  it("have a text for every error code the API answers with, in both languages", () => {
    for (const code of Object.keys(API_ERROR_CODES)) {
      for (const [lang, catalogue] of Object.entries(catalogues)) expect(catalogue[`error.${code}`], `${lang} error.${code}`).toBeTruthy();
    }
  });

  it("have a text for every key the pages' HTML names", () => {
    for (const page of ["public/index.html", "public/operator.html", "public/kiosk.html"]) {
      const html = readFileSync(page, "utf8");
      const named = [...html.matchAll(/data-i18n(?:-label|-placeholder)?="([^"]+)"/g)].map((m) => m[1]!);
      expect(named.length, page).toBeGreaterThan(10);
      for (const key of named) expect(keys, `${page} names ${key}`).toContain(key);
    }
  });
});

describe("plural forms", () => {
  const wait = (lang: "en" | "ru", n: number) =>
    pluralText(catalogues[lang]["duration.aboutMinutes"]!, new Intl.PluralRules(lang), n).replace("{count}", String(n));

  it("say a wait in Russian in the genitive after «около», by the number's last digits", () => {
    expect([1, 2, 5, 11, 21, 22, 25, 101].map((n) => wait("ru", n))).toEqual([
      "около 1 минуты",
      "около 2 минут",
      "около 5 минут",
      "около 11 минут",
      "около 21 минуты",
      "около 22 минут",
      "около 25 минут",
      "около 101 минуты",
    ]);
  });

  it("say a wait in English in the singular only for one", () => {
    expect([1, 2, 21].map((n) => wait("en", n))).toEqual(["about 1 minute", "about 2 minutes", "about 21 minutes"]);
  });
});

describe("the language a first visit gets", () => {
  it("is Russian for a browser that prefers Russian, English for English and any other language", () => {
    expect(preferredLocale(["ru-RU", "ru", "en-US"])).toBe("ru");
    expect(preferredLocale(["ru"])).toBe("ru");
    expect(preferredLocale(["en-GB", "ru"])).toBe("en");
    expect(preferredLocale(["de-DE", "fr"])).toBe("en");
    expect(preferredLocale([])).toBe("en");
  });

  it("is the first language the pages speak among the browser's preferences", () => {
    expect(preferredLocale(["uk-UA", "ru-RU", "en"])).toBe("ru");
    expect(preferredLocale(["kk", "en-US", "ru"])).toBe("en");
  });
});
