import { exports, env } from "cloudflare:workers";
import { it, expect } from "vitest";
it("answers healthz", async () => {
  const r = await exports.default.fetch("http://x/healthz");
  expect(await r.json()).toEqual({ ok: true });
  const stub = env.ORIGIN_SHIELD.get(env.ORIGIN_SHIELD.idFromName("a"));
  expect(await stub.ping()).toBe("pong");
});
