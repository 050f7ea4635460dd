// Demo-origin tests, run inside workerd with the demo origin's own wrangler config (static assets included).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";

// Paths are anchored to this file, so the config behaves the same from `-c` and as a root-config project.
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here("."),
  // Keep Vite's cache with the repository's, not in a node_modules/ beside these tests.
  cacheDir: here("../../../node_modules/.vite"),
  plugins: [
    cloudflareTest({
      wrangler: { configPath: here("../../../workers/demo-origin/wrangler.toml") },
    }),
  ],
  test: {
    name: "demo-origin",
    include: ["**/*.test.ts"],
    // The first request of each file starts the worker in its isolate: seconds on a loaded machine.
    testTimeout: 30_000,
  },
});
