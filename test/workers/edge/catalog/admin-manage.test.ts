// The operator's catalog management through the real routes: full lists, archiving and restoring events,
// channels and products, and what viewers see meanwhile; an archive never touches purchases or entitlements.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { adminPut, api, buy, register, seedCatalog, uniq, warmUp, type ApiError } from "../accounts/support";

beforeAll(async () => {
  await warmUp();
}, 60_000);

const admin = (path: string, init: { method?: string; json?: unknown } = {}) => api(`/admin${path}`, { ...init, bearer: env.ADMIN_TOKEN });

async function ids(res: Response): Promise<string[]> {
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }[]).map((x) => x.id);
}

describe("lists", () => {
  it("lists every event, channel and product to the operator, archived ones with archivedAt", async () => {
    const t = await seedCatalog();
    expect((await admin(`/events/${t.eventId}/archive`, { method: "POST" })).status).toBe(200);
    const events = (await (await admin("/events")).json()) as { id: string; title: string; archivedAt?: string; limits: unknown }[];
    const mine = events.find((e) => e.id === t.eventId);
    expect(mine?.title).toBe("Test match");
    expect(typeof mine?.archivedAt).toBe("string");
    expect(await ids(await admin(`/events/${t.eventId}/channels`))).toEqual(expect.arrayContaining([t.free, t.premium, t.bundled]));
    expect(await ids(await admin("/products"))).toEqual(expect.arrayContaining([t.pass, t.otherPass, t.goods]));
  });

  it("answers every management route with 401 without the operator token", async () => {
    const t = await seedCatalog();
    for (const [method, path] of [
      ["GET", "/admin/events"],
      ["GET", "/admin/products"],
      ["GET", `/admin/events/${t.eventId}/channels`],
      ["POST", `/admin/events/${t.eventId}/archive`],
      ["POST", `/admin/events/${t.eventId}/restore`],
      ["POST", `/admin/events/${t.eventId}/channels/main/archive`],
      ["POST", `/admin/products/${t.goods}/archive`],
      ["GET", `/admin/events/${t.eventId}/sessions`],
    ] as const) {
      const res = await api(path.replace(/^\/admin/, "/admin"), { method, bearer: "wrong" });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(((await res.json()) as ApiError).error.code).toBe("unauthenticated");
    }
    // Nothing was archived by the refused calls; with the token, the same list answers.
    expect(await ids(await api("/events"))).toContain(t.eventId);
    expect(await ids(await admin("/events"))).toContain(t.eventId);
  });

  it("answers 404 not_found for an unknown event, channel or product and 400 invalid_request for a malformed id", async () => {
    const t = await seedCatalog();
    for (const path of [`/events/${uniq("nope")}/archive`, `/events/${t.eventId}/channels/${uniq("nope")}/archive`, `/products/${uniq("nope")}/restore`]) {
      const res = await admin(path, { method: "POST" });
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as ApiError).error.code).toBe("not_found");
    }
    expect((await admin(`/events/${uniq("nope")}/channels`)).status).toBe(404);
    const bad = await admin("/events/Not%20An%20Id/archive", { method: "POST" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ApiError).error.code).toBe("invalid_request");
  });
});

