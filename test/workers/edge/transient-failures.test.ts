// A Durable Object or KV call that fails for a passing reason (an object overloaded, reset or unreachable, the
// KV service refusing for a moment) answers 503 unavailable with Retry-After, so clients retry; a fault of
// ours stays 500 internal. Each case makes one dependency of a real route throw what workerd throws.
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../../workers/edge/index";

type Binding = "CATALOG" | "ACCOUNTS" | "ATTEMPT_LIMITER";

function call(path: string, init: RequestInit, bindings: Partial<Record<Binding, unknown>>): Promise<Response> {
  const request = new Request(`http://edge.test/api/v1${path}`, init);
  return Promise.resolve(app.fetch(request, { ...env, ...bindings } as Env, createExecutionContext()));
}

/** What workerd throws for a KV call the KV service answered with `status`. */
function kvError(method: string, status: string): Error {
  return new Error(`KV ${method} failed: ${status}`);
}

/** A KV namespace whose every call throws `err`. */
function throwingKv(err: Error): KVNamespace {
  const fail = async () => {
    throw err;
  };
  return { get: fail, getWithMetadata: fail, put: fail, list: fail, delete: fail } as unknown as KVNamespace;
}

/** A Durable Object namespace whose stubs throw `err` from every RPC method, as workerd's stubs do. */
function throwingObjects(namespace: { idFromName(name: string): DurableObjectId }, err: Error): DurableObjectNamespace {
  const stub = new Proxy({}, { get: (_, name) => (name === "then" ? undefined : async () => Promise.reject(err)) });
  return { idFromName: (name: string) => namespace.idFromName(name), get: () => stub } as unknown as DurableObjectNamespace;
}

function workerdError(message: string, flags: { retryable?: boolean; overloaded?: boolean; remote?: boolean; durableObjectReset?: boolean }): Error {
  return Object.assign(new Error(message), flags);
}

let n = 0;
/** A login of its own from an address of its own each time, so the login throttle never answers first. */
function login(): RequestInit {
  n++;
  const ip = `192.0.${n % 256}.${(Date.now() % 250) + 1}`;
  return { method: "POST", headers: { "content-type": "application/json", "cf-connecting-ip": ip }, body: JSON.stringify({ login: `transient${Date.now()}x${n}`, password: "123456" }) };
}
const adminPut = {
  method: "PUT",
  headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" },
  body: JSON.stringify({ title: "Transient", limits: {} }),
};

async function expectUnavailable(res: Response): Promise<void> {
  expect(res.status).toBe(503);
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unavailable");
}

describe("transient platform failures on the API", () => {
  it("answers 503 unavailable with Retry-After when a KV read fails on the KV service's side", async () => {
    await expectUnavailable(await call("/events", {}, { CATALOG: throwingKv(kvError("LIST", "503 Service Unavailable")) }));
    await expectUnavailable(await call("/auth/login", login(), { ACCOUNTS: throwingKv(kvError("GET", "500 Internal Server Error")) }));
  });

  it("answers 503 unavailable with Retry-After when a KV write is refused for too many writes", async () => {
    await expectUnavailable(await call("/admin/events/transient-kv", adminPut, { CATALOG: throwingKv(kvError("PUT", "429 Too Many Requests")) }));
  });

  it("answers 503 unavailable with Retry-After when a KV call loses its connection", async () => {
    await expectUnavailable(await call("/events", {}, { CATALOG: throwingKv(workerdError("Network connection lost.", { retryable: true })) }));
  });

  it("answers 503 unavailable with Retry-After when a Durable Object is overloaded", async () => {
    const err = workerdError("Durable Object is overloaded. Too many requests queued.", { overloaded: true });
    await expectUnavailable(await call("/auth/login", login(), { ATTEMPT_LIMITER: throwingObjects(env.ATTEMPT_LIMITER, err) }));
  });

  it("answers 503 unavailable with Retry-After when a Durable Object was reset or could not be reached", async () => {
    const reset = workerdError("Durable Object reset because its code was updated.", { retryable: true, durableObjectReset: true });
    await expectUnavailable(await call("/auth/login", login(), { ATTEMPT_LIMITER: throwingObjects(env.ATTEMPT_LIMITER, reset) }));
    const lost = workerdError("Network connection lost.", { retryable: true });
    await expectUnavailable(await call("/auth/login", login(), { ATTEMPT_LIMITER: throwingObjects(env.ATTEMPT_LIMITER, lost) }));
  });

  it("answers 500 internal without Retry-After for a fault of ours: an object's own error, a KV call it refused as invalid", async () => {
    const faults = [
      { ATTEMPT_LIMITER: throwingObjects(env.ATTEMPT_LIMITER, workerdError("no such table: attempts", { remote: true })) },
      { ACCOUNTS: throwingKv(kvError("GET", "414 UTF-8 encoded length of 600 exceeds key length limit of 512.")) },
      { ACCOUNTS: throwingKv(new TypeError("Cannot read properties of undefined (reading 'password')")) },
    ];
    for (const bindings of faults) {
      const res = await call("/auth/login", login(), bindings);
      expect(res.status).toBe(500);
      expect(res.headers.get("retry-after")).toBeNull();
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("internal");
    }
  });
});
