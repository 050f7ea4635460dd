// The coalescing cache every tier reads through (workers/shared/cache/pull-through-cache.ts), with its byte-bounded
// window (byte-lru.ts) and cross-request waiting (await-shared.ts): one upstream load per key however many
// readers, failures remembered briefly, memory bounded.
import { describe, expect, it } from "vitest";
import { PullThroughCache, type CacheRead, type UpstreamResult } from "../../../../workers/shared/cache/pull-through-cache";
import { ByteLru } from "../../../../workers/shared/cache/byte-lru";
import { awaitShared } from "../../../../workers/shared/cache/await-shared";
import { singleChunk } from "../../../../workers/shared/playback/response";

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);
const ok = (body: Uint8Array, ttlMs = 60_000): UpstreamResult => ({ ok: true, contentType: "video/mp2t", body: singleChunk(body), length: body.byteLength, ttlMs });

async function bodyOf(read: CacheRead): Promise<Uint8Array> {
  if (!read.ok) throw new Error(`failed: ${read.failure.code}`);
  return new Uint8Array(await new Response(read.stream()).arrayBuffer());
}

/** An upstream load the test releases when it wants. */
function gatedLoad(body: Uint8Array) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let calls = 0;
  return {
    load: async () => {
      calls++;
      await gate;
      return ok(body);
    },
    release: () => release(),
    calls: () => calls,
  };
}

describe("PullThroughCache", () => {
  it("runs one upstream load for a hundred concurrent readers of a key, and gives each the whole body", async () => {
    const cache = new PullThroughCache({ maxBytes: 1 << 20, maxObjectBytes: 1 << 20 });
    const upstream = gatedLoad(bytes(50_000, 7));
    const reads = Array.from({ length: 100 }, () => cache.read("seg", Date.now(), upstream.load));
    upstream.release();
    const bodies = await Promise.all(reads.map(async (r) => bodyOf(await r)));
    expect(upstream.calls()).toBe(1);
    expect(bodies.every((b) => b.byteLength === 50_000 && b[0] === 7 && b[49_999] === 7)).toBe(true);
    expect(cache.loads).toBe(1);
  });

  it("serves a stored body as a hit until it expires, then loads again", async () => {
    const cache = new PullThroughCache({ maxBytes: 1 << 20, maxObjectBytes: 1 << 20 });
    let calls = 0;
    const load = async () => (calls++, ok(bytes(10), 1_000));
    await bodyOf(await cache.read("pl", Date.now(), load));
    await new Promise((r) => setTimeout(r, 10));
    const now = Date.now();
    const again = await cache.read("pl", now, load);
    expect(again.ok && again.hit).toBe(true);
    expect(cache.peek("pl", now + 2_000)).toBeUndefined();
    await bodyOf(await cache.read("pl", now + 2_000, load));
    expect(calls).toBe(2);
  });

  it("remembers a failure for its ttl so a crowd on a broken key costs one upstream call, and forgets one with ttl 0", async () => {
    const cache = new PullThroughCache({ maxBytes: 1 << 20, maxObjectBytes: 1 << 20 });
    let calls = 0;
    const failing = async (): Promise<UpstreamResult> => (calls++, { ok: false, failure: { code: "origin_timeout" }, ttlMs: 60_000 });
    for (let i = 0; i < 5; i++) {
      const r = await cache.read("bad", Date.now(), failing);
      expect(r.ok ? "ok" : r.failure.code).toBe("origin_timeout");
    }
    expect(calls).toBe(1);
    let personal = 0;
    const refused = async (): Promise<UpstreamResult> => (personal++, { ok: false, failure: { code: "session_expired" }, ttlMs: 0 });
    await cache.read("mine", Date.now(), refused);
    await cache.read("mine", Date.now(), refused);
    expect(personal).toBe(2);
  });

  it("turns a load that throws into origin_error for its readers instead of a rejected request", async () => {
    const cache = new PullThroughCache({ maxBytes: 1 << 20, maxObjectBytes: 1 << 20 });
    const r = await cache.read("boom", Date.now(), async () => {
      throw new Error("socket closed");
    });
    expect(r.ok ? "ok" : r.failure.code).toBe("origin_error");
  });

  it("fails a body larger than the object limit for every reader rather than hold it in memory", async () => {
    const cache = new PullThroughCache({ maxBytes: 1 << 20, maxObjectBytes: 1_000 });
    const r = await cache.read("huge", Date.now(), async () => ok(bytes(5_000)));
    await expect(bodyOf(r)).rejects.toThrow();
    expect(cache.storedBytes).toBe(0);
  });

  it("keeps no more bytes than its window, dropping the least recently used body first", async () => {
    const cache = new PullThroughCache({ maxBytes: 25_000, maxObjectBytes: 1 << 20 });
    for (const key of ["a", "b", "c"]) await bodyOf(await cache.read(key, Date.now(), async () => ok(bytes(10_000))));
    await new Promise((r) => setTimeout(r, 10));
    expect(cache.storedBytes).toBeLessThanOrEqual(25_000);
    expect(cache.peek("a", Date.now())).toBeUndefined();
    expect(cache.peek("c", Date.now())).toBeDefined();
  });
});

describe("ByteLru", () => {
  it("evicts by bytes in least-recently-used order, a read counting as a use", () => {
    const lru = new ByteLru<{ size: number }>(30);
    const far = Number.MAX_SAFE_INTEGER;
    lru.set("a", { size: 10 }, far);
    lru.set("b", { size: 10 }, far);
    lru.set("c", { size: 10 }, far);
    lru.get("a", 0);
    lru.set("d", { size: 10 }, far);
    expect(lru.get("b", 0)).toBeUndefined();
    expect(lru.get("a", 0)).toBeDefined();
    expect(lru.totalBytes).toBe(30);
  });

  it("never returns an expired entry and never stores one larger than the whole window", () => {
    const lru = new ByteLru<{ size: number }>(30);
    lru.set("old", { size: 5 }, 100);
    expect(lru.get("old", 100)).toBeUndefined();
    lru.set("big", { size: 31 }, 1_000);
    expect(lru.get("big", 0)).toBeUndefined();
    expect(lru.totalBytes).toBe(0);
  });
});

describe("awaitShared", () => {
  it("resolves and rejects like the shared promise it waits on", async () => {
    let resolve!: (v: number) => void;
    const shared = new Promise<number>((r) => (resolve = r));
    const waiting = awaitShared(shared);
    resolve(42);
    expect(await waiting).toBe(42);
    await expect(awaitShared(Promise.reject(new Error("upstream failed")))).rejects.toThrow("upstream failed");
  });
});
