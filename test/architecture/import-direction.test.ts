// Imports between workers/ and durable-objects/ run one way: workers reach an object only through its client, objects
// reach only the shared layer (workers/shared/, workers/hls/), and the shared layer reaches neither side.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The layer both sides import. */
const SHARED_LAYER = ["workers/shared/", "workers/hls/"];
/** The edge's entry re-exports the object classes, because the runtime finds them there. */
const EDGE_ENTRY = "workers/edge/index.ts";
const CLIENT = /^durable-objects\/[^/]+\/client\.ts$/;
const CLASS_FILE = /^durable-objects\/([^/]+)\/\1\.ts$/;

interface Import {
  /** Repository paths, `/`-separated. */
  from: string;
  to: string;
  specifier: string;
}

/** Repository paths of every .ts file under `dir`. */
function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...tsFiles(path));
    else if (entry.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** The file a relative specifier names (with `.ts` or `/index.ts` added as the bundler does), as a repository path. */
function resolveRelative(from: string, specifier: string): string {
  const base = relative(ROOT, resolve(ROOT, dirname(from), specifier)).split(sep).join("/");
  const candidates = [base, `${base}.ts`, `${base}/index.ts`, base.replace(/\.js$/, ".ts")];
  const found = candidates.find((c) => c.endsWith(".ts") && existsSync(join(ROOT, c)) && statSync(join(ROOT, c)).isFile());
  return found ?? `${base}.ts`;
}

/** Every relative import of a file: static, `import type`, side-effect, `export … from` and `import()`; comments and strings are skipped. */
function importsOf(from: string, text: string): Import[] {
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((f) => f.fileName)
    .filter((specifier) => specifier.startsWith("."))
    .map((specifier) => ({ from, specifier, to: resolveRelative(from, specifier) }));
}

const within = (path: string, prefixes: readonly string[]) => prefixes.some((p) => path.startsWith(p));

/** Why an import breaks the direction, or null when it is allowed. */
function violation({ from, to }: Pick<Import, "from" | "to">): string | null {
  if (within(from, SHARED_LAYER)) {
    return within(to, ["durable-objects/", "workers/edge/", "workers/stadium-node/"]) ? "the shared layer imports no object and no worker" : null;
  }
  if (from.startsWith("workers/") && to.startsWith("durable-objects/")) {
    if (CLIENT.test(to) || (from === EDGE_ENTRY && CLASS_FILE.test(to))) return null;
    return "workers/ reaches an object only through durable-objects/<name>/client.ts";
  }
  if (from.startsWith("durable-objects/") && to.startsWith("workers/") && !within(to, SHARED_LAYER)) {
    return "an object imports from workers/ only workers/shared/ and workers/hls/";
  }
  return null;
}

function violations(filter: (i: Import) => boolean): string[] {
  return scanned.filter((i) => filter(i) && violation(i) !== null).map((i) => `${i.from} imports "${i.specifier}" (${i.to}): ${violation(i)}`);
}

const files = [...tsFiles("workers"), ...tsFiles("durable-objects")];
const scanned = files.flatMap((f) => importsOf(f, readFileSync(join(ROOT, f), "utf8")));

describe("import direction between workers/ and durable-objects/", () => {
  it("reads static, type-only, side-effect, re-exported and dynamic imports, and not those in comments or strings", () => {
    const text = [
      'import type { A } from "./a";',
      'import { type B, c } from "../b";',
      'export type { D } from "./d";',
      'export * from "./e";',
      'import "./f";',
      'const g: import("./g").G = 1;',
      '// import { h } from "./h";',
      'const s = "import { i } from \\"./i\\"";',
      'import {\n  j,\n} from "./j";',
      'import { z } from "zod";',
    ].join("\n");
    expect(importsOf("durable-objects/x/x.ts", text).map((i) => i.to)).toEqual([
      "durable-objects/x/a.ts",
      "durable-objects/b.ts",
      "durable-objects/x/d.ts",
      "durable-objects/x/e.ts",
      "durable-objects/x/f.ts",
      "durable-objects/x/g.ts",
      "durable-objects/x/j.ts",
    ]);
  });

  it("allows clients, the edge entry's class re-exports and the shared layer, and refuses the rest", () => {
    const allowed = (from: string, to: string) => violation({ from, to }) === null;
    expect(allowed("workers/edge/routes/access.ts", "durable-objects/event-gate/client.ts")).toBe(true);
    expect(allowed("workers/edge/routes/access.ts", "durable-objects/event-gate/event-gate.ts")).toBe(false);
    expect(allowed("workers/edge/index.ts", "durable-objects/event-gate/event-gate.ts")).toBe(true);
    expect(allowed("workers/edge/index.ts", "durable-objects/event-gate/model.ts")).toBe(false);
    expect(allowed("durable-objects/event-gate/event-gate.ts", "workers/shared/ids.ts")).toBe(true);
    expect(allowed("durable-objects/login-registry/login-registry.ts", "workers/edge/accounts/store.ts")).toBe(false);
    expect(allowed("durable-objects/x/x.ts", "workers/stadium-node/config.ts")).toBe(false);
    expect(allowed("workers/shared/errors.ts", "durable-objects/x/client.ts")).toBe(false);
    expect(allowed("workers/hls/rewrite.ts", "workers/edge/config.ts")).toBe(false);
  });

  it("scans every .ts file under workers/ and durable-objects/", () => {
    expect(files.filter((f) => f.startsWith("workers/edge/")).length).toBeGreaterThan(10);
    expect(files.filter((f) => f.startsWith("durable-objects/")).length).toBeGreaterThan(6);
    expect(scanned.length).toBeGreaterThan(100);
  });

  it("has workers/ import an object only through its client (the edge entry re-exports the classes)", () => {
    expect(violations((i) => i.from.startsWith("workers/") && !within(i.from, SHARED_LAYER))).toEqual([]);
  });

  it("has objects import from workers/ only workers/shared/ and workers/hls/", () => {
    expect(violations((i) => i.from.startsWith("durable-objects/"))).toEqual([]);
  });

  it("has workers/shared/ and workers/hls/ import nothing from objects, the edge or the stadium node", () => {
    expect(violations((i) => within(i.from, SHARED_LAYER))).toEqual([]);
  });
});
