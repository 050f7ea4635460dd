// The pure half of the pages' translations: catalogue types, placeholders, plural forms. No DOM, so the unit tests import it.
import type { en } from "./en";

/** Forms of a message that depends on `{count}`, chosen by `Intl.PluralRules` (English uses one/other; Russian one/few/many/other). */
export interface PluralForms {
  one: string;
  few?: string;
  many?: string;
  other: string;
}

export type MessageKey = keyof typeof en;
/** What every language must give: the same keys as the English catalogue, a plain text where English has one, plural forms where English has them. */
export type Catalogue = { [K in MessageKey]: (typeof en)[K] extends string ? string : PluralForms };

/** The placeholder names of a message text, e.g. `"{a} of {b}"` → `"a" | "b"`. */
type NamesIn<S> = S extends `${string}{${infer Name}}${infer Rest}` ? Name | NamesIn<Rest> : never;
export type Placeholders<K extends MessageKey> = (typeof en)[K] extends { other: infer Other } ? NamesIn<Other> | "count" : NamesIn<(typeof en)[K]>;
/** The values a message needs: none for a text without placeholders, one record naming each otherwise. */
export type Vars<K extends MessageKey, V = string | number> = [Placeholders<K>] extends [never] ? [] : [Record<Placeholders<K>, V>];
/** The keys of texts without placeholders. */
export type PlainKey = { [K in MessageKey]: [Placeholders<K>] extends [never] ? K : never }[MessageKey];

const PLACEHOLDER = /\{(\w+)\}/g;

/** The placeholder names a text uses, sorted and without repeats (the catalogue test compares them across languages). */
export function placeholdersOf(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]!))].sort();
}

/** The text of `message` for `count`, in the plural form `rules` picks (falling back to `other`). */
export function pluralText(message: string | PluralForms, rules: Intl.PluralRules, count: number | undefined): string {
  if (typeof message === "string") return message;
  const form = rules.select(count ?? 0) as keyof PluralForms;
  return message[form] ?? message.other;
}

/**
 * Splits `text` at its placeholders into literal strings and the values given for them, in order
 * (values stay what they are, so a page can put an element where a placeholder stands).
 */
export function fillParts<V>(text: string, vars: Record<string, V>): (string | V)[] {
  const parts: (string | V)[] = [];
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (m.index! > last) parts.push(text.slice(last, m.index));
    // A name without a value stays visible as written, so a mistake shows instead of silently vanishing.
    parts.push(m[1]! in vars ? vars[m[1]!]! : m[0]);
    last = m.index! + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}
