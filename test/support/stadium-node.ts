// Test helpers for stadium nodes: start one in this process (as `npm run stadium-node` does), register, heartbeat.
import { startStadiumNode, type RunningStadiumNode } from "../../workers/stadium-node/service/launcher";
import { provisionNode, type NodeProvisioning } from "../../scripts/lib/pull-zones";
import type { Platform } from "./platform";

export type { RunningStadiumNode };

export interface NodeOptions extends Partial<NodeProvisioning> {
  port?: number;
  name?: string;
  processes?: number;
  /** PEM files: the node serves HTTPS only (test/support/tls.ts makes them). */
  tls?: { certFile: string; keyFile: string };
  baseUrl?: string;
}

/** Provisions a node through the operator API (for event `demo` unless told) and starts it on a free port. */
export async function startNode(p: Platform, id: string, options: NodeOptions = {}): Promise<RunningStadiumNode> {
  const registrationKey = await provisionNode(p.edgeUrl, p.adminToken, id, { name: options.name, eventIds: options.eventIds ?? ["demo"], capacityMbps: options.capacityMbps });
  return startStadiumNode({
    platformUrl: p.edgeUrl,
    id,
    port: options.port ?? 0,
    registrationKey,
    prebuilt: true,
    processes: options.processes,
    baseUrl: options.baseUrl,
    tlsCertFile: options.tls?.certFile,
    tlsKeyFile: options.tls?.keyFile,
  });
}

/** Provisions a node and returns its registration key. */
export function provision(p: Platform, id: string, provisioning: NodeProvisioning = { eventIds: ["demo"] }): Promise<string> {
  return provisionNode(p.edgeUrl, p.adminToken, id, provisioning);
}

/** The healthy nodes of an event as a viewer's app lists them. */
export async function listCaches(p: Platform, eventId = "demo"): Promise<{ id: string; name: string; pingUrl: string; baseUrl: string; healthy: boolean; full: boolean }[]> {
  const res = await fetch(`${p.edgeUrl}/api/v1/events/${eventId}/caches`);
  if (res.status !== 200) throw new Error(`caches: ${res.status} ${await res.text()}`);
  return (await res.json()) as never;
}

/** Reports the node a session reached (PUT /sessions/{id} with the playback token). */
export async function chooseCache(p: Platform, sessionId: string, token: string, cacheId: string | null, steering?: boolean): Promise<Response> {
  return fetch(`${p.edgeUrl}/api/v1/sessions/${sessionId}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ cacheId, ...(steering !== undefined ? { steering } : {}) }),
  });
}

/** POST /pull-zones with a registration key (none: no Authorization header). */
export async function register(p: Platform, body: unknown, key: string | null): Promise<Response> {
  return fetch(`${p.edgeUrl}/api/v1/pull-zones`, {
    method: "POST",
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

export async function heartbeat(p: Platform, id: string, key: string, body: unknown = { activeViewers: 0, egressBytes: 0 }): Promise<Response> {
  return fetch(`${p.edgeUrl}/api/v1/pull-zones/${id}/heartbeat`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}
