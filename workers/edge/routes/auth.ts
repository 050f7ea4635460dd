// Viewer accounts: register, log in, log out, and check the session.
import { createRoute } from "@hono/zod-openapi";
import { loginRegistry } from "../../../durable-objects/login-registry/client";
import { purchaseLedger } from "../../../durable-objects/purchase-ledger/client";
import { clientAddressKey } from "../accounts/client-address";
import { CredentialsSchema, isRegistrableLogin, LoginRequestSchema, loginKey } from "../accounts/credentials";
import { beginLoginAttempt } from "../accounts/login-throttle";
import { beginRegistration, REGISTRATIONS_PER_ADDRESS, REGISTRATION_WINDOW_MS } from "../accounts/registration-throttle";
import { hashPassword, verifyPassword } from "../accounts/password";
import { AuthResultSchema, SessionSchema } from "../accounts/schemas";
import { readAccount, revokeToken } from "../accounts/store";
import type { Account } from "../../shared/accounts/records";
import { issueViewerToken } from "../accounts/tokens";
import { viewerAuth } from "../middleware/viewer-auth";
import { apiApp, errorResponses } from "../openapi";
import { DomainError } from "../../shared/errors";
import { randomId } from "../../shared/ids";

const json = <T>(schema: T) => ({ content: { "application/json": { schema } } });
const security = [{ viewerToken: [] }];

export const auth = apiApp();
auth.openAPIRegistry.registerComponent("securitySchemes", "viewerToken", {
  type: "http",
  scheme: "bearer",
  description: "A viewer token from register or login",
});

/** The account of a normalised login: the KV copy, or the registry object when KV does not show it (yet). */
async function findAccount(env: Env, key: string): Promise<Account | null> {
  return (await readAccount(env.ACCOUNTS, key)) ?? (await loginRegistry(env, key).lookup());
}

auth.openapi(
  createRoute({
    method: "post",
    path: "/auth/register",
    summary: `Create a viewer account and sign in; ${REGISTRATIONS_PER_ADDRESS} registrations per address in ${REGISTRATION_WINDOW_MS / 60_000} minutes are followed by 429`,
    request: { body: { ...json(CredentialsSchema), required: true } },
    responses: {
      201: { description: "Registered and signed in", ...json(AuthResultSchema) },
      ...errorResponses(400, 409, 429),
    },
  }),
  async (c) => {
    const { login, password } = c.req.valid("json");
    const key = loginKey(login);
    const now = Date.now();
    const registration = await beginRegistration(c.env, clientAddressKey(c.req.header("cf-connecting-ip")), now);
    if (!registration.allowed) {
      throw new DomainError({
        code: "too_many_attempts",
        retryAfterSeconds: registration.retryAfterSeconds,
        message: "Too many registrations from this address. Wait a few minutes and try again.",
      });
    }
    // Cheap early answer for a login that is visibly taken; the registry object below is what decides.
    if (await readAccount(c.env.ACCOUNTS, key)) throw new DomainError({ code: "login_taken" });
    const account: Account = {
      id: randomId("usr"),
      login,
      loginKey: key,
      password: await hashPassword(password),
      createdAt: new Date(now).toISOString(),
    };
    const outcome = await loginRegistry(c.env, key).claim(account);
    if (!outcome.created) throw new DomainError({ code: "login_taken" });
    return c.json(await issueViewerToken(c.env, account, now), 201);
  },
);

auth.openapi(
  createRoute({
    method: "post",
    path: "/auth/login",
    summary: "Sign in; 5 failed attempts per login or address in 5 minutes are followed by 429",
    request: { body: { ...json(LoginRequestSchema), required: true } },
    responses: {
      200: { description: "Signed in", ...json(AuthResultSchema) },
      ...errorResponses(400, 401, 429),
    },
  }),
  async (c) => {
    const { login, password } = c.req.valid("json");
    const key = loginKey(login);
    const now = Date.now();
    const attempt = await beginLoginAttempt(c.env, key, clientAddressKey(c.req.header("cf-connecting-ip")), now);
    if (!attempt.allowed) throw new DomainError({ code: "too_many_attempts", retryAfterSeconds: attempt.retryAfterSeconds });
    // A login no registration accepts names no account: not looked up (nor sent to KV, whose keys it may not fit).
    const account = isRegistrableLogin(login) ? await findAccount(c.env, key) : null;
    // Unknown login and wrong password take the same time and give the same answer.
    if (!(await verifyPassword(password, account?.password ?? null)) || !account) {
      throw new DomainError({ code: "invalid_credentials" });
    }
    await attempt.succeeded();
    return c.json(await issueViewerToken(c.env, account, now), 200);
  },
);

auth.openapi(
  createRoute({
    method: "post",
    path: "/auth/logout",
    summary: "Sign out: the token stops working at once",
    security,
    middleware: [viewerAuth()] as const,
    responses: { 204: { description: "Signed out" }, ...errorResponses(401) },
  }),
  async (c) => {
    const viewer = c.var.viewer!;
    await revokeToken(c.env.ACCOUNTS, viewer.tokenId, viewer.userId, viewer.expiresAt, Date.now() / 1000);
    return c.body(null, 204);
  },
);

auth.openapi(
  createRoute({
    method: "get",
    path: "/auth/session",
    summary: "Who is signed in, until when, and what they own",
    security,
    middleware: [viewerAuth()] as const,
    responses: { 200: { description: "The session", ...json(SessionSchema) }, ...errorResponses(401) },
  }),
  async (c) => {
    const viewer = c.var.viewer!;
    const entitlements = await purchaseLedger(c.env, viewer.userId).entitlements();
    return c.json(
      {
        user: { id: viewer.userId, login: viewer.login },
        expiresAt: new Date(viewer.expiresAt * 1000).toISOString(),
        entitlements,
      },
      200,
    );
  },
);
