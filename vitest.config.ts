// Test projects: pure code in Node, worker code inside workerd (vitest pool), and whole-platform tests against real processes.
import { defineConfig } from "vitest/config";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          environment: "node",
          include: ["test/hls/**/*.test.ts", "test/shared/**/*.test.ts", "test/scripts/**/*.test.ts"],
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                ADMIN_TOKEN: "test-admin-token",
                PULL_ZONE_SECRET: "test-pull-zone-secret",
              },
            },
          }),
        ],
        test: {
          name: "workers",
          include: ["test/workers/**/*.test.ts", "test/durable-objects/**/*.test.ts"],
        },
      },
      {
        test: {
          name: "platform",
          environment: "node",
          include: ["test/platform/**/*.test.ts", "test/e2e/**/*.test.ts"],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
