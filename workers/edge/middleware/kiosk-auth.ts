// Kiosk authentication: a kiosk token (issued per kiosk by the operator) or the operator token as the Bearer token.
// It opens only the kiosk routes (routes/kiosk.ts): checking and redeeming goods codes.
import { createMiddleware } from "hono/factory";
import { DomainError } from "../../shared/errors";
import { timingSafeEqualText } from "../../shared/timing-safe";
import { kioskStore } from "../kiosks/store";
import type { EdgeEnv } from "../types";

/** Who is checking or redeeming: a kiosk, or the operator (kiosk id "operator"). */
export interface Kiosk {
  id: string;
  name: string;
}

/** The kiosk id redemptions made with the operator token are recorded under. */
export const OPERATOR_KIOSK: Kiosk = { id: "operator", name: "operator" };

declare module "hono" {
  interface ContextVariableMap {
    /** Set by `kioskAuth()`. */
    kiosk: Kiosk;
  }
}

/** Rejects the request with 401 unless it carries a kiosk token or the operator token. */
export function kioskAuth() {
  return createMiddleware<EdgeEnv>(async (c, next) => {
    const m = /^Bearer +(\S+) *$/i.exec(c.req.header("authorization") ?? "");
    const presented = m?.[1];
    let kiosk: Kiosk | null = null;
    if (presented?.startsWith("kiosk.")) {
      const record = await kioskStore(c.env.CATALOG).verify(presented);
      if (record) kiosk = { id: record.id, name: record.name };
    } else if (presented && (await timingSafeEqualText(presented, c.var.config.adminToken))) {
      kiosk = OPERATOR_KIOSK;
    }
    if (!kiosk) throw new DomainError({ code: "unauthenticated", message: "This needs a kiosk token or the operator token." });
    c.set("kiosk", kiosk);
    await next();
  });
}