describe("archiving an event", () => {
  it("takes it out of the viewer's event list, its channels and its products, and restoring brings it back", async () => {
    const t = await seedCatalog();
    await adminPut(`/products/${uniq("scarf")}`, { kind: "goods", title: "Scarf", price: { amount: 100, currency: "RUB" }, eventId: t.eventId });
    expect(await ids(await api("/events"))).toContain(t.eventId);
    expect((await admin(`/events/${t.eventId}/archive`, { method: "POST" })).status).toBe(200);

    expect(await ids(await api("/events"))).not.toContain(t.eventId);
    const channels = await api(`/events/${t.eventId}/channels`);
    expect(channels.status).toBe(404);
    const products = (await (await api("/products")).json()) as { id: string; eventId?: string }[];
    expect(products.filter((p) => p.eventId === t.eventId)).toEqual([]);
    const access = await api(`/events/${t.eventId}/channels/main/access`, { method: "POST", json: {} });
    expect(access.status).toBe(404);

    const restored = await admin(`/events/${t.eventId}/restore`, { method: "POST" });
    expect(restored.status).toBe(200);
    expect(((await restored.json()) as { archivedAt?: string }).archivedAt).toBeUndefined();
    expect(await ids(await api("/events"))).toContain(t.eventId);
    expect(await ids(await api(`/events/${t.eventId}/channels`))).toEqual(expect.arrayContaining([t.free, t.premium, t.bundled]));
  });

  it("keeps its purchases and entitlements: the buyer still owns the pass and lists the purchase, and restoring opens the channel again", async () => {
    const t = await seedCatalog();
    const viewer = await register(uniq("fan"));
    const bought = await buy(viewer.token, t.pass, uniq("key"));
    expect(bought.status).toBe(201);
    const { purchase } = (await bought.json()) as { purchase: { id: string } };

    expect((await admin(`/events/${t.eventId}/archive`, { method: "POST" })).status).toBe(200);
    const session = (await (await api("/auth/session", { bearer: viewer.token })).json()) as { entitlements: string[] };
    expect(session.entitlements).toContain(t.pass);
    const purchases = (await (await api("/purchases", { bearer: viewer.token })).json()) as { id: string }[];
    expect(purchases.map((p) => p.id)).toContain(purchase.id);
    // Not sold while archived.
    const again = await buy((await register(uniq("late"))).token, t.pass, uniq("key"));
    expect(again.status).toBe(404);

    expect((await admin(`/events/${t.eventId}/restore`, { method: "POST" })).status).toBe(200);
    const channels = (await (await api(`/events/${t.eventId}/channels`, { bearer: viewer.token })).json()) as { id: string; locked: boolean }[];
    expect(channels.find((c) => c.id === t.premium)?.locked).toBe(false);
  });

  it("stays archived when the operator edits it with PUT", async () => {
    const t = await seedCatalog();
    await admin(`/events/${t.eventId}/archive`, { method: "POST" });
    await adminPut(`/events/${t.eventId}`, { title: "Renamed", limits: {} });
    expect(await ids(await api("/events"))).not.toContain(t.eventId);
    const mine = ((await (await admin("/events")).json()) as { id: string; title: string; archivedAt?: string }[]).find((e) => e.id === t.eventId);
    expect(mine?.title).toBe("Renamed");
    expect(mine?.archivedAt).toBeDefined();
  });
});

describe("archiving a channel or a product", () => {
  it("hides an archived channel from the viewer's channel list and refuses access to it; restore brings it back", async () => {
    const t = await seedCatalog();
    const res = await admin(`/events/${t.eventId}/channels/${t.free}/archive`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(await ids(await api(`/events/${t.eventId}/channels`))).not.toContain(t.free);
    expect((await api(`/events/${t.eventId}/channels/${t.free}/access`, { method: "POST", json: {} })).status).toBe(404);
    expect((await admin(`/events/${t.eventId}/channels/${t.free}/restore`, { method: "POST" })).status).toBe(200);
    expect(await ids(await api(`/events/${t.eventId}/channels`))).toContain(t.free);
  });

  it("stops selling an archived product but keeps it owned by its buyers", async () => {
    const t = await seedCatalog();
    const viewer = await register(uniq("fan"));
    expect((await buy(viewer.token, t.goods, uniq("key"))).status).toBe(201);
    expect((await admin(`/products/${t.goods}/archive`, { method: "POST" })).status).toBe(200);
    expect(await ids(await api("/products"))).not.toContain(t.goods);
    const refused = await buy(viewer.token, t.goods, uniq("key"));
    expect(refused.status).toBe(404);
    expect(((await refused.json()) as ApiError).error.code).toBe("not_found");
    const session = (await (await api("/auth/session", { bearer: viewer.token })).json()) as { entitlements: string[] };
    expect(session.entitlements).toContain(t.goods);
    expect((await admin(`/products/${t.goods}/restore`, { method: "POST" })).status).toBe(200);
    expect(await ids(await api("/products"))).toContain(t.goods);
  });
});
