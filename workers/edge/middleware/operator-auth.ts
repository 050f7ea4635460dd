// Operator authentication: the ADMIN_TOKEN as a Bearer token (or, for the prototype's legacy link, `?token=`).
import { createMiddleware } from "hono/factory";
import { DomainError } from "../../shared/errors";
import { timingSafeEqualText } from "../../shared/timing-safe";
import type { EdgeEnv } from "../types";

export interface OperatorAuthOptions {
  /** Also accept the token as the `token` query parameter (only for links kept from the prototype). */
  allowQueryToken?: boolean;
}

/** Rejects the request with 401 unless it carries the operator token. */
export function operatorAuth(options: OperatorAuthOptions = {}) {
  const allowQuery = options.allowQueryToken === true;
  return createMiddleware<EdgeEnv>(async (c, next) => {
    const header = c.req.header("authorization");
    let presented: string | undefined;
    if (header?.startsWith("Bearer ")) presented = header.slice(7).trim();
    else if (allowQuery) presented = c.req.query("token");
    if (!presented || !(await timingSafeEqualText(presented, c.var.config.adminToken))) {
      throw new DomainError({ code: "unauthenticated", message: "This needs the operator token." });
    }
    await next();
  });
}
