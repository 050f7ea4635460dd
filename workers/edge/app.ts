// The edge app: mounts one sub-app per resource, the playback path, the OpenAPI document and the error handler;
// and the worker's fetch entry, which sends playback requests to the playback path before Hono.
import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { DomainError, failureResponse, unexpectedFailure } from "../shared/errors";
import { answerAfterBody } from "../shared/unread-body";
import { edgeConfig } from "./config";
import { edgePlayback } from "./playback/serve";
import { playbackEntry } from "../shared/playback/pipeline";
import { access } from "./routes/access";
import { adminCatalog } from "./routes/admin-catalog";
import { adminEvents } from "./routes/admin-events";
import { adminManage } from "./routes/admin-manage";
import { adminSales } from "./routes/admin-sales";
import { adminPullZones } from "./routes/admin-pull-zones";
import { adminKiosks } from "./routes/admin-kiosks";
import { kiosk } from "./routes/kiosk";
import { legacy } from "./routes/legacy";
import { sessions } from "./routes/sessions";
import { auth } from "./routes/auth";
import { catalog } from "./routes/catalog";
import { health } from "./routes/health";
import { purchases } from "./routes/purchases";
import { HEARTBEAT_PATH, pullZones } from "./routes/pull-zones";
import type { EdgeEnv } from "./types";

const MAX_BODY_BYTES = 64 * 1024;

/** Builds the edge's Hono app. */
export function createApp() {
  const app = new OpenAPIHono<EdgeEnv>();

  app.use("*", async (c, next) => {
    c.set("config", edgeConfig(c.env));
    await next();
  });
  const apiBodyLimit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new DomainError({ code: "invalid_request", message: "The body is larger than 64 KiB." });
    },
  });
  // A stadium node's heartbeat names its whole crowd: that route sets its own, larger limit.
  app.use("/api/*", (c, next) => (HEARTBEAT_PATH.test(c.req.path) ? next() : apiBodyLimit(c, next)));

  app.route("/", health);
  app.route("/api/v1", catalog);
  app.route("/api/v1", access);
  app.route("/api/v1", adminCatalog);
  app.route("/api/v1", adminEvents);
  app.route("/api/v1", adminManage);
  app.route("/api/v1", adminSales);
  app.route("/api/v1", adminPullZones);
  app.route("/api/v1", sessions);
  app.route("/", legacy);
  app.route("/api/v1", auth);
  app.route("/api/v1", purchases);
  app.route("/api/v1", pullZones);
  app.route("/api/v1", adminKiosks);
  app.route("/api/v1", kiosk);

  app.openAPIRegistry.registerComponent("securitySchemes", "operatorToken", { type: "http", scheme: "bearer" });
  app.openAPIRegistry.registerComponent("securitySchemes", "playbackOrViewerToken", { type: "http", scheme: "bearer" });
  app.openAPIRegistry.registerComponent("securitySchemes", "kioskToken", {
    type: "http",
    scheme: "bearer",
    description: "A kiosk token from PUT /admin/kiosks/{id}: opens only the /kiosk routes",
  });
  app.doc31("/api/v1/openapi.json", {
    openapi: "3.1.0",
    info: { title: "Balancer API", version: "1.0.0", description: "Edge platform for live HLS video at mass events." },
  });

  app.notFound(() => failureResponse({ code: "not_found", message: "Nothing is here." }));
  app.onError(errorResponse);
  return app;
}

/**
 * The one error handler: domain failures as rendered by failureResponse; a transient failure of a Durable
 * Object or KV a 503 with Retry-After (what `unexpectedFailure` recognises); anything else a 500 without details.
 */
function errorResponse(err: unknown): Response {
  if (err instanceof DomainError) return failureResponse(err.failure);
  if (err instanceof HTTPException && err.status < 500) {
    // Hono raises these for unparseable JSON bodies and the like: the client's mistake, said plainly.
    return failureResponse({ code: "invalid_request", message: err.message || "The request is not valid." });
  }
  const failure = unexpectedFailure(err);
  if (failure.code === "internal") console.error("unhandled error", err);
  else console.warn("transient platform failure", err);
  return failureResponse(failure);
}

/**
 * The edge worker's fetch handler: playback requests to the shared playback pipeline, the rest to `app`; a
 * body nothing read is read before the answer, so the connection stays usable (shared/unread-body.ts).
 */
export function createFetch(app: ReturnType<typeof createApp>): ExportedHandlerFetchHandler<Env> {
  return answerAfterBody(playbackEntry(edgePlayback, (request, env, ctx) => app.fetch(request, env, ctx)));
}
