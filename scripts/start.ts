// `npm start`: the whole platform on this machine with demo data: demo origin, edge, and (later) a stadium node.
import { join } from "node:path";
import { ROOT, startPlatform } from "./lib/platform";
import { seedDemo } from "./lib/seed";

const edgePort = Number(process.env.EDGE_PORT ?? 8787);
const originPort = Number(process.env.ORIGIN_PORT ?? 8788);

const platform = await startPlatform({
  edgePort,
  originPort,
  persistTo: join(ROOT, ".wrangler/state/balancer"),
  verbose: true,
});
await seedDemo({ edgeUrl: platform.edgeUrl, originUrl: platform.originUrl, adminToken: platform.adminToken });

console.log(`
Balancer is running.
  edge         ${platform.edgeUrl}            (API under /api/v1, playback under /play)
  demo origin  ${platform.originUrl}            (origin request counts at /_stats)
  operator token: ${platform.adminToken}   (from .dev.vars)

Try:  curl -s -X POST ${platform.edgeUrl}/api/v1/events/demo/channels/main/access
Stop with Ctrl-C.
`);

const stop = async () => {
  await platform.stop();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
