// Demo origin entry: stands in for a broadcaster's HLS origin (live loop, VOD sets, benchmark and failure fixtures).
import { Hono } from "hono";
import { cors } from "hono/cors";
import { jsonError } from "./json-error";
import { segmentDelay } from "./middleware/segment-delay";
import { requestStats } from "./request-stats";
import { broken } from "./routes/broken";
import { faults } from "./routes/faults";
import { live } from "./routes/live";
import { ll } from "./routes/ll";
import { stats } from "./routes/stats";
import { synthetic } from "./routes/synthetic";
import { vod } from "./routes/vod";
import type { DemoOriginApp } from "./types";

const app = new Hono<DemoOriginApp>();

// Browsers play the origin directly in the e2e tests; Range and Content-Range must cross origins too.
app.use(
  "*",
  cors({
    origin: "*",
    allowMethods: ["GET", "HEAD", "POST", "OPTIONS"],
    allowHeaders: ["Range", "If-None-Match", "If-Modified-Since"],
    exposeHeaders: ["Content-Length", "Content-Range", "Accept-Ranges", "ETag", "Age"],
    maxAge: 600,
  }),
);
app.use("/live/*", segmentDelay());
app.use("/ll/*", segmentDelay());
app.use("/vod/*", segmentDelay());
app.use("/synthetic/*", segmentDelay());

app.route("/live", live);
app.route("/ll", ll);
app.route("/vod", vod);
app.route("/synthetic", synthetic);
app.route("/broken", broken);
app.route("/_stats", stats);
app.route("/", faults((request, c) => app.fetch(request, c.env, c.executionCtx)));

app.notFound((c) => jsonError(c, 404, "not_found", `Nothing is at ${c.req.path}.`));
app.onError((err, c) => {
  console.error("demo origin failure", err);
  return jsonError(c, 500, "internal_error", "The demo origin failed; see its log.");
});

export default {
  /** Counts the request (control paths under /_stats excepted), then routes it. */
  fetch(request: Request, env: DemoOriginEnv, ctx: ExecutionContext): Response | Promise<Response> {
    const path = new URL(request.url).pathname;
    // /_stats is how the load is read; counting the reads would blur the figures they report.
    if (path !== "/_stats" && !path.startsWith("/_stats/")) requestStats.record(path);
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<DemoOriginEnv>;

