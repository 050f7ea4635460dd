// Runs the platform's workers on workerd through Miniflare's API (no wrangler dev proxy in front), for
// `npm start`, the platform tests and the benchmarks.
import { Log, LogLevel, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { join } from "node:path";
import { buildWorker, WORKERS, type WorkerBuild } from "./build";
import { ensureDevVars, ROOT } from "./dev-vars";

export interface RunningWorker {
  url: string;
  mf: Miniflare;
  stop(): Promise<void>;
}

export interface RunOptions {
  port: number;
  host?: string;
  /** Folder for KV, Durable Object and cache state; false keeps everything in memory. */
  persistTo?: string | false;
  /** Extra bindings (vars and secrets) on top of the wrangler config. */
  bindings?: Record<string, string>;
  verbose?: boolean;
  /**
   * Serve on a socket straight into the worker's fetch handler, as workerd does on its own, instead of
   * through Miniflare's entry worker and, for a worker with [assets], its script emulation of Cloudflare's
   * static-assets router. Each of those hops cost the edge more than half its cache-hit throughput here
   * (`npm run bench`, README). Such a worker serves no static pages: the edge's code never reads its
   * assets, which Cloudflare's own router serves in production. Stadium nodes and the bench run this way.
   */
  direct?: boolean;
}

/** Starts one bundled worker with the bindings its wrangler config declares. */
export async function runWorker(build: WorkerBuild, options: RunOptions): Promise<RunningWorker> {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(build.configPath);
  if (options.direct) delete (workerOptions as { assets?: unknown }).assets;
  const host = options.host ?? "127.0.0.1";
  const persist = options.persistTo ? join(options.persistTo, build.name) : false;
  const mf = new Miniflare({
    ...(workerOptions as object),
    name: build.name,
    modules: true,
    scriptPath: build.scriptPath,
    modulesRules: undefined,
    bindings: { ...(workerOptions.bindings ?? {}), ...(options.bindings ?? {}) },
    host,
    // Direct: Miniflare's own entry socket still opens (it drives the worker), on a port nobody is told.
    port: options.direct ? 0 : options.port,
    ...(options.direct ? { unsafeDirectSockets: [{ host, port: options.port }] } : {}),
    kvPersist: persist ? join(persist, "kv") : false,
    durableObjectsPersist: persist ? join(persist, "do") : false,
    cachePersist: persist ? join(persist, "cache") : false,
    cf: false, // no network here: do not try to fetch the Request.cf placeholder
    log: new Log(options.verbose ? LogLevel.INFO : LogLevel.WARN),
  } as ConstructorParameters<typeof Miniflare>[0]);
  const entry = await mf.ready;
  const url = (options.direct ? await mf.unsafeGetDirectURL() : entry).toString().replace(/\/$/, "");
  return { url, mf, stop: () => mf.dispose() };
}

export interface Platform {
  edgeUrl: string;
  originUrl: string;
  adminToken: string;
  /** The edge's current process (a restart replaces it). */
  edge: RunningWorker;
  origin: RunningWorker;
  /**
   * Stops the edge's workerd process and starts a new one on the same port with the same storage, so its
   * Durable Objects lose everything in memory and keep what they stored (with `persistTo`; without it,
   * everything is lost). Resolves once the new process serves.
   */
  restartEdge(): Promise<void>;
  stop(): Promise<void>;
}

export interface PlatformOptions {
  edgePort?: number;
  originPort?: number;
  persistTo?: string | false;
  originBindings?: Record<string, string>;
  edgeBindings?: Record<string, string>;
  verbose?: boolean;
  /** Serve the edge straight from workerd, without the local entry and assets emulation (see RunOptions.direct); no pages then. */
  edgeDirect?: boolean;
}

/** Builds and starts the demo origin and the edge; returns their URLs. Port 0 picks a free port. */
export async function startPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const vars = ensureDevVars();
  // The platform tests bundle once per run (test/support/build-once.ts) and set BALANCER_PREBUILT.
  const prebuilt = process.env.BALANCER_PREBUILT === "1";
  const [edgeBuild, originBuild] = [buildWorker("edge", prebuilt), buildWorker("demo-origin", prebuilt)];
  const origin = await runWorker(originBuild, {
    port: options.originPort ?? 0,
    persistTo: false,
    bindings: options.originBindings,
    verbose: options.verbose,
  });
  const edgeOptions: RunOptions = {
    port: options.edgePort ?? 0,
    persistTo: options.persistTo ?? false,
    bindings: { ...vars, ...(options.edgeBindings ?? {}) },
    verbose: options.verbose,
    direct: options.edgeDirect,
  };
  const edge = await runWorker(edgeBuild, edgeOptions);
  const platform: Platform = {
    edgeUrl: edge.url,
    originUrl: origin.url,
    adminToken: vars.ADMIN_TOKEN!,
    edge,
    origin,
    async restartEdge() {
      await platform.edge.stop();
      platform.edge = await runWorker(edgeBuild, { ...edgeOptions, port: Number(new URL(platform.edgeUrl).port) });
    },
    async stop() {
      await Promise.allSettled([platform.edge.stop(), origin.stop()]);
    },
  };
  return platform;
}

export { ROOT, WORKERS };
