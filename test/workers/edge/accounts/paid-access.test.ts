// Paid channels: locked in the catalog and refused at the access endpoint until the viewer owns a pass for them.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { api, buy, register, seedCatalog, uniq, warmUp, type ApiError, type TestCatalog } from "./support";

interface PublicChannel {
  id: string;
  paid: boolean;
  productId?: string;
  locked: boolean;
}

let cat: TestCatalog;
beforeAll(async () => {
  await warmUp();
  cat = await seedCatalog();
}, 60_000);

async function lockedMap(token?: string): Promise<Record<string, boolean>> {
  const res = await api(`/events/${cat.eventId}/channels`, token ? { bearer: token } : {});
  expect(res.status).toBe(200);
  const channels = (await res.json()) as PublicChannel[];
  return Object.fromEntries(channels.map((c) => [c.id, c.locked]));
}

function access(channelId: string, token?: string): Promise<Response> {
  return api(`/events/${cat.eventId}/channels/${channelId}/access`, { method: "POST", ...(token ? { bearer: token } : {}) });
}

describe("catalog", () => {
  it("shows paid channels locked to anonymous callers and to callers with a bad token", async () => {
    expect(await lockedMap()).toEqual({ [cat.free]: false, [cat.premium]: true, [cat.bundled]: true });
    expect(await lockedMap("not-a-token")).toEqual({ [cat.free]: false, [cat.premium]: true, [cat.bundled]: true });
  });

  it("unlocks the channels a bought pass lists, and only those", async () => {
    const { token } = await register(uniq("fan"));
    expect(await lockedMap(token)).toEqual({ [cat.free]: false, [cat.premium]: true, [cat.bundled]: true });
    await buy(token, cat.pass, uniq("key"));
    expect(await lockedMap(token)).toEqual({ [cat.free]: false, [cat.premium]: false, [cat.bundled]: false });
  });

  it("unlocks a channel by its own productId", async () => {
    const { token } = await register(uniq("other"));
    await buy(token, cat.otherPass, uniq("key"));
    expect(await lockedMap(token)).toEqual({ [cat.free]: false, [cat.premium]: true, [cat.bundled]: false });
  });
});

describe("access", () => {
  it("grants a free channel without any token", async () => {
    expect((await access(cat.free)).status).toBe(200);
  });

  it("answers a paid channel with 401 unauthenticated without a viewer token", async () => {
    const res = await access(cat.premium);
    expect(res.status).toBe(401);
    expect(((await res.json()) as ApiError).error.code).toBe("unauthenticated");
  });

  it("answers 403 entitlement_required with the productId to buy, then grants after the purchase", async () => {
    const { token } = await register(uniq("viewer"));
    const refused = await access(cat.premium, token);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as ApiError).error).toMatchObject({ code: "entitlement_required", productId: cat.pass });
    expect((await buy(token, cat.pass, uniq("key"))).status).toBe(201);
    const granted = await access(cat.premium, token);
    expect(granted.status).toBe(200);
    expect(await granted.json()).toMatchObject({ status: "granted", playbackUrl: expect.stringMatching(/^\/play\/[\w-]+\.[\w-]+\/index\.m3u8$/) });
  });

  it("refuses a paid channel to a logged-out token", async () => {
    const { token } = await register(uniq("gone"));
    await buy(token, cat.pass, uniq("key"));
    expect((await access(cat.premium, token)).status).toBe(200);
    await api("/auth/logout", { method: "POST", bearer: token });
    expect((await access(cat.premium, token)).status).toBe(401);
  });

  it("still grants when the KV copy of the entitlements is missing, by asking the viewer's ledger", async () => {
    const r = await register(uniq("lagging"));
    await buy(r.token, cat.pass, uniq("key"));
    // As if KV at this location had not seen the purchase yet.
    await env.ACCOUNTS.delete(`entitlements:${r.user.id}`);
    expect((await access(cat.premium, r.token)).status).toBe(200);
    expect((await lockedMap(r.token))[cat.premium]).toBe(false);
  });
});
