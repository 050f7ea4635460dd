// Goods fulfilment: a goods purchase issues its own redemption code; a kiosk (kiosk token or operator token) checks it
// and redeems it once, concurrent redemptions included; a kiosk token opens nothing but the kiosk routes.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { CODE_ALPHABET, formatGoodsCode, generateGoodsCode } from "../../../../workers/shared/goods-code";
import { api, buy, edgeFetch, register, seedCatalog, uniq, uniqAddress, warmUp, type ApiError, type TestCatalog } from "../accounts/support";

interface Purchase { id: string; productId: string; createdAt: string; code?: string; redeemedAt?: string }
interface CodeStatus {
  code: string;
  purchaseId: string;
  productId: string;
  productTitle: string;
  buyerLogin: string;
  purchasedAt: string;
  redeemed: boolean;
  redeemedAt?: string;
  kioskId?: string;
  kioskName?: string;
}
interface RedeemedError { error: { code: string; redeemedAt: string; kioskId: string; kioskName: string } }

let cat: TestCatalog;
beforeAll(async () => {
  await warmUp();
  cat = await seedCatalog();
}, 60_000);

const CODE = new RegExp(`^[${CODE_ALPHABET}]{10}$`);

/** Issues a kiosk through the operator API and returns its token. */
async function issueKiosk(name = "Gate B kiosk"): Promise<{ id: string; token: string }> {
  const id = uniq("kiosk");
  const res = await api(`/admin/kiosks/${id}`, { method: "PUT", bearer: env.ADMIN_TOKEN, json: { name } });
  expect(res.status).toBe(201);
  const body = (await res.json()) as { id: string; kioskToken: string };
  return { id, token: body.kioskToken };
}

/** A viewer who bought the test catalog's goods once: their login and the purchase with its code. */
async function boughtGoods(): Promise<{ login: string; token: string; purchase: Purchase & { code: string } }> {
  const login = uniq("eater");
  const { token } = await register(login);
  const res = await buy(token, cat.goods, uniq("key"));
  expect(res.status).toBe(201);
  const { purchase } = (await res.json()) as { purchase: Purchase };
  expect(purchase.code).toMatch(CODE);
  return { login, token, purchase: purchase as Purchase & { code: string } };
}

const check = (code: string, bearer: string, ip = uniqAddress()) => api(`/kiosk/codes/${encodeURIComponent(code)}`, { bearer, ip });
const redeem = (code: string, bearer: string, ip = uniqAddress()) => api(`/kiosk/codes/${encodeURIComponent(code)}/redemption`, { method: "POST", bearer, ip });

/** The same code with one character replaced by another of the alphabet: what a typo makes. */
function mistyped(code: string, at = 3): string {
  const ch = code[at]!;
  const other = CODE_ALPHABET[(CODE_ALPHABET.indexOf(ch) + 1) % CODE_ALPHABET.length]!;
  return code.slice(0, at) + other + code.slice(at + 1);
}

