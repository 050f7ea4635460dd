// Paid channels: locked in the catalog and refused at the access endpoint until the viewer owns a pass for them.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { adminPut, api, buy, register, seedCatalog, uniq, warmUp, type ApiError, type TestCatalog } from "./support";

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

async function lockedMap(token?: string, eventId = cat.eventId): Promise<Record<string, boolean>> {
  const res = await api(`/events/${eventId}/channels`, token ? { bearer: token } : {});
  expect(res.status).toBe(200);
  const channels = (await res.json()) as PublicChannel[];
  return Object.fromEntries(channels.map((c) => [c.id, c.locked]));
}

function access(channelId: string, token?: string, eventId = cat.eventId): Promise<Response> {
  return api(`/events/${eventId}/channels/${channelId}/access`, { method: "POST", ...(token ? { bearer: token } : {}) });
}

const PRICE = { amount: 19900, currency: "RUB" };
const ORIGIN = "https://origin.example/live/index.m3u8";

/** A new event whose paid channel `premium` is sold by a pass of that event; returns the event id. */
async function eventWithPremium(): Promise<string> {
  const eventId = uniq("ev");
  const pass = uniq("pass");
  await adminPut(`/events/${eventId}`, { title: "Another match", limits: {} });
  await adminPut(`/products/${pass}`, { kind: "channel_pass", title: "Its pass", price: PRICE, eventId, channelIds: ["premium"] });
  await adminPut(`/events/${eventId}/channels/premium`, { title: "Premium", originUrl: ORIGIN, paid: true, productId: pass });
  return eventId;
}

/** Writes a channel pass as KV held it before passes named their event: no eventId, no validity period. */
async function putLegacyPass(productId: string, channelIds: string[]): Promise<void> {
  const record = { id: productId, kind: "channel_pass", title: "Old pass", description: "", price: PRICE, channelIds, updatedAt: "2026-01-01T00:00:00.000Z" };
  await env.CATALOG.put(`product:${productId}`, JSON.stringify(record));
}

const hoursFromNow = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString();

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

describe("passes belong to an event", () => {
  it("opens its own event's channels but not another event's channel of the same id", async () => {
    const other = await eventWithPremium();
    const { token } = await register(uniq("fan"));
    await buy(token, cat.pass, uniq("key"));
    expect((await lockedMap(token))[cat.premium]).toBe(false);
    expect(await lockedMap(token, other)).toEqual({ premium: true });
    const refused = await access("premium", token, other);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as ApiError).error.code).toBe("entitlement_required");
    expect((await access(cat.premium, token)).status).toBe(200);
  });

  it("opens nothing before validFrom or from validUntil on, and its channels in between", async () => {
    const window = async (validity: Record<string, string>) => {
      const pass = uniq("timed");
      await adminPut(`/products/${pass}`, { kind: "channel_pass", title: "Timed pass", price: PRICE, eventId: cat.eventId, channelIds: [cat.premium], ...validity });
      const { token } = await register(uniq("timed"));
      expect((await buy(token, pass, uniq("key"))).status).toBe(201);
      return { locked: (await lockedMap(token))[cat.premium], access: (await access(cat.premium, token)).status };
    };
    expect(await window({ validFrom: hoursFromNow(1) })).toEqual({ locked: true, access: 403 });
    expect(await window({ validFrom: hoursFromNow(-2), validUntil: hoursFromNow(-1) })).toEqual({ locked: true, access: 403 });
    expect(await window({ validFrom: hoursFromNow(-1), validUntil: hoursFromNow(1) })).toEqual({ locked: false, access: 200 });
  });

  it("keeps a pass stored without eventId opening its channels in the event whose channel sells it, and in no other", async () => {
    const legacy = uniq("legacy");
    const sold = uniq("ev");
    await putLegacyPass(legacy, ["premium", "bundled"]);
    await adminPut(`/events/${sold}`, { title: "The match it was sold for", limits: {} });
    await adminPut(`/events/${sold}/channels/premium`, { title: "Premium", originUrl: ORIGIN, paid: true, productId: legacy });
    await adminPut(`/events/${sold}/channels/bundled`, { title: "Bundled", originUrl: ORIGIN, paid: true, productId: cat.otherPass });
    const other = await eventWithPremium();
    const { token } = await register(uniq("oldfan"));
    expect((await buy(token, legacy, uniq("key"))).status).toBe(201);
    expect(await lockedMap(token, sold)).toEqual({ premium: false, bundled: false });
    expect((await access("premium", token, sold)).status).toBe(200);
    expect((await access("bundled", token, sold)).status).toBe(200);
    expect(await lockedMap(token, other)).toEqual({ premium: true });
    expect((await access("premium", token, other)).status).toBe(403);
  });

  it("keeps a pass stored without eventId that no channel sells opening its channels in every event", async () => {
    const orphan = uniq("orphan");
    await putLegacyPass(orphan, ["premium"]);
    const other = await eventWithPremium();
    const { token } = await register(uniq("orphanfan"));
    expect((await buy(token, orphan, uniq("key"))).status).toBe(201);
    expect((await lockedMap(token))[cat.premium]).toBe(false);
    expect(await lockedMap(token, other)).toEqual({ premium: false });
  });
});

describe("operator: channel passes", () => {
  async function putProduct(productId: string, body: unknown): Promise<Response> {
    return api(`/admin/products/${productId}`, { method: "PUT", bearer: env.ADMIN_TOKEN, json: body });
  }

  it("refuses a channel pass without eventId with 400 naming the field", async () => {
    const res = await putProduct(uniq("noevent"), { kind: "channel_pass", title: "Pass", price: PRICE, channelIds: ["premium"] });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; issues: { path: string }[] } };
    expect(body.error.code).toBe("invalid_request");
    expect(body.error.issues.map((i) => i.path)).toContain("eventId");
  });

  it("refuses a validity period that ends before it starts", async () => {
    const res = await putProduct(uniq("backwards"), { kind: "channel_pass", title: "Pass", price: PRICE, eventId: cat.eventId, validFrom: hoursFromNow(1), validUntil: hoursFromNow(-1) });
    expect(res.status).toBe(400);
  });

  it("refuses to move a pass to another event, so its buyers keep what they bought", async () => {
    const other = await eventWithPremium();
    const res = await putProduct(cat.pass, { kind: "channel_pass", title: "Pass", price: PRICE, eventId: other, channelIds: ["premium"] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ApiError).error.code).toBe("invalid_request");
    const same = await putProduct(cat.pass, { kind: "channel_pass", title: "Pass, renamed", price: PRICE, eventId: cat.eventId, channelIds: [cat.premium, cat.bundled] });
    expect(same.status).toBe(200);
  });

  it("lists a pass's event and validity period in the public products", async () => {
    const pass = uniq("listed");
    const validUntil = hoursFromNow(3);
    await adminPut(`/products/${pass}`, { kind: "channel_pass", title: "Listed", price: PRICE, eventId: cat.eventId, channelIds: [cat.premium], validUntil });
    const products = (await (await api("/products")).json()) as { id: string }[];
    expect(products.find((p) => p.id === pass)).toMatchObject({ eventId: cat.eventId, channelIds: [cat.premium], validUntil });
  });
});
