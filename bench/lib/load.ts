// Closed-loop HTTP load for the throughput rows: wrk when installed, else a small Node keep-alive client.
import { spawn, spawnSync } from "node:child_process";
import { Agent, request } from "node:http";
import { join } from "node:path";
import { onCleanup } from "./cleanup";

export interface LoadResult {
  requests: number;
  bytes: number;
  seconds: number;
  /** Non-2xx/3xx responses plus socket errors and timeouts: must be zero for a figure to count. */
  failures: number;
  /** What the failures were, e.g. "3 timeouts, 1 read" (empty when none). */
  failureKinds: string;
  reqPerSec: number;
  mbPerSec: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  seconds: number;
}

/** The wrk binary on PATH, or null. */
export function findWrk(): string | null {
  const r = spawnSync("sh", ["-c", "command -v wrk"], { encoding: "utf8" });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null;
}

const LUA = join(import.meta.dirname, "..", "wrk-report.lua");

/** Runs wrk with two threads against one URL; the Lua hook reports totals as JSON. */
export async function runWrk(wrk: string, o: LoadOptions): Promise<LoadResult> {
  const args = ["-t2", `-c${o.connections}`, `-d${o.seconds}s`, "--timeout", "5s", "-s", LUA, o.url];
  const child = spawn(wrk, args, { stdio: ["ignore", "pipe", "pipe"] });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  const stop = onCleanup(`wrk ${child.pid}`, kill, kill);
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  await stop();
  const line = out.split("\n").find((l) => l.startsWith("BENCH_JSON "));
  if (code !== 0 || !line) throw new Error(`wrk failed (exit ${code}): ${err || out}`);
  const j = JSON.parse(line.slice("BENCH_JSON ".length)) as Record<string, number>;
  const seconds = j.durationUs! / 1e6;
  const kinds = (["non2xx", "connectErrors", "readErrors", "writeErrors", "timeouts"] as const).filter((k) => j[k]! > 0).map((k) => `${j[k]} ${k}`);
  return summarise(j.requests!, j.bytes!, seconds, j.non2xx! + j.connectErrors! + j.readErrors! + j.writeErrors! + j.timeouts!, kinds.join(", "));
}

/** Fallback when wrk is missing: `connections` keep-alive loops in this Node process (a weaker generator). */
export async function runNodeLoad(o: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections });
  const end = Date.now() + o.seconds * 1000;
  const started = performance.now();
  let requests = 0;
  let bytes = 0;
  let failures = 0;
  let firstFailure = "";
  const one = () =>
    new Promise<void>((resolve) => {
      const req = request(o.url, { agent, timeout: 5_000 }, (res) => {
        if ((res.statusCode ?? 0) >= 400) {
          failures++;
          firstFailure ||= `status ${res.statusCode}`;
        }
        res.on("data", (d: Buffer) => (bytes += d.byteLength));
        res.on("end", () => {
          requests++;
          resolve();
        });
        res.on("error", () => {
          failures++;
          resolve();
        });
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", (err) => {
        failures++;
        firstFailure ||= String(err);
        resolve();
      });
      req.end();
    });
  await Promise.all(
    Array.from({ length: o.connections }, async () => {
      while (Date.now() < end) await one();
    }),
  );
  agent.destroy();
  return summarise(requests, bytes, (performance.now() - started) / 1000, failures, firstFailure && `first: ${firstFailure}`);
}

function summarise(requests: number, bytes: number, seconds: number, failures: number, failureKinds: string): LoadResult {
  return { requests, bytes, seconds, failures, failureKinds, reqPerSec: requests / seconds, mbPerSec: bytes / seconds / 1e6 };
}
