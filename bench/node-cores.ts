// Where a stadium node's CPU goes on this machine: wrk against a one-process node and a node of one process
// per core (200 KB cache hits, 50 connections, 8 s, alternating, twice each), with the cores each workerd
// process and wrk used, read from /proc. It shows the floor under row (a)'s "processes ÷ one" ratio when the
// load generator shares the cores. Not part of `npm test`. Run: npx tsx bench/node-cores.ts
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { openChannel, startSeededPlatform } from "../test/support/platform";
import { startNode } from "../test/support/stadium-node";

const SECONDS = 8;
const cores = availableParallelism();
const p = await startSeededPlatform();
const many = await startNode(p, "cores-many", { processes: cores });
const one = await startNode(p, "cores-one");
try {
  const v = await openChannel(p, "main");
  const lines = (t: string) => t.split("\n").filter((l) => l && !l.startsWith("#"));
  const variant = lines(await (await fetch(`${many.url}/play/${v.token}/index.m3u8`)).text())[0]!;
  const segment = variant.replace(/[^/]*$/, "") + lines(await (await fetch(`${many.url}/play/${v.token}/${variant}`)).text()).at(-3)!;
  // Warm every process's own copy.
  for (const u of [...many.processUrls, one.url]) for (let i = 0; i < 3; i++) await (await fetch(`${u}/play/${v.token}/${segment}`)).arrayBuffer();

  /** CPU seconds a process has used (user + system), from /proc. */
  const cpu = (pid: number | string) => {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      return (Number(f[11]) + Number(f[12])) / 100;
    } catch {
      return 0;
    }
  };
  const workerds = () => execFileSync("pgrep", ["-f", "workerd"]).toString().trim().split("\n");
  for (const [label, url] of [["1 process", one.url], [`${cores} processes`, many.url], ["1 process", one.url], [`${cores} processes`, many.url]] as const) {
    const pids = workerds();
    const before = new Map(pids.map((pid) => [pid, cpu(pid)]));
    const wrk = spawn("wrk", ["-t2", "-c50", `-d${SECONDS}s`, `${url}/play/${v.token}/${segment}`]);
    let out = "";
    wrk.stdout.on("data", (d) => (out += d));
    let wrkCpu = 0;
    const sample = setInterval(() => (wrkCpu = cpu(wrk.pid!)), 250);
    await new Promise((r) => wrk.on("exit", r));
    clearInterval(sample);
    const used = pids.map((pid) => (cpu(pid) - before.get(pid)!) / SECONDS).filter((c) => c > 0.05);
    const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)?.[1];
    console.log(`${label}: ${rps} req/s; cores used by workerd ${used.map((c) => c.toFixed(2)).join(" + ")}, by wrk ${(wrkCpu / SECONDS).toFixed(2)} (of ${cores})`);
  }
} finally {
  await many.stop();
  await one.stop();
  await p.stop();
}
