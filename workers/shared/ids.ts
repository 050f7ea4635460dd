// Identifier rules shared by the catalog, sessions and path parameters.
import { z } from "zod";

/** Catalog ids (events, channels, products, pull zones): URL-safe, short, lower case. */
export const IdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "use 1-64 characters: a-z, 0-9, '-' or '_', starting with a letter or digit");

/** Random, unguessable identifier (128 bits) for sessions, tickets, purchases. */
export function randomId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return `${prefix}_${hex}`;
}
