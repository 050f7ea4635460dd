// Bundles a worker exactly as `wrangler deploy` would (dry run), so local runs execute the deployable code.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { buildWeb } from "./build-web";
import { ROOT } from "./dev-vars";

export interface WorkerBuild {
  name: string;
  configPath: string;
  /** Bundled entry module. */
  scriptPath: string;
}

export const WORKERS = {
  edge: { name: "edge", configPath: join(ROOT, "wrangler.toml") },
  "demo-origin": { name: "demo-origin", configPath: join(ROOT, "workers/demo-origin/wrangler.toml") },
  "stadium-node": { name: "stadium-node", configPath: join(ROOT, "workers/stadium-node/wrangler.toml") },
} as const;

/** Runs `wrangler deploy --dry-run --outdir dist/<name>` (unless `reuse` and a bundle exists) and returns where the bundle is. */
export function buildWorker(which: keyof typeof WORKERS, reuse = false): WorkerBuild {
  const w = WORKERS[which];
  const outdir = join(ROOT, "dist", w.name);
  const scriptPath = join(outdir, "index.js");
  if (reuse && existsSync(scriptPath)) return { name: w.name, configPath: w.configPath, scriptPath };
  // The edge serves the web pages as static assets; their scripts are built first so the assets folder is complete.
  if (which === "edge") buildWeb();
  execFileSync(
    join(ROOT, "node_modules/.bin/wrangler"),
    ["deploy", "--dry-run", "--outdir", outdir, "-c", w.configPath],
    { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_LOG: "warn" } },
  );
  return { name: w.name, configPath: w.configPath, scriptPath };
}
