// The runtime's ceiling: bench/bare-worker.js on workerd, on a socket straight into the worker, the way the
// bench runs the edge and the stadium node.
import { Log, LogLevel, Miniflare } from "miniflare";
import { join } from "node:path";
import { onCleanup } from "./cleanup";
import { startNodeProcesses } from "../../workers/stadium-node/service/cluster";

export interface RunningBare {
  url: string;
  stop(): Promise<void>;
}

/** Starts the bare worker on a free port of 127.0.0.1. */
export async function startBareWorker(): Promise<RunningBare> {
  const mf = new Miniflare({
    name: "bench-bare",
    modules: true,
    scriptPath: join(import.meta.dirname, "..", "bare-worker.js"),
    compatibilityDate: "2026-04-20", // the edge's date (wrangler.toml)
    host: "127.0.0.1",
    port: 0,
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    cf: false,
    log: new Log(LogLevel.WARN),
  });
  const stop = onCleanup("bare worker", () => mf.dispose());
  try {
    await mf.ready;
    const url = (await mf.unsafeGetDirectURL()).toString().replace(/\/$/, "");
    return { url, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * The bare worker the way a stadium node of `processes` processes serves HTTPS: workerd's own TLS on one shared
 * socket (workers/stadium-node/service/cluster.ts). The runtime's HTTPS ceiling beside the node's (row g).
 */
export async function startBareWorkerTls(tls: { certFile: string; keyFile: string }, processes: number): Promise<RunningBare> {
  const dir = join(import.meta.dirname, "..");
  const running = await startNodeProcesses({
    build: { name: "bench-bare", configPath: join(dir, "bare-worker.toml"), scriptPath: join(dir, "bare-worker.js") },
    processes,
    host: "127.0.0.1",
    port: 0,
    bindings: {},
    tls,
  });
  const stop = onCleanup("bare worker over HTTPS", () => running.stop());
  return { url: running.url, stop };
}
