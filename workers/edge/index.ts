// Edge worker entry: the fetch handler (playback path, then the Hono app), plus the Durable Object classes this worker hosts.
import { createApp, createFetch } from "./app";

/** The Hono app behind the fetch handler; its `routes` list every API path (test/workers/edge/accounts/openapi.test.ts). */
export const app = createApp();

export default { fetch: createFetch(app) } satisfies ExportedHandler<Env>;
export { OriginShield } from "../../durable-objects/origin-shield/origin-shield";
export { AttemptLimiter } from "../../durable-objects/attempt-limiter/attempt-limiter";
export { LoginRegistry } from "../../durable-objects/login-registry/login-registry";
export { PurchaseLedger } from "../../durable-objects/purchase-ledger/purchase-ledger";
export { EventGate } from "../../durable-objects/event-gate/event-gate";
export { EventGateShard } from "../../durable-objects/event-gate-shard/event-gate-shard";
export { AdmissionCoordinator } from "../../durable-objects/admission-coordinator/admission-coordinator";
export { PullZone } from "../../durable-objects/pull-zone/pull-zone";
export { PullZoneDirectory } from "../../durable-objects/pull-zone-directory/pull-zone-directory";
export { GoodsCode } from "../../durable-objects/goods-code/goods-code";
