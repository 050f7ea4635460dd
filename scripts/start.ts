// `npm start`: the whole platform on this machine with demo data: demo origin, edge, and one demo stadium node.
import { join } from "node:path";
import { ROOT, startPlatform } from "./lib/platform";
import { seedDemo } from "./lib/seed";
import { provisionNode } from "./lib/pull-zones";
import { startStadiumNode } from "../workers/stadium-node/service/launcher";

const edgePort = Number(process.env.EDGE_PORT ?? 8787);
const originPort = Number(process.env.ORIGIN_PORT ?? 8788);
const nodePort = Number(process.env.NODE_PORT ?? 8789);

const platform = await startPlatform({
  edgePort,
  originPort,
  persistTo: join(ROOT, ".wrangler/state/balancer"),
  verbose: true,
});
await seedDemo({ edgeUrl: platform.edgeUrl, originUrl: platform.originUrl, adminToken: platform.adminToken });
// One demo stadium node: provisioned through the operator API, then registered with its own key the way
// `npm run stadium-node` registers one (docs/stadium-nodes.md).
const registrationKey = await provisionNode(platform.edgeUrl, platform.adminToken, "demo-stand", { name: "Demo stand", eventIds: ["demo"], capacityMbps: 1000 });
const node = await startStadiumNode({ platformUrl: platform.edgeUrl, id: "demo-stand", port: nodePort, registrationKey });

console.log(`
Balancer is running.
  viewer       ${platform.edgeUrl}/            (log in as fdpd6 / 123456)
  operator     ${platform.edgeUrl}/operator    (operator token below)
  kiosk        ${platform.edgeUrl}/kiosk       (goods codes: the operator token, or a kiosk token, docs/web.md)
  edge         ${platform.edgeUrl}            (API under /api/v1, playback under /play)
  demo origin  ${platform.originUrl}            (origin request counts at /_stats)
  stadium node ${node.url}            (stadium node "demo-stand": ${node.url}/ping)
  operator token: ${platform.adminToken}   (from .dev.vars)

Try:  curl -s -X POST ${platform.edgeUrl}/api/v1/events/demo/channels/main/access
Stop with Ctrl-C.
`);

const stop = async () => {
  await node.stop();
  await platform.stop();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
