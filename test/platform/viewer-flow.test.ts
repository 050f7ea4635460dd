// The viewer flow of the acceptance list over real HTTP against the running platform (workerd through
// Miniflare, demo data seeded as `npm start` seeds it): log in, see premium locked, buy the pass, see it
// unlocked, open and play premium, log out, and the old token refused. Also: the OpenAPI document validates.
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_VIEWERS } from "../../scripts/lib/seed";
import { startSeededPlatform, type Platform } from "../support/platform";

let p: Platform;
beforeAll(async () => {
  p = await startSeededPlatform();
});
afterAll(async () => {
  await p?.stop();
});

const [fdpd6, viewer2] = DEMO_VIEWERS;

function api(path: string, init: { method?: string; token?: string; json?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.json !== undefined) headers["content-type"] = "application/json";
  return fetch(`${p.edgeUrl}/api/v1${path}`, {
    method: init.method ?? "GET",
    headers,
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
  });
}

async function logIn(login: string, password: string): Promise<string> {
  const res = await api("/auth/login", { method: "POST", json: { login, password } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

async function premiumLocked(token?: string): Promise<boolean> {
  const res = await api("/events/demo/channels", { token });
  expect(res.status).toBe(200);
  const channels = (await res.json()) as { id: string; locked: boolean }[];
  return channels.find((c) => c.id === "premium")!.locked;
}

describe("the viewer flow", () => {
  it("takes the demo account from login to watching premium and back out", async () => {
    const token = await logIn(fdpd6.login, fdpd6.password);
    expect(await premiumLocked(token)).toBe(true);

    const refused = await api("/events/demo/channels/premium/access", { method: "POST", token });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: "entitlement_required", productId: "premium-pass" } });

    const key = crypto.randomUUID();
    const bought = await api("/purchases", { method: "POST", token, headers: { "idempotency-key": key }, json: { productId: "premium-pass" } });
    expect(bought.status).toBe(201);
    const again = await api("/purchases", { method: "POST", token, headers: { "idempotency-key": key }, json: { productId: "premium-pass" } });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { purchase: { id: string } }).purchase.id).toBe(((await bought.json()) as { purchase: { id: string } }).purchase.id);

    expect(await premiumLocked(token)).toBe(false);
    const session = (await (await api("/auth/session", { token })).json()) as { user: { login: string }; entitlements: string[] };
    expect(session).toMatchObject({ user: { login: "fdpd6" }, entitlements: ["premium-pass"] });

    const granted = await api("/events/demo/channels/premium/access", { method: "POST", token });
    expect(granted.status).toBe(200);
    const { playbackUrl } = (await granted.json()) as { playbackUrl: string };
    const playlist = await fetch(p.edgeUrl + playbackUrl);
    expect(playlist.status).toBe(200);
    expect(await playlist.text()).toContain("#EXTM3U");

    // The premium playback token names its channel inside the signed claims: pointing it at another channel breaks it.
    const playToken = playbackUrl.split("/")[2]!;
    const [payload, sig] = playToken.split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
    const moved = `${Buffer.from(JSON.stringify({ ...claims, c: "main" })).toString("base64url")}.${sig}`;
    expect((await fetch(`${p.edgeUrl}/play/${moved}/index.m3u8`)).status).toBe(403);

    expect((await api("/auth/logout", { method: "POST", token })).status).toBe(204);
    expect((await api("/auth/session", { token })).status).toBe(401);
    expect((await api("/events/demo/channels/premium/access", { method: "POST", token })).status).toBe(401);
    expect(await premiumLocked(token)).toBe(true); // the old token now counts as anonymous
  });

  it("keeps premium closed to the second demo viewer, who has bought nothing", async () => {
    const token = await logIn(viewer2.login, viewer2.password);
    expect(await premiumLocked(token)).toBe(true);
    expect((await api("/events/demo/channels/premium/access", { method: "POST", token })).status).toBe(403);
  });

  it("lets a new viewer register, and refuses the same login again in another case", async () => {
    const login = `Fan${Date.now()}`;
    const res = await api("/auth/register", { method: "POST", json: { login, password: "123456" } });
    expect(res.status).toBe(201);
    expect((await api("/auth/register", { method: "POST", json: { login: login.toLowerCase(), password: "123456" } })).status).toBe(409);
  });

  it("answers the sixth wrong password with 429 and Retry-After", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await api("/auth/login", { method: "POST", json: { login: viewer2.login, password: `wrong-${i}` } })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    const res = await api("/auth/login", { method: "POST", json: { login: viewer2.login, password: viewer2.password } });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});

describe("the OpenAPI document", () => {
  it("validates against the OpenAPI 3.1 schema", async () => {
    const res = await fetch(`${p.edgeUrl}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Record<string, unknown>;
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });
});
