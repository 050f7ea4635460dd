// The catalog store when KV fails mid-event: the isolate's last good copy of a record or list serves, however
// old; with no copy, the failure goes on (the API answers 503 with Retry-After); a fault of ours is not hidden.
import { afterEach, describe, expect, it, vi } from "vitest";
import { CatalogStore } from "../../../../workers/edge/catalog/store";

const event = { id: "final", title: "Final", limits: {}, updatedAt: "2026-12-05T00:00:00.000Z" };

/** A KV namespace over a map, whose reads can be made to fail the way workerd reports a KV service failure. */
function flakyKv() {
  const data = new Map<string, string>([[`event:${event.id}`, JSON.stringify(event)]]);
  let failure: Error | null = null;
  const reads = { count: 0 };
  const check = () => {
    reads.count++;
    if (failure) throw failure;
  };
  const kv = {
    async get(key: string) {
      check();
      const v = data.get(key);
      return v === undefined ? null : JSON.parse(v);
    },
    async list({ prefix }: { prefix: string }) {
      check();
      return { keys: [...data.keys()].filter((k) => k.startsWith(prefix)).map((name) => ({ name })), list_complete: true };
    },
    async put(key: string, value: string) {
      data.set(key, value);
    },
  } as unknown as KVNamespace;
  return { kv, reads, fail: (err: Error | null) => (failure = err) };
}

afterEach(() => vi.restoreAllMocks());

describe("CatalogStore when KV fails", () => {
  it("serves the last good copy of a record and of a list past their 5 s, and reads KV again once it is back", async () => {
    const kv = flakyKv();
    const store = new CatalogStore(kv.kv);
    let now = 1_000_000;
    vi.spyOn(Date, "now").mockImplementation(() => now);
    expect(await store.getEvent("final")).toMatchObject({ title: "Final" });
    expect((await store.listEvents()).map((e) => e.id)).toEqual(["final"]);
    kv.fail(new Error("KV GET failed: 503 Service Unavailable"));
    now += 60 * 60_000; // an hour of KV trouble
    expect(await store.getEvent("final")).toMatchObject({ title: "Final" });
    kv.fail(new Error("KV LIST failed: 503 Service Unavailable"));
    expect((await store.listEvents()).map((e) => e.id)).toEqual(["final"]);
    kv.fail(null);
    const before = kv.reads.count;
    await store.getEvent("final");
    expect(kv.reads.count).toBe(before + 1);
    console.log("drill (f) KV reads failing for an hour: the event and the event list served from the last good copy; KV read again at once when back");
  });

  it("has nothing to serve for a record it never read: the KV failure goes on", async () => {
    const kv = flakyKv();
    const store = new CatalogStore(kv.kv);
    kv.fail(new Error("KV GET failed: 503 Service Unavailable"));
    await expect(store.getEvent("final")).rejects.toThrow("503");
  });

  it("does not hide a failure that is not KV's passing trouble", async () => {
    const kv = flakyKv();
    const store = new CatalogStore(kv.kv);
    let now = 1_000_000;
    vi.spyOn(Date, "now").mockImplementation(() => now);
    await store.getEvent("final");
    now += 10_000;
    kv.fail(new TypeError("a bug of ours"));
    await expect(store.getEvent("final")).rejects.toThrow("a bug of ours");
  });
});
