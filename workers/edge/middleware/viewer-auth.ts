// Viewer authentication: a signed, unexpired, not logged-out viewer token as the Bearer token.
import type { Context } from "hono";
import type { EdgeEnv } from "../types";
import { createMiddleware } from "hono/factory";
import { DomainError } from "../../shared/errors";
import { accountsConfig } from "../accounts/config";
import { isRevoked } from "../accounts/store";
import { verifyViewerToken } from "../accounts/viewer-token";

/** The signed-in viewer of a request. */
export interface Viewer {
  userId: string;
  login: string;
  tokenId: string;
  /** When the token expires, unix seconds. */
  expiresAt: number;
}

declare module "hono" {
  interface ContextVariableMap {
    /** Set by `viewerAuth()`: the viewer, or null where the token is optional and none (or a bad one) came. */
    viewer: Viewer | null;
  }
}

export type ViewerLookup = { status: "absent" } | { status: "invalid"; reason: string } | { status: "ok"; viewer: Viewer };

/** Reads and checks the request's Bearer token as a viewer token. */
export async function lookupViewer(c: Context<EdgeEnv>): Promise<ViewerLookup> {
  const header = c.req.header("authorization");
  if (!header) return { status: "absent" };
  const m = /^Bearer +(\S+) *$/i.exec(header);
  if (!m) return { status: "invalid", reason: "not a bearer token" };
  const cfg = accountsConfig(c.env);
  const result = await verifyViewerToken(m[1]!, cfg.tokenSecret, Date.now() / 1000);
  if (!result.ok) return { status: "invalid", reason: result.reason };
  const { u, l, j, x } = result.claims;
  if (await isRevoked((c.env).ACCOUNTS, j)) return { status: "invalid", reason: "logged out" };
  return { status: "ok", viewer: { userId: u, login: l, tokenId: j, expiresAt: x } };
}

const UNAUTHENTICATED = { code: "unauthenticated", message: "Sign in first: this needs a valid viewer token." } as const;

/** The request's viewer; throws 401 `unauthenticated` when there is none or the token is not valid. */
export async function requireViewer(c: Context<EdgeEnv>): Promise<Viewer> {
  const found = await lookupViewer(c);
  if (found.status !== "ok") throw new DomainError(UNAUTHENTICATED);
  return found.viewer;
}

export interface ViewerAuthOptions {
  /** Let requests without a valid token through with `viewer` null (for anonymous-friendly reads). */
  optional?: boolean;
}

/** Sets `c.var.viewer`; unless `optional`, rejects the request with 401 when no valid viewer token came. */
export function viewerAuth(options: ViewerAuthOptions = {}) {
  if (options.optional !== undefined && typeof options.optional !== "boolean") throw new TypeError("viewerAuth: optional must be a boolean");
  const optional = options.optional === true;
  return createMiddleware<EdgeEnv>(async (c, next) => {
    const found = await lookupViewer(c);
    if (found.status !== "ok" && !optional) throw new DomainError(UNAUTHENTICATED);
    c.set("viewer", found.status === "ok" ? found.viewer : null);
    await next();
  });
}
