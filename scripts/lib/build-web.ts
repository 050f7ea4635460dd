// Builds the web pages' scripts into public/js/: esbuild bundles web/viewer.ts, web/operator.ts and web/kiosk.ts, hls.js is copied beside them (nothing from a CDN).
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { ROOT } from "./dev-vars";

const require = createRequire(import.meta.url);
// The esbuild that wrangler itself bundles the workers with: no second bundler to install or keep in step.
const esbuild = createRequire(require.resolve("wrangler/package.json"))("esbuild") as typeof import("esbuild");

export const WEB_OUT_DIR = join(ROOT, "public/js");

/** Bundles the viewer, operator and kiosk scripts and copies hls.min.js into public/js/ (generated, not committed). */
export function buildWeb(): void {
  mkdirSync(WEB_OUT_DIR, { recursive: true });
  esbuild.buildSync({
    entryPoints: { viewer: join(ROOT, "web/viewer.ts"), operator: join(ROOT, "web/operator.ts"), kiosk: join(ROOT, "web/kiosk.ts") },
    outdir: WEB_OUT_DIR,
    bundle: true,
    format: "esm",
    target: "es2020",
    minify: true,
    sourcemap: "linked",
    logLevel: "warning",
  });
  copyFileSync(require.resolve("hls.js/dist/hls.min.js"), join(WEB_OUT_DIR, "hls.min.js"));
}
