// `npm run stadium-node -- --platform <url> --id <id> --port <port> [--name ..] [--event demo] [--base-url ..] [--host ..]`:
// the one command a stadium runs. Registers with the platform, serves viewers, heartbeats, deregisters on Ctrl-C.
import { parseArgs } from "node:util";
import { startStadiumNode } from "./launcher";
import { ensureDevVars } from "../../../scripts/lib/dev-vars";

const { values } = parseArgs({
  options: {
    platform: { type: "string" },
    id: { type: "string" },
    port: { type: "string" },
    name: { type: "string" },
    event: { type: "string", multiple: true },
    "base-url": { type: "string" },
    host: { type: "string" },
    verbose: { type: "boolean" },
  },
});
if (!values.platform || !values.id || !values.port) {
  console.error("usage: npm run stadium-node -- --platform <url> --id <id> --port <port> [--name <name>] [--event <eventId>]... [--base-url <url>] [--host <ip>]");
  process.exit(2);
}
// The secret comes from the environment; on a developer's laptop .dev.vars has the local one.
const secret = process.env.PULL_ZONE_SECRET ?? ensureDevVars().PULL_ZONE_SECRET;
if (!secret) {
  console.error("PULL_ZONE_SECRET is not set");
  process.exit(2);
}

const node = await startStadiumNode({
  platformUrl: values.platform,
  id: values.id,
  port: Number(values.port),
  name: values.name,
  host: values.host,
  eventIds: values.event?.flatMap((e) => e.split(",")).filter(Boolean),
  baseUrl: values["base-url"],
  secret,
  verbose: values.verbose,
  log: (line) => console.log(`[stadium-node ${values.id}] ${line}`),
});
console.log(`[stadium-node ${node.id}] serving at ${node.url} (ping: ${node.url}/ping)`);

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
