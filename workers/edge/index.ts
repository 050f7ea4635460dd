// Edge worker entry: the Hono app, plus the Durable Object classes this worker hosts.
import { createApp } from "./app";

export default createApp();
export { OriginShield } from "../../durable-objects/origin-shield";
export { AttemptLimiter } from "../../durable-objects/attempt-limiter";
export { LoginRegistry } from "../../durable-objects/login-registry";
export { PurchaseLedger } from "../../durable-objects/purchase-ledger";
export { EventGate } from "../../durable-objects/event-gate";
export { PullZone } from "../../durable-objects/pull-zone";
export { PullZoneDirectory } from "../../durable-objects/pull-zone-directory";
