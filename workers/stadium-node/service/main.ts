// `npm run stadium-node -- --platform <url> --id <id> --port <port> [--registration-key <key>] [--state-file <path>]
// [--capacity-mbps <n>] [--workers <n>] [--base-url <url>] [--host <ip>] [--cert <file> --key <file>]`: the one command a
// stadium runs (docs/stadium-nodes.md).
// Registers with the platform, serves viewers, heartbeats, deregisters on SIGINT/SIGTERM.
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startStadiumNode } from "./launcher";
import { ROOT } from "../../../scripts/lib/dev-vars";

const USAGE =
  "usage: npm run stadium-node -- --platform <url> --id <id> --port <port> [--registration-key <key>] [--state-file <path>] [--capacity-mbps <n>] [--workers <n>] [--base-url <url>] [--host <ip>] [--cert <file> --key <file>]";

const { values } = parseArgs({
  options: {
    platform: { type: "string" },
    id: { type: "string" },
    port: { type: "string" },
    "registration-key": { type: "string" },
    "state-file": { type: "string" },
    "capacity-mbps": { type: "string" },
    workers: { type: "string" },
    "base-url": { type: "string" },
    host: { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    verbose: { type: "boolean" },
  },
});
if (!values.platform || !values.id || !values.port) {
  console.error(USAGE);
  process.exit(2);
}
// The key comes once (flag or environment, from the operator's provisioning) and is kept in the state file, so
// a restart needs neither. Under systemd, STATE_DIRECTORY is the unit's StateDirectory (/var/lib/balancer-node).
const registrationKey = values["registration-key"] ?? process.env.BALANCER_REGISTRATION_KEY;
const stateFile = values["state-file"] ?? join(process.env.STATE_DIRECTORY ?? join(ROOT, ".wrangler/state"), `stadium-node-${values.id}.json`);
const capacity = values["capacity-mbps"] !== undefined ? Number(values["capacity-mbps"]) : undefined;
if (capacity !== undefined && !(capacity > 0)) {
  console.error("--capacity-mbps must be a positive number");
  process.exit(2);
}

// HTTPS: the certificate chain and its private key (PEM files), from the flags or the environment (the service's
// node.env). Both or neither.
const tlsCertFile = values.cert ?? (process.env.BALANCER_NODE_CERT || undefined);
const tlsKeyFile = values.key ?? (process.env.BALANCER_NODE_KEY || undefined);
if (Boolean(tlsCertFile) !== Boolean(tlsKeyFile)) {
  console.error("HTTPS needs both --cert and --key (or BALANCER_NODE_CERT and BALANCER_NODE_KEY)");
  process.exit(2);
}

// One workerd process per core by default, all on the one port (service/cluster.ts).
const workers = values.workers !== undefined ? Number(values.workers) : availableParallelism();
if (!Number.isInteger(workers) || workers < 1 || workers > 256) {
  console.error("--workers must be a whole number from 1 to 256");
  process.exit(2);
}

const node = await startStadiumNode({
  platformUrl: values.platform,
  id: values.id,
  port: Number(values.port),
  host: values.host,
  baseUrl: values["base-url"],
  tlsCertFile,
  tlsKeyFile,
  registrationKey,
  stateFile,
  capacityMbps: capacity,
  processes: workers,
  verbose: values.verbose,
  log: (line) => console.log(`[stadium-node ${values.id}] ${line}`),
}).catch((err: unknown) => {
  console.error(`[stadium-node ${values.id}] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
console.log(`[stadium-node ${node.id}] serving at ${node.url} (ping: ${node.url}/ping)`);

// Wrangler's module (imported for its config reader) and Miniflare exit the process on SIGINT/SIGTERM at once,
// before an async goodbye could run: this process's own handlers take their place.
process.removeAllListeners("SIGINT");
process.removeAllListeners("SIGTERM");

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log(`[stadium-node ${node.id}] deregistering`);
  await node.stop();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
