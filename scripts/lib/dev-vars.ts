// Creates .dev.vars from the committed .dev.vars.example, filling in generated secrets, and reads it back.
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generatePlaybackKeys } from "./keys";

export const ROOT = new URL("../..", import.meta.url).pathname;

/** Makes sure .dev.vars exists; returns its variables. */
export function ensureDevVars(root = ROOT): Record<string, string> {
  const path = join(root, ".dev.vars");
  if (!existsSync(path)) {
    const keys = generatePlaybackKeys();
    const text = readFileSync(join(root, ".dev.vars.example"), "utf8")
      .replace("PLAYBACK_SIGNING_KEY=__GENERATED__", `PLAYBACK_SIGNING_KEY='${JSON.stringify(keys.signingKey)}'`)
      .replace("PLAYBACK_VERIFY_KEYS=__GENERATED__", `PLAYBACK_VERIFY_KEYS='${JSON.stringify(keys.verifyKeys)}'`)
      .replace("VIEWER_TOKEN_SECRET=__GENERATED__", `VIEWER_TOKEN_SECRET=${randomBytes(32).toString("base64url")}`);
    writeFileSync(path, text, { mode: 0o600 });
    console.log("created .dev.vars with a fresh playback key pair");
  }
  const vars = parseDotenv(readFileSync(path, "utf8"));
  // A .dev.vars made before the viewer token secret existed gets one appended, so old checkouts keep starting.
  if (!vars.VIEWER_TOKEN_SECRET) {
    vars.VIEWER_TOKEN_SECRET = randomBytes(32).toString("base64url");
    appendFileSync(path, `\nVIEWER_TOKEN_SECRET=${vars.VIEWER_TOKEN_SECRET}\n`);
  }
  return vars;
}

/** Minimal dotenv reader for the KEY=value and KEY='value' lines .dev.vars uses. */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)\s*$/.exec(line);
    if (!m) continue;
    let v = m[2]!;
    if ((v.startsWith("'") && v.endsWith("'")) || (v.startsWith('"') && v.endsWith('"'))) v = v.slice(1, -1);
    out[m[1]!] = v;
  }
  return out;
}
