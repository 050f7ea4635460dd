// Caller-side helper for the pull-zone node objects: the only place that builds their ids and stubs.

/** The provisioning and registration of one stadium node (one object per node id). */
export function pullZone(env: Env, nodeId: string) {
  return env.PULL_ZONE.get(env.PULL_ZONE.idFromName(nodeId));
}

// The types callers name, so that no caller imports the object's own modules.
export type { DeregisterResult, HeartbeatInput, HeartbeatResult, NodeStatus, Provisioning, ProvisionInput, RegisterInput, RegisterResult } from "./pull-zone";
