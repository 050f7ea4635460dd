// Helpers for the account tests: talk to the edge worker in-process, with a catalog and viewers of their own.
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import worker from "../../../../workers/edge/index";

export interface ApiError {
  error: { code: string; message: string; productId?: string };
}

export interface AuthResult {
  token: string;
  user: { id: string; login: string };
  expiresAt: string;
}

let counter = 0;
/** A name no other test uses (tests share KV and Durable Object storage within a run). */
export function uniq(prefix: string): string {
  counter++;
  return `${prefix}${Date.now().toString(36)}${counter}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** A client address no other test uses, so login throttling of one test does not leak into another. */
export function uniqAddress(): string {
  return `10.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 256)}.${(counter++ % 250) + 1}`;
}

/**
 * Calls the edge worker's fetch handler in this isolate, with the real bindings. Not through
 * `exports.default.fetch`: in this pool version every call through it is slower than the last
 * (about 80 ms per call after 300 calls), and these tests make thousands.
 */
export function edgeFetch(url: string, init?: RequestInit): Promise<Response> {
  // fetch() is typed for requests the runtime delivers, with incoming `cf` properties; the edge reads none of them.
  const request = new Request(url, init) as Request<unknown, IncomingRequestCfProperties>;
  return Promise.resolve(worker.fetch(request, env, createExecutionContext()));
}

/** A request to the edge app. */
export function api(path: string, init: RequestInit & { json?: unknown; bearer?: string; ip?: string } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.json !== undefined) headers.set("content-type", "application/json");
  if (init.bearer !== undefined) headers.set("authorization", `Bearer ${init.bearer}`);
  if (init.ip !== undefined) headers.set("cf-connecting-ip", init.ip);
  const body = init.json !== undefined ? JSON.stringify(init.json) : init.body;
  return edgeFetch(`http://edge.test/api/v1${path}`, { ...init, headers, body });
}

export async function register(login: string, password = "123456", ip = uniqAddress()): Promise<AuthResult> {
  const res = await api("/auth/register", { method: "POST", json: { login, password }, ip });
  if (res.status !== 201) throw new Error(`register ${login}: ${res.status} ${await res.text()}`);
  return (await res.json()) as AuthResult;
}

export function login(loginName: string, password: string, ip = uniqAddress()): Promise<Response> {
  return api("/auth/login", { method: "POST", json: { login: loginName, password }, ip });
}

/** Checks a 429 too_many_attempts answer whose Retry-After falls within the throttle's window. */
export async function expectTooManyAttempts(res: Response, windowSeconds: number): Promise<void> {
  expect(res.status).toBe(429);
  const retryAfter = Number(res.headers.get("retry-after"));
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
  expect(((await res.json()) as ApiError).error.code).toBe("too_many_attempts");
}

export function buy(token: string, productId: string, key: string, extra: Record<string, unknown> = {}): Promise<Response> {
  return api("/purchases", { method: "POST", bearer: token, headers: { "idempotency-key": key }, json: { productId, ...extra } });
}

/** An operator PUT under /api/v1/admin; anything but 200 throws. */
export async function adminPut(path: string, body: unknown): Promise<void> {
  const res = await edgeFetch(`http://edge.test/api/v1/admin${path}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`admin PUT ${path}: ${res.status} ${await res.text()}`);
}

export interface TestCatalog {
  eventId: string;
  /** A free channel. */
  free: string;
  /** A paid channel unlocked by `pass` (its productId). */
  premium: string;
  /** A paid channel whose own productId is `otherPass`, also listed in `pass`'s channelIds. */
  bundled: string;
  pass: string;
  otherPass: string;
  goods: string;
}

/** An event of its own with a free channel, two paid channels, two passes of the event and one goods product. */
export async function seedCatalog(): Promise<TestCatalog> {
  const t: TestCatalog = {
    eventId: uniq("ev"),
    free: "main",
    premium: "premium",
    bundled: "bundled",
    pass: uniq("pass"),
    otherPass: uniq("other"),
    goods: uniq("goods"),
  };
  const price = { amount: 29900, currency: "RUB" };
  await adminPut(`/events/${t.eventId}`, { title: "Test match", limits: {} });
  await adminPut(`/products/${t.pass}`, { kind: "channel_pass", title: "Pass", price, eventId: t.eventId, channelIds: [t.premium, t.bundled] });
  await adminPut(`/products/${t.otherPass}`, { kind: "channel_pass", title: "Other pass", price, eventId: t.eventId, channelIds: [t.bundled] });
  await adminPut(`/products/${t.goods}`, { kind: "goods", title: "Food voucher", price: { amount: 45000, currency: "RUB" } });
  const origin = "https://origin.example/live/index.m3u8";
  await adminPut(`/events/${t.eventId}/channels/${t.free}`, { title: "Main", originUrl: origin, paid: false });
  await adminPut(`/events/${t.eventId}/channels/${t.premium}`, { title: "Premium", originUrl: origin, paid: true, productId: t.pass });
  await adminPut(`/events/${t.eventId}/channels/${t.bundled}`, { title: "Bundled", originUrl: origin, paid: true, productId: t.otherPass });
  return t;
}

/** The first request loads the whole worker, which takes longer than a test's default 5 s. */
export async function warmUp(): Promise<void> {
  await edgeFetch("http://edge.test/healthz");
}
