// The OpenAPI document at /api/v1/openapi.json: generated from the routes' zod schemas, it lists every route the app serves.
// (Validation against the OpenAPI 3.1 JSON Schema runs in Node, in test/platform/viewer-flow.test.ts.)
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../../../workers/edge/index";

interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, { responses?: Record<string, unknown>; security?: unknown[] }>>;
  components?: { schemas?: Record<string, unknown>; securitySchemes?: Record<string, unknown> };
}

// The document itself is not an API route. (The playback path serves HLS, not JSON: the worker's fetch entry
// sends it to the playback pipeline, never to this app, so it is not among the app's routes.)
const NOT_IN_DOCUMENT = new Set(["GET /api/v1/openapi.json"]);

let doc: OpenApiDoc;
beforeAll(async () => {
  // Through the worker's real entry point, once.
  const res = await exports.default.fetch("http://edge.test/api/v1/openapi.json");
  if (res.status !== 200) console.log(await res.clone().text());
  expect(res.status).toBe(200);
  doc = (await res.json()) as OpenApiDoc;
}, 60_000);

function servedRoutes(): string[] {
  const routes = app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path.replace(/:([^/]+)/g, "{$1}")}`);
  return [...new Set(routes)].sort();
}

describe("the OpenAPI document", () => {
  it("is OpenAPI 3.1", () => {
    expect(doc.openapi).toBe("3.1.0");
  });

  it("lists every route the app serves", () => {
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)));
    const missing = servedRoutes().filter((r) => !NOT_IN_DOCUMENT.has(r) && !documented.has(r));
    expect(missing).toEqual([]);
  });

  it("keeps its list of exceptions honest: each is still served", () => {
    const served = new Set(servedRoutes());
    for (const r of NOT_IN_DOCUMENT) expect(served.has(r), r).toBe(true);
  });

  it("describes the viewer account and purchase endpoints with their errors and the viewer token", () => {
    expect(Object.keys(doc.paths["/api/v1/auth/register"]!)).toEqual(["post"]);
    expect(Object.keys(doc.paths["/api/v1/auth/login"]!.post!.responses!)).toEqual(expect.arrayContaining(["200", "400", "401", "429"]));
    expect(doc.paths["/api/v1/auth/session"]!.get!.security).toEqual([{ viewerToken: [] }]);
    expect(Object.keys(doc.paths["/api/v1/purchases"]!).sort()).toEqual(["get", "post"]);
    expect(Object.keys(doc.paths["/api/v1/purchases"]!.post!.responses!)).toEqual(expect.arrayContaining(["200", "201", "400", "401", "402", "404", "409"]));
    expect(doc.components?.securitySchemes).toHaveProperty("viewerToken");
  });

  it("lists 503 unavailable on every operation that lists errors, since any of them may meet a Durable Object or KV briefly down", () => {
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([m, op]) => ({ at: `${m.toUpperCase()} ${path}`, codes: Object.keys(op.responses ?? {}) })));
    const withErrors = operations.filter((o) => o.codes.some((c) => c.startsWith("4")));
    expect(withErrors.length).toBeGreaterThan(10);
    expect(withErrors.filter((o) => !o.codes.includes("503")).map((o) => o.at)).toEqual([]);
  });

  it("resolves every $ref it contains", () => {
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    for (const ref of new Set(refs)) {
      const pointer = ref.slice(8, -1);
      expect(pointer.startsWith("#/")).toBe(true);
      let node: unknown = doc;
      for (const part of pointer.slice(2).split("/")) node = (node as Record<string, unknown>)[part.replace(/~1/g, "/").replace(/~0/g, "~")];
      expect(node, pointer).toBeDefined();
    }
  });
});
