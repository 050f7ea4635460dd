// A description of the machine the figures came from, printed above the table.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";

function workerdVersion(root: string): string {
  try {
    const out = execFileSync(join(root, "node_modules/.bin/workerd"), ["--version"], { encoding: "utf8", timeout: 10_000 });
    return out.trim().replace(/^workerd\s+/, "");
  } catch {
    return "unknown";
  }
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (m) return m[1]!.trim();
  } catch {
    // not Linux: fall back to what Node reports
  }
  return cpus()[0]?.model ?? "unknown";
}

function nginxVersion(bin: string | null): string {
  if (!bin) return "not installed";
  // nginx -v prints to stderr.
  const r = spawnSync(bin, ["-v"], { encoding: "utf8", timeout: 5_000 });
  return (r.stderr || r.stdout || "unknown").trim().replace(/^nginx version:\s*/, "");
}

/** The 1-minute load average, rounded: other work on the machine skews every figure. */
export function loadAverage(): string {
  return loadavg()[0]!.toFixed(1);
}

/** Markdown lines: nproc, CPU, memory, Node, workerd, load generator, nginx, load before and after. */
export function describeMachine(root: string, loadGenerator: string, nginxBin: string | null, loadBefore: string): string[] {
  return [
    `- CPUs (nproc): ${availableParallelism()}, ${cpuModel()}`,
    `- memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- node ${process.version}, workerd ${workerdVersion(root)}`,
    `- load generator: ${loadGenerator}`,
    `- nginx: ${nginxVersion(nginxBin)}`,
    `- 1-minute load average: ${loadBefore} before the run, ${loadAverage()} after (other work on the machine skews the figures)`,
  ];
}
