// `npm run typecheck`: runs tsc on every TypeScript project, after checking that every .ts file in the repository is in one.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Each project, typed for the runtime its files run in. */
const PROJECTS = [
  "tsconfig.json", // the edge, the stadium node and the Durable Objects (workerd)
  "workers/demo-origin/tsconfig.json", // the demo origin, against its own Env
  "test/tsconfig.workers.json", // tests the vitest pool runs inside workerd
  "test/workers/demo-origin/tsconfig.json", // the demo origin's tests, inside workerd
  "tsconfig.node.json", // scripts, benchmarks and the tests that run in Node
  "web/tsconfig.json", // the pages' scripts (browser)
];

/** The files a project's include/exclude select, as repository paths (what tsc checks besides their imports). */
function projectFiles(project: string): string[] {
  const path = resolve(ROOT, project);
  const read = ts.readConfigFile(path, ts.sys.readFile);
  if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, "\n"));
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, dirname(path), undefined, path);
  return parsed.fileNames.map((file) => relative(ROOT, file));
}

/** Tracked and new (not ignored) .ts files that exist in the working tree. */
function repositoryFiles(): string[] {
  const out = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "--", "*.ts"], { cwd: ROOT, encoding: "utf8" });
  return out.split("\n").filter((file) => file !== "" && existsSync(resolve(ROOT, file)));
}

// A file no project includes is never checked unless something happens to import it: fail so that gap cannot open.
const covered = new Set(PROJECTS.flatMap(projectFiles));
const missing = repositoryFiles().filter((file) => !covered.has(file));
if (missing.length > 0) {
  console.error(`These .ts files are in no project of scripts/typecheck.ts; add them to one (or add a project):\n  ${missing.join("\n  ")}`);
  process.exit(1);
}

const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
let failed = 0;
for (const project of PROJECTS) {
  const result = spawnSync(process.execPath, [tsc, "-p", project], { cwd: ROOT, stdio: "inherit" });
  if (result.status !== 0) {
    console.error(`tsc -p ${project} failed`);
    failed++;
  }
}
process.exit(failed > 0 ? 1 : 0);
