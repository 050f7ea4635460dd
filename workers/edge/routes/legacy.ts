// Links kept from the original prototype: GET /access_queue_swith toggles an event's overload switch.
import { createRoute, z } from "@hono/zod-openapi";
import { getOverload, setOverload } from "../admission/event-admission";
import { DomainError } from "../../shared/errors";
import { IdSchema } from "../../shared/ids";
import { catalogStore } from "../catalog/store";
import { operatorAuth } from "../middleware/operator-auth";
import { apiApp, errorResponses } from "../openapi";

export const legacy = apiApp();
// The prototype's operators bookmarked this link with the token in the query string.
legacy.use("/access_queue_swith", operatorAuth({ allowQueryToken: true }));

legacy.openapi(
  createRoute({
    method: "get",
    path: "/access_queue_swith",
    summary: "Toggle an event's overload switch (the prototype's link; the spelling is kept on purpose)",
    security: [{ operatorToken: [] }],
    request: {
      query: z.object({
        event: IdSchema.openapi({ param: { name: "event", in: "query" } }),
        token: z.string().optional().openapi({ param: { name: "token", in: "query" }, description: "Operator token, if not sent as Bearer" }),
      }),
    },
    responses: {
      200: { description: "The switch after toggling", content: { "application/json": { schema: z.object({ enabled: z.boolean() }) } } },
      ...errorResponses(400, 401, 404),
    },
  }),
  async (c) => {
    const { event } = c.req.valid("query");
    const found = await catalogStore(c.env.CATALOG).getEvent(event);
    if (!found) throw new DomainError({ code: "not_found", message: `There is no event '${event}'.` });
    const enabled = await setOverload(c.env, found, !(await getOverload(c.env, found)));
    c.header("cache-control", "no-store");
    return c.json({ enabled }, 200);
  },
);
