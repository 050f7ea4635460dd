// Test projects: pure code in Node, worker code inside workerd (vitest pool), and whole-platform tests against real processes.
import { defineConfig } from "vitest/config";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { generatePlaybackKeys } from "./scripts/lib/keys.ts";

// A fresh playback key pair per test run, for tests that ask for access to a channel.
const playbackKeys = generatePlaybackKeys();

export default defineConfig({
  test: {
    projects: [
      // The demo origin's own tests run in workerd with its own wrangler config (static assets).
      "test/workers/demo-origin/vitest.config.ts",
      {
        test: {
          name: "unit",
          environment: "node",
          include: [
            "test/workers/hls/**/*.test.ts",
            "test/architecture/**/*.test.ts",
            // Pure code beside workerd code: these run in Node, and the workers project leaves them out.
            "test/durable-objects/origin-shield/playlist-window.test.ts",
            "test/workers/shared/cache/coalescer.test.ts",
            "test/workers/shared/playback/request.test.ts",
            "test/durable-objects/event-gate/{model.*,meter,rank,shards}.test.ts",
            "test/durable-objects/pull-zone/capacity.test.ts",
            "test/web/**/*.test.ts",
            // `npm run deploy` against wrangler's dry run, in Node.
            "test/scripts/deploy.test.ts",
          ],
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                ADMIN_TOKEN: "test-admin-token",
                VIEWER_TOKEN_SECRET: "test-viewer-token-secret-0123456789abcdef",
                PLAYBACK_SIGNING_KEY: JSON.stringify(playbackKeys.signingKey),
                PLAYBACK_VERIFY_KEYS: JSON.stringify(playbackKeys.verifyKeys),
              },
            },
          }),
        ],
        test: {
          name: "workers",
          include: ["test/workers/**/*.test.ts", "test/durable-objects/**/*.test.ts"],
          exclude: [
            // Their own projects: the pure HLS tests run in Node (unit), the demo origin's with its own config.
            "test/workers/hls/**",
            "test/workers/demo-origin/**",
            "test/durable-objects/origin-shield/playlist-window.test.ts",
            "test/workers/shared/cache/coalescer.test.ts",
            "test/workers/shared/playback/request.test.ts",
            "test/durable-objects/event-gate/{model.*,meter,rank,shards}.test.ts",
            "test/durable-objects/pull-zone/capacity.test.ts",
          ],
          // A hang guard, not a timing goal: the first call to a Durable Object in a file took 3.8–5.0 s
          // in this pool on a 2-core machine (PullZoneDirectory, test/durable-objects/pull-zone/pull-zone.test.ts),
          // right at vitest's default 5 s.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "platform",
          environment: "node",
          include: ["test/platform/**/*.test.ts", "test/e2e/**/*.test.ts"],
          fileParallelism: false,
          globalSetup: ["test/support/build-once.ts"],
          setupFiles: ["test/support/http-client.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