describe("a goods purchase", () => {
  it("issues a 10-character code from an alphabet without 0, O, 1, I or L, listed in the viewer's purchases", async () => {
    const { token, purchase } = await boughtGoods();
    expect(purchase.code).not.toMatch(/[01OIL]/);
    const listed = (await (await api("/purchases", { bearer: token })).json()) as Purchase[];
    expect(listed).toEqual([purchase]);
  });

  it("gives each purchase of the same goods its own code, and the same code to a retry with the same key", async () => {
    const { token } = await register(uniq("hungry"));
    const key = uniq("key");
    const first = ((await (await buy(token, cat.goods, key)).json()) as { purchase: Purchase }).purchase;
    const retry = await buy(token, cat.goods, key);
    expect(retry.status).toBe(200);
    expect(((await retry.json()) as { purchase: Purchase }).purchase.code).toBe(first.code);
    const second = ((await (await buy(token, cat.goods, uniq("key"))).json()) as { purchase: Purchase }).purchase;
    expect(second.code).toMatch(CODE);
    expect(second.code).not.toBe(first.code);
    expect(((await (await api("/purchases", { bearer: token })).json()) as Purchase[]).map((p) => p.code)).toEqual([first.code, second.code]);
  });

  it("makes one purchase with one code out of 10 simultaneous submissions with one key", async () => {
    const { token } = await register(uniq("burst"));
    const key = uniq("key");
    const results = await Promise.all(Array.from({ length: 10 }, () => buy(token, cat.goods, key)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    const codes = new Set(await Promise.all(results.map(async (r) => ((await r.json()) as { purchase: Purchase }).purchase.code)));
    expect(codes.size).toBe(1);
    const listed = (await (await api("/purchases", { bearer: token })).json()) as Purchase[];
    expect(listed.map((p) => p.code)).toEqual([...codes]);
    expect((await check([...codes][0]!, env.ADMIN_TOKEN)).status).toBe(200);
  });

  it("issues no code for a channel pass", async () => {
    const { token } = await register(uniq("passholder"));
    const { purchase } = (await (await buy(token, cat.pass, uniq("key"))).json()) as { purchase: Purchase };
    expect(purchase).not.toHaveProperty("code");
  });
});

describe("the kiosk", () => {
  it("shows what a code is for, redeems it once, and refuses a second redemption with 409 naming when and which kiosk", async () => {
    const kiosk = await issueKiosk("Food court kiosk");
    const { login, token, purchase } = await boughtGoods();

    const before = await check(formatGoodsCode(purchase.code).toLowerCase(), kiosk.token);
    expect(before.status).toBe(200);
    expect(await before.json()).toEqual({
      code: purchase.code,
      purchaseId: purchase.id,
      productId: cat.goods,
      productTitle: "Food voucher",
      buyerLogin: login,
      purchasedAt: purchase.createdAt,
      redeemed: false,
    });

    const first = await redeem(formatGoodsCode(purchase.code), kiosk.token);
    expect(first.status).toBe(200);
    const redeemed = (await first.json()) as CodeStatus;
    expect(redeemed).toMatchObject({ code: purchase.code, redeemed: true, kioskId: kiosk.id, kioskName: "Food court kiosk", redeemedAt: expect.any(String) });

    const second = await redeem(purchase.code, kiosk.token);
    expect(second.status).toBe(409);
    expect(((await second.json()) as RedeemedError).error).toMatchObject({
      code: "already_redeemed",
      redeemedAt: redeemed.redeemedAt,
      kioskId: kiosk.id,
      kioskName: "Food court kiosk",
    });

    expect(await (await check(purchase.code, kiosk.token)).json()).toMatchObject({ redeemed: true, redeemedAt: redeemed.redeemedAt, kioskId: kiosk.id });
    const listed = (await (await api("/purchases", { bearer: token })).json()) as Purchase[];
    expect(listed[0]).toMatchObject({ code: purchase.code, redeemedAt: redeemed.redeemedAt });
  });

  it("lets exactly one of two simultaneous redemptions of one code succeed; the other is 409 naming the winner", async () => {
    const [a, b] = await Promise.all([issueKiosk("Kiosk A"), issueKiosk("Kiosk B")]);
    const { purchase } = await boughtGoods();
    const results = await Promise.all([redeem(purchase.code, a.token), redeem(purchase.code, b.token)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const winner = (await results.find((r) => r.status === 200)!.json()) as CodeStatus;
    const loser = (await results.find((r) => r.status === 409)!.json()) as RedeemedError;
    expect([a.id, b.id]).toContain(winner.kioskId);
    expect(loser.error).toMatchObject({ code: "already_redeemed", kioskId: winner.kioskId, kioskName: winner.kioskName, redeemedAt: winner.redeemedAt });
  });

  it("lets exactly one of ten simultaneous redemptions of one code succeed", async () => {
    const kiosk = await issueKiosk();
    const { purchase } = await boughtGoods();
    const statuses = (await Promise.all(Array.from({ length: 10 }, () => redeem(purchase.code, kiosk.token)))).map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(9);
  });

  it("accepts the operator token and records the redemption under kiosk 'operator'", async () => {
    const { purchase } = await boughtGoods();
    const res = await redeem(purchase.code, env.ADMIN_TOKEN);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ redeemed: true, kioskId: "operator" });
  });

  it("answers a mistyped code with 400 invalid_code without looking it up, and the real code stays unredeemed", async () => {
    const kiosk = await issueKiosk();
    const { purchase } = await boughtGoods();
    for (const bad of [mistyped(purchase.code), mistyped(purchase.code, 9), purchase.code.slice(0, 9), `${purchase.code}2`, purchase.code.replace(/.$/, "0"), "hello"]) {
      for (const res of [await check(bad, kiosk.token), await redeem(bad, kiosk.token)]) {
        expect(res.status, bad).toBe(400);
        expect(((await res.json()) as ApiError).error.code).toBe("invalid_code");
      }
    }
    // Two neighbouring characters swapped are caught as well.
    const c = purchase.code;
    if (c[0] !== c[1]) expect((await redeem(c[1]! + c[0]! + c.slice(2), kiosk.token)).status).toBe(400);
    expect(await (await check(purchase.code, kiosk.token)).json()).toMatchObject({ redeemed: false });
  });

  it("answers a well-formed code no purchase holds with 404 not_found and redeems nothing", async () => {
    const kiosk = await issueKiosk();
    const unknown = generateGoodsCode();
    for (const res of [await check(unknown, kiosk.token), await redeem(unknown, kiosk.token)]) {
      expect(res.status).toBe(404);
      expect(((await res.json()) as ApiError).error.code).toBe("not_found");
    }
    expect((await check(unknown, kiosk.token)).status).toBe(404);
  });

  it("refuses a kiosk with 429 after 20 codes that do not exist in 10 minutes, any code then; another kiosk goes on", async () => {
    const kiosk = await issueKiosk();
    const { purchase } = await boughtGoods();
    for (let i = 0; i < 20; i++) expect((await check(generateGoodsCode(), kiosk.token)).status).toBe(404);
    const refused = await check(generateGoodsCode(), kiosk.token);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    // Guessing stopped, even for a code that exists: a stolen kiosk token cannot sweep the space.
    expect((await redeem(purchase.code, kiosk.token)).status).toBe(429);
    const other = await issueKiosk();
    expect((await redeem(purchase.code, other.token)).status).toBe(200);
  });

  it("answers 401 without a token, with a viewer token, and with a deleted kiosk's token", async () => {
    const kiosk = await issueKiosk();
    const { token, purchase } = await boughtGoods();
    expect((await api(`/kiosk/codes/${purchase.code}`)).status).toBe(401);
    expect((await check(purchase.code, token)).status).toBe(401);
    expect((await check(purchase.code, `${kiosk.token.slice(0, -2)}AA`)).status).toBe(401);
    expect((await api(`/admin/kiosks/${kiosk.id}`, { method: "DELETE", bearer: env.ADMIN_TOKEN })).status).toBe(204);
    expect((await check(purchase.code, kiosk.token)).status).toBe(401);
    expect((await redeem(purchase.code, kiosk.token)).status).toBe(401);
  });
});

describe("a kiosk token", () => {
  it("opens nothing but the kiosk routes: no operator route, no viewer route, no playback", async () => {
    const kiosk = await issueKiosk();
    const session = await api("/kiosk/session", { bearer: kiosk.token });
    expect(session.status).toBe(200);
    expect(await session.json()).toEqual({ kioskId: kiosk.id, kioskName: "Gate B kiosk" });

    const operatorRoutes: [string, string, unknown?][] = [
      ["GET", "/admin/kiosks"],
      ["PUT", `/admin/kiosks/${uniq("k")}`, { name: "mine" }],
      ["DELETE", `/admin/kiosks/${kiosk.id}`],
      ["PUT", `/admin/events/${cat.eventId}`, { title: "Taken over", limits: {} }],
      ["GET", `/admin/events/${cat.eventId}/stats`],
      ["PUT", `/admin/events/${cat.eventId}/overload`, { enabled: true }],
      ["PUT", `/admin/products/${cat.goods}`, { kind: "goods", title: "Free food", price: { amount: 0, currency: "RUB" } }],
      ["GET", "/admin/pull-zones"],
      ["GET", "/auth/session"],
      ["GET", "/purchases"],
    ];
    for (const [method, path, json] of operatorRoutes) {
      const res = await api(path, { method, bearer: kiosk.token, ...(json !== undefined ? { json } : {}) });
      expect(res.status, `${method} ${path}`).toBe(401);
    }
    expect((await api("/purchases", { method: "POST", bearer: kiosk.token, headers: { "idempotency-key": uniq("k") }, json: { productId: cat.goods } })).status).toBe(401);
    // A paid channel: the kiosk token is no viewer token.
    expect((await api(`/events/${cat.eventId}/channels/${cat.premium}/access`, { method: "POST", bearer: kiosk.token })).status).toBe(401);
    // Playback: not a playback token.
    expect((await edgeFetch(`http://edge.test/play/${kiosk.token}/index.m3u8`)).status).toBe(403);
    // The prototype's overload link takes the operator token only.
    expect((await edgeFetch(`http://edge.test/access_queue_swith?event=${cat.eventId}&token=${encodeURIComponent(kiosk.token)}`)).status).toBe(401);
    // Still a kiosk after all that: nothing was deleted or changed.
    expect((await api("/kiosk/session", { bearer: kiosk.token })).status).toBe(200);
  });
});

describe("the OpenAPI document", () => {
  it("describes the kiosk and kiosk-admin routes with their statuses and the kiosk token", async () => {
    const doc = (await (await api("/openapi.json")).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: Record<string, string[]>[] }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    const statuses = (path: string, method: string) => Object.keys(doc.paths[path]![method]!.responses).sort();
    expect(statuses("/api/v1/kiosk/codes/{code}", "get")).toEqual(["200", "400", "401", "404", "429", "503"]);
    expect(statuses("/api/v1/kiosk/codes/{code}/redemption", "post")).toEqual(["200", "400", "401", "404", "409", "429", "503"]);
    expect(statuses("/api/v1/admin/kiosks/{id}", "put")).toEqual(["200", "201", "400", "401", "503"]);
    expect(statuses("/api/v1/admin/kiosks/{id}", "delete")).toEqual(["204", "400", "401", "404", "503"]);
    expect(doc.paths["/api/v1/kiosk/codes/{code}"]!.get!.security).toEqual([{ kioskToken: [] }, { operatorToken: [] }]);
    expect(doc.components.securitySchemes).toHaveProperty("kioskToken");
  });
});

describe("the operator's kiosks", () => {
  it("shows a kiosk's token once, renames without a new token, lists without tokens, and refuses the id 'operator'", async () => {
    const kiosk = await issueKiosk("First name");
    const renamed = await api(`/admin/kiosks/${kiosk.id}`, { method: "PUT", bearer: env.ADMIN_TOKEN, json: { name: "Second name" } });
    expect(renamed.status).toBe(200);
    expect(await renamed.json()).not.toHaveProperty("kioskToken");
    expect(await (await api("/kiosk/session", { bearer: kiosk.token })).json()).toEqual({ kioskId: kiosk.id, kioskName: "Second name" });
    const listed = (await (await api("/admin/kiosks", { bearer: env.ADMIN_TOKEN })).json()) as { id: string; kioskToken?: string }[];
    expect(listed.find((k) => k.id === kiosk.id)).toMatchObject({ id: kiosk.id, name: "Second name" });
    expect(listed.every((k) => k.kioskToken === undefined)).toBe(true);
    const reserved = await api("/admin/kiosks/operator", { method: "PUT", bearer: env.ADMIN_TOKEN, json: { name: "x" } });
    expect(reserved.status).toBe(400);
    expect((await api("/admin/kiosks/nope", { method: "PUT", bearer: env.ADMIN_TOKEN, json: {} })).status).toBe(400);
  });
});
