// The operator's kiosks: issue one (its token shown once), rename, delete (its token stops working), list. A kiosk
// token opens only the kiosk routes (routes/kiosk.ts).
import { createRoute, z } from "@hono/zod-openapi";
import { DomainError } from "../../shared/errors";
import { IdSchema } from "../../shared/ids";
import { kioskStore } from "../kiosks/store";
import { operatorAuth } from "../middleware/operator-auth";
import { OPERATOR_KIOSK } from "../middleware/kiosk-auth";
import { apiApp, errorResponses } from "../openapi";

const security = [{ operatorToken: [] }];
const json = <T>(schema: T) => ({ content: { "application/json": { schema } } });

const KioskParamsSchema = z.object({
  id: IdSchema.refine((id) => id !== OPERATOR_KIOSK.id, "`operator` names redemptions made with the operator token").openapi({ param: { name: "id", in: "path" } }),
});
const KioskInputSchema = z.object({ name: z.string().trim().min(1).max(100) }).openapi("KioskInput");
const KioskSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    createdAt: z.string(),
    kioskToken: z.string().optional().openapi({ description: "Only when the kiosk is new: enter it on the kiosk page; it is never shown again" }),
  })
  .openapi("Kiosk");

export const adminKiosks = apiApp();
adminKiosks.use("/admin/kiosks", operatorAuth());
adminKiosks.use("/admin/kiosks/*", operatorAuth());

adminKiosks.openapi(
  createRoute({
    method: "put",
    path: "/admin/kiosks/{id}",
    summary: "Issue a kiosk (201 with its token, shown once) or rename one (200, the token unchanged)",
    security,
    request: { params: KioskParamsSchema, body: { ...json(KioskInputSchema), required: true } },
    responses: {
      201: { description: "Issued; the kiosk token is in this answer only", ...json(KioskSchema) },
      200: { description: "Renamed; the kiosk keeps its token", ...json(KioskSchema) },
      ...errorResponses(400, 401),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { record, token } = await kioskStore(c.env.CATALOG).put(id, c.req.valid("json").name, Date.now());
    const body = { id: record.id, name: record.name, createdAt: record.createdAt };
    c.header("cache-control", "no-store");
    return token ? c.json({ ...body, kioskToken: token }, 201) : c.json(body, 200);
  },
);

adminKiosks.openapi(
  createRoute({
    method: "delete",
    path: "/admin/kiosks/{id}",
    summary: "Delete a kiosk: its token stops working (redemptions it made keep its name)",
    security,
    request: { params: KioskParamsSchema },
    responses: { 204: { description: "Deleted" }, ...errorResponses(400, 401, 404) },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    if (!(await kioskStore(c.env.CATALOG).remove(id))) throw new DomainError({ code: "not_found", message: `There is no kiosk '${id}'.` });
    return c.body(null, 204);
  },
);

adminKiosks.openapi(
  createRoute({
    method: "get",
    path: "/admin/kiosks",
    summary: "Every kiosk, in id order (without tokens)",
    security,
    responses: { 200: { description: "The kiosks", ...json(z.array(KioskSchema)) }, ...errorResponses(401) },
  }),
  async (c) => {
    const kiosks = await kioskStore(c.env.CATALOG).list();
    c.header("cache-control", "no-store");
    return c.json(kiosks.map((k) => ({ id: k.id, name: k.name, createdAt: k.createdAt })), 200);
  },
);
