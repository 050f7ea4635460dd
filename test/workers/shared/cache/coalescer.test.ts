// Coalescer: one run of the work per key at a time, shared by everyone who asks meanwhile.
import { describe, expect, it } from "vitest";
import { Coalescer } from "../../../../workers/shared/cache/coalescer";

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("Coalescer", () => {
  it("runs the work once for callers who ask for the same key while it runs, and gives them all its result", async () => {
    const c = new Coalescer<string>();
    const work = deferred<string>();
    let runs = 0;
    const task = () => {
      runs++;
      return work.promise;
    };
    const a = c.run("k", task);
    const b = c.run("k", task);
    expect(c.running("k")).toBe(a);
    work.resolve("done");
    expect(await Promise.all([a, b])).toEqual(["done", "done"]);
    expect(runs).toBe(1);
  });

  it("runs the work separately for different keys", async () => {
    const c = new Coalescer<string>();
    const results = await Promise.all([c.run("a", async () => "A"), c.run("b", async () => "B")]);
    expect(results).toEqual(["A", "B"]);
  });

  it("starts the work again for a caller who asks after it settled", async () => {
    const c = new Coalescer<number>();
    let runs = 0;
    const task = async () => ++runs;
    expect(await c.run("k", task)).toBe(1);
    expect(c.running("k")).toBeUndefined();
    expect(await c.run("k", task)).toBe(2);
  });

  it("shares a failure with every caller of that run, and the next caller tries again", async () => {
    const c = new Coalescer<string>();
    const work = deferred<string>();
    const a = c.run("k", () => work.promise);
    const b = c.run("k", () => Promise.resolve("not run"));
    work.reject(new Error("origin down"));
    await expect(a).rejects.toThrow("origin down");
    await expect(b).rejects.toThrow("origin down");
    expect(await c.run("k", async () => "recovered")).toBe("recovered");
  });
});
