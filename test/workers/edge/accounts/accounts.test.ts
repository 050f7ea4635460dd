// Viewer accounts: register, log in, session, log out, as the Android app and the web player use them.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { signViewerToken } from "../../../../workers/edge/accounts/viewer-token";
import { api, login, register, uniq, warmUp, type ApiError, type AuthResult } from "./support";

beforeAll(warmUp, 60_000);

async function expectError(res: Response, status: number, code: string): Promise<ApiError> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as ApiError;
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(5);
  return body;
}

describe("register", () => {
  it("creates an account and answers 201 with a token, the user and the expiry", async () => {
    const name = uniq("viewer");
    const res = await api("/auth/register", { method: "POST", json: { login: name, password: "123456" } });
    expect(res.status).toBe(201);
    const body = (await res.json()) as AuthResult;
    expect(body.user).toEqual({ id: expect.stringMatching(/^usr_[0-9a-f]{32}$/), login: name });
    expect(body.token).toMatch(/^[\w-]+\.[\w-]+$/);
    const days = (Date.parse(body.expiresAt) - Date.now()) / 86400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThan(7.1);
  });

  it("accepts the prototype's six-character password 123456 and refuses five characters with 400", async () => {
    await register(uniq("six"), "123456");
    await expectError(await api("/auth/register", { method: "POST", json: { login: uniq("five"), password: "12345" } }), 400, "invalid_request");
  });

  it("answers 409 login_taken for a login that differs only in case or Unicode form", async () => {
    const base = uniq("zoë");
    await register(base);
    await expectError(await api("/auth/register", { method: "POST", json: { login: base.toUpperCase(), password: "abcdef" } }), 409, "login_taken");
    // "e" followed by a combining diaeresis is the same login as "ë" after NFKC.
    const decomposed = base.replace("ë", "e\u0308");
    await expectError(await api("/auth/register", { method: "POST", json: { login: decomposed, password: "abcdef" } }), 409, "login_taken");
  });

  it("makes one account and one 409 out of two simultaneous registrations of one login", async () => {
    const name = uniq("race");
    const [a, b] = await Promise.all([
      api("/auth/register", { method: "POST", json: { login: name, password: "first-password" } }),
      api("/auth/register", { method: "POST", json: { login: name.toUpperCase(), password: "second-password" } }),
    ]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    const winner = a.status === 201 ? "first-password" : "second-password";
    const loser = a.status === 201 ? "second-password" : "first-password";
    expect((await login(name, winner)).status).toBe(200);
    expect((await login(name, loser)).status).toBe(401);
  });

  it("refuses logins with spaces, control or invisible characters with 400", async () => {
    for (const bad of ["two words", "tab\there", "zero\u200bwidth", "ab", "x".repeat(65)]) {
      await expectError(await api("/auth/register", { method: "POST", json: { login: bad, password: "123456" } }), 400, "invalid_request");
    }
  });
});

describe("login", () => {
  it("signs in with the login in any case or width and the right password", async () => {
    const name = uniq("fdpd");
    const registered = await register(name, "123456");
    for (const variant of [name, name.toUpperCase(), toFullWidth(name)]) {
      const res = await login(variant, "123456");
      expect(res.status).toBe(200);
      const body = (await res.json()) as AuthResult;
      expect(body.user).toEqual(registered.user);
      expect(body.token).not.toBe(registered.token);
    }
  });

  it("answers a wrong password and an unknown login alike with 401 invalid_credentials", async () => {
    const name = uniq("known");
    await register(name, "right-password");
    await expectError(await login(name, "wrong-password"), 401, "invalid_credentials");
    await expectError(await login(uniq("nobody"), "right-password"), 401, "invalid_credentials");
  });
});

describe("session and logout", () => {
  it("reports the user, the token's expiry and no entitlements for a new viewer", async () => {
    const r = await register(uniq("sess"));
    const res = await api("/auth/session", { bearer: r.token });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ user: r.user, expiresAt: r.expiresAt, entitlements: [] });
  });

  it("answers 401 unauthenticated without a token, with a malformed one and with a tampered one", async () => {
    await expectError(await api("/auth/session"), 401, "unauthenticated");
    await expectError(await api("/auth/session", { bearer: "garbage" }), 401, "unauthenticated");
    await expectError(await api("/auth/session", { headers: { authorization: "Basic Zm9vOmJhcg==" } }), 401, "unauthenticated");
    const r = await register(uniq("tamper"));
    const [payload, sig] = r.token.split(".");
    const claims = JSON.parse(atob(payload!.replace(/-/g, "+").replace(/_/g, "/")));
    const forgedPayload = btoa(JSON.stringify({ ...claims, u: "usr_someone_else" })).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    await expectError(await api("/auth/session", { bearer: `${forgedPayload}.${sig}` }), 401, "unauthenticated");
  });

  it("refuses an expired token with 401", async () => {
    const expired = await signViewerToken(
      { u: "usr_x", l: "x", j: "AAAAAAAAAAAAAAAAAAAAAA", x: Math.floor(Date.now() / 1000) - 1 },
      env.VIEWER_TOKEN_SECRET,
    );
    await expectError(await api("/auth/session", { bearer: expired }), 401, "unauthenticated");
  });

  it("refuses the token at once after logout, while another token of the same viewer keeps working", async () => {
    const name = uniq("bye");
    const first = await register(name);
    const second = (await (await login(name, "123456")).json()) as AuthResult;
    const out = await api("/auth/logout", { method: "POST", bearer: first.token });
    expect(out.status).toBe(204);
    await expectError(await api("/auth/session", { bearer: first.token }), 401, "unauthenticated");
    await expectError(await api("/purchases", { bearer: first.token }), 401, "unauthenticated");
    await expectError(await api("/auth/logout", { method: "POST", bearer: first.token }), 401, "unauthenticated");
    expect((await api("/auth/session", { bearer: second.token })).status).toBe(200);
  });

  it("keeps the revocation record exactly as long as the token would have lived", async () => {
    const r = await register(uniq("ttl"));
    await api("/auth/logout", { method: "POST", bearer: r.token });
    const jti = JSON.parse(atob(r.token.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/"))).j as string;
    const { keys } = await env.ACCOUNTS.list({ prefix: `revoked:${jti}` });
    expect(keys).toHaveLength(1);
    const expiration = keys[0]!.expiration! * 1000;
    expect(Math.abs(expiration - Date.parse(r.expiresAt))).toBeLessThan(5_000);
  });
});

function toFullWidth(s: string): string {
  return [...s].map((ch) => (ch >= "!" && ch <= "~" ? String.fromCharCode(ch.charCodeAt(0) + 0xfee0) : ch)).join("");
}
