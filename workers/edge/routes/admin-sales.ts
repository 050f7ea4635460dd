// Operator sales figures: purchases per product and per event with revenue per currency, as JSON and as CSV.
import { createRoute, z } from "@hono/zod-openapi";
import { listSales } from "../../shared/accounts/sales-index";
import { IdSchema } from "../../shared/ids";
import { DomainError } from "../../shared/errors";
import { catalogStore } from "../catalog/store";
import { operatorAuth } from "../middleware/operator-auth";
import { apiApp, errorResponses } from "../openapi";
import { backfillSales, loadSales, salesCsv, salesReport } from "../sales/report";

const security = [{ operatorToken: [] }];
const json = <T>(schema: T) => ({ content: { "application/json": { schema } } });

const SalesQuerySchema = z.object({
  eventId: IdSchema.optional().openapi({ param: { name: "eventId", in: "query" }, description: "Only this event's products and sales" }),
});

const RevenueSchema = z
  .object({
    currency: z.string().openapi({ example: "RUB" }),
    amount: z.number().int().openapi({ description: "Minor units, as prices are" }),
    sales: z.number().int().openapi({ description: "Sales in this currency" }),
  })
  .openapi("Revenue");
const lineFields = {
  sales: z.number().int().openapi({ description: "Completed purchases; refunded ones and declined payments are not counted" }),
  revenue: z.array(RevenueSchema).openapi({ description: "One sum per currency: amounts in different currencies are never added together" }),
};
const SalesReportSchema = z
  .object({
    products: z.array(
      z.object({
        productId: z.string(),
        title: z.string(),
        kind: z.enum(["channel_pass", "goods"]).nullable().openapi({ description: "null for a product no longer in the catalog" }),
        eventId: z.string().nullable(),
        archived: z.boolean(),
        ...lineFields,
      }),
    ),
    events: z.array(
      z.object({
        eventId: z.string().nullable().openapi({ description: "null: goods sold without an event" }),
        title: z.string().nullable(),
        archived: z.boolean(),
        ...lineFields,
      }),
    ),
    total: z.object(lineFields),
    indexComplete: z.boolean().openapi({ description: "false while purchases made before the sales index existed are still being added (ask again)" }),
  })
  .openapi("SalesReport");

export const adminSales = apiApp();
adminSales.use("/admin/*", operatorAuth());

async function catalogFor(env: Env, eventId: string | undefined) {
  const store = catalogStore(env.CATALOG);
  const [products, events] = await Promise.all([store.listProducts(), store.listEvents()]);
  if (eventId !== undefined && !events.some((e) => e.id === eventId)) throw new DomainError({ code: "not_found", message: `There is no event '${eventId}'.` });
  return { products, events };
}

adminSales.openapi(
  createRoute({
    method: "get",
    path: "/admin/sales",
    summary: "Sales per product and per event: completed purchases and revenue per currency",
    security,
    request: { query: SalesQuerySchema },
    responses: { 200: { description: "Sales", ...json(SalesReportSchema) }, ...errorResponses(400, 401, 404) },
  }),
  async (c) => {
    const { eventId } = c.req.valid("query");
    const { products, events } = await catalogFor(c.env, eventId);
    return c.json(await loadSales(c.env, products, events, eventId), 200);
  },
);

adminSales.openapi(
  createRoute({
    method: "get",
    path: "/admin/sales.csv",
    summary: "The sales per product as CSV (RFC 4180, a header row, one row per product and currency)",
    description:
      "Columns: event_id, event_title, product_id, product_title, kind, currency, sales, revenue (major units, two decimals), revenue_minor_units. A product without sales has one row with an empty currency.",
    security,
    request: { query: SalesQuerySchema },
    responses: {
      200: { description: "CSV, UTF-8", content: { "text/csv": { schema: z.string() } } },
      ...errorResponses(400, 401, 404),
    },
  }),
  async (c) => {
    const { eventId } = c.req.valid("query");
    const { products, events } = await catalogFor(c.env, eventId);
    await backfillSales(c.env, products);
    const report = salesReport(await listSales(c.env.ACCOUNTS), products, events, eventId);
    return c.body(salesCsv(report, events), 200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="sales-${eventId ?? "all"}.csv"`,
      "cache-control": "no-store",
    });
  },
);

adminSales.openapi(
  createRoute({
    method: "post",
    path: "/admin/sales/reindex",
    summary: "Start walking every viewer's purchases into the sales index again (after an index write failed); each GET /admin/sales goes on with it until indexComplete",
    security,
    responses: { 200: { description: "How far the walk is", ...json(z.object({ indexComplete: z.boolean() })) }, ...errorResponses(401) },
  }),
  async (c) => {
    const products = await catalogStore(c.env.CATALOG).listProducts();
    return c.json({ indexComplete: await backfillSales(c.env, products, true) }, 200);
  },
);
