// A stadium node on every core: N workerd processes serving one listening socket, which this process opens
// and hands to each of them (`workerd serve --socket-fd`); the kernel spreads viewers' connections over
// them. Each process also listens on a private loopback port of its own, where the others ask it for the
// keys it owns (workers/stadium-node/peers.ts), so the platform sees one fetch per segment per node.
//
// workerd runs straight from a config this file writes, not through Miniflare: Miniflare cannot take an
// inherited socket. The node worker needs nothing Miniflare adds (no KV, no Durable Objects, no assets).
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import type { WorkerBuild } from "../../../scripts/lib/build";

export interface NodeProcessesOptions {
  build: WorkerBuild;
  processes: number;
  host: string;
  /** The shared port viewers reach (0: any free port). */
  port: number;
  /** Bindings on top of the node's wrangler.toml vars (NODE_ID, STATS_KEY, PLATFORM_URL, EVENT_IDS, PLAYBACK_VERIFY_KEYS). */
  bindings: Record<string, string>;
  /** PEM files: the shared socket then speaks HTTPS, with workerd's own TLS. */
  tls?: { certFile: string; keyFile: string };
  log?: (line: string) => void;
}

export interface RunningProcesses {
  /** The shared address viewers reach. */
  url: string;
  /** Each process's private loopback address, by index (the launcher reads counters from each). */
  peerUrls: string[];
  /** Each process's pid, by index. */
  pids: number[];
  stop(): Promise<void>;
}

/** Starts the processes; resolves once each answers /ping on its private port. */
export async function startNodeProcesses(o: NodeProcessesOptions): Promise<RunningProcesses> {
  const log = o.log ?? (() => {});
  const { workerOptions } = unstable_getMiniflareWorkerOptions(o.build.configPath);
  const vars = Object.fromEntries(Object.entries(workerOptions.bindings ?? {}).map(([k, v]) => [k, String(v)]));
  const listener = await listen(o.host, o.port);
  const port = (listener.address() as { port: number }).port;
  const fd = (listener as unknown as { _handle: { fd: number } })._handle.fd;
  const peerPorts = await Promise.all(Array.from({ length: o.processes }, () => freeLoopbackPort()));
  const peerUrls = peerPorts.map((p) => `http://127.0.0.1:${p}`);
  const dir = mkdtempSync(join(tmpdir(), "balancer-node-"));
  copyFileSync(o.build.scriptPath, join(dir, "index.js"));
  if (o.tls) {
    copyFileSync(o.tls.certFile, join(dir, "cert.pem"));
    copyFileSync(o.tls.keyFile, join(dir, "key.pem"));
  }

  const children: ChildProcess[] = [];
  let stopping = false;
  for (let i = 0; i < o.processes; i++) {
    const bindings = { ...vars, ...o.bindings, PEER_INDEX: String(i), PEER_URLS: JSON.stringify(peerUrls) };
    const config = join(dir, `process-${i}.capnp`);
    writeFileSync(
      config,
      workerdConfig({
        bindings,
        peerPort: peerPorts[i]!,
        compatibilityDate: workerOptions.compatibilityDate ?? "2026-04-20",
        compatibilityFlags: workerOptions.compatibilityFlags ?? [],
        tls: o.tls !== undefined,
      }),
    );
    // fd 3 of the child is the shared listening socket.
    const child = spawn(workerdBinary(), ["serve", config, "--socket-fd", "http=3"], { stdio: ["ignore", "inherit", "inherit", fd] });
    child.on("exit", (code, signal) => {
      // The others keep serving the shared port, and ask the platform directly for this one's keys.
      if (!stopping) log(`process ${i} exited (${signal ?? code}); the node goes on with the others: restart the service to replace it`);
    });
    children.push(child);
  }
  // Whatever ends this process (a crash, process.exit) ends its workerd processes too; under systemd the
  // unit's control group does the same for a SIGKILL.
  const killChildren = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  };
  process.once("exit", killChildren);
  // The children hold the socket now; this process must not accept connections on it.
  await new Promise<void>((resolve) => listener.close(() => resolve()));

  const deadline = Date.now() + 30_000;
  for (const url of peerUrls) {
    while (!(await fetch(`${url}/ping`).then((r) => r.ok, () => false))) {
      if (Date.now() > deadline) {
        stopping = true;
        for (const c of children) c.kill("SIGKILL");
        throw new Error(`node process at ${url} did not start`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  log(`${o.processes} workerd processes on ${o.host}:${port}`);

  return {
    url: `${o.tls ? "https" : "http"}://${o.host}:${port}`,
    peerUrls,
    pids: children.map((c) => c.pid ?? 0),
    async stop() {
      stopping = true;
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve();
              const timer = setTimeout(() => c.kill("SIGKILL"), 5_000);
              c.once("exit", () => {
                clearTimeout(timer);
                resolve();
              });
              c.kill("SIGTERM");
            }),
        ),
      );
      process.removeListener("exit", killChildren);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface ConfigInput {
  bindings: Record<string, string>;
  peerPort: number;
  compatibilityDate: string;
  compatibilityFlags: string[];
  tls: boolean;
}

/** One process's workerd config (Cap'n Proto text): the node worker, the shared socket, its private port. */
export function workerdConfig(c: ConfigInput): string {
  const text = (s: string) => JSON.stringify(s); // the bindings are ASCII: JSON's escapes are Cap'n Proto's
  const bindings = Object.entries(c.bindings)
    .map(([name, value]) => `    (name = ${text(name)}, text = ${text(value)}),`)
    .join("\n");
  const shared = c.tls
    ? `https = (options = (), tlsOptions = (keypair = (privateKey = embed "key.pem", certificateChain = embed "cert.pem")))`
    : `http = ()`;
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "node", worker = .nodeWorker),
    # The platform may be on this machine, the venue's network or the internet.
    (name = "internet", network = (allow = ["public", "private", "local"], tlsOptions = (trustBrowserCas = true))),
  ],
  sockets = [
    # Address given by --socket-fd: the launcher's shared listening socket.
    (name = "http", address = "127.0.0.1:0", service = "node", ${shared}),
    # This process's own port, loopback only: the launcher and the other processes.
    (name = "peer", address = "127.0.0.1:${c.peerPort}", service = "node", http = ()),
  ],
);
const nodeWorker :Workerd.Worker = (
  modules = [ (name = "index.js", esModule = embed "index.js") ],
  compatibilityDate = ${text(c.compatibilityDate)},
  compatibilityFlags = [${c.compatibilityFlags.map(text).join(", ")}],
  bindings = [
${bindings}
  ],
);
`;
}

function workerdBinary(): string {
  // The `workerd` package's main module exports the path of the platform's binary.
  const require = createRequire(import.meta.url);
  return (require("workerd") as { default?: string }).default ?? (require("workerd") as unknown as string);
}

function listen(host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ host, port, backlog: 4096 }, () => resolve(server));
  });
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}
