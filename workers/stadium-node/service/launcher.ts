// The stadium node's service process: registers the node with the platform, runs the node worker on workerd (a
// socket straight into the worker, through Miniflare's API), heartbeats what it served, and deregisters on stop.
// Used by `npm run stadium-node` (main.ts), `npm start` and the tests.
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { buildWorker } from "../../../scripts/lib/build";
import { readNodeState, writeNodeState } from "./state-file";
import type { NodeStats } from "../counters";
import { runWorker, type RunningWorker } from "../../../scripts/lib/platform";

export interface StadiumNodeOptions {
  /** The platform's edge URL, e.g. https://balancer.example or http://127.0.0.1:8787. */
  platformUrl: string;
  id: string;
  port: number;
  host?: string;
  /** The address viewers reach the node at; defaults to http://<host>:<port>. */
  baseUrl?: string;
  /** The node's registration key from the operator's provisioning (PUT /api/v1/admin/pull-zones/{id}). */
  registrationKey?: string;
  /**
   * A file (mode 0600) keeping the node's id and registration key across restarts: written when a key is
   * given, read when none is (a service restart needs no new provisioning).
   */
  stateFile?: string;
  /** What the node's uplink carries; the operator's provisioned figure bounds it. */
  capacityMbps?: number;
  verbose?: boolean;
  /** Reuse an existing bundle (tests build once). */
  prebuilt?: boolean;
  log?: (line: string) => void;
}

export interface RunningStadiumNode {
  url: string;
  id: string;
  nodeKey: string;
  incarnation: string;
  worker: RunningWorker;
  /** The node's counters, read the way the heartbeat reads them (with the sessions seen since `since`). */
  stats(since?: number): Promise<NodeStats>;
  /** Deregisters (unless `deregister: false`, as if the box lost power) and stops the worker. */
  stop(options?: { deregister?: boolean }): Promise<void>;
}

interface Registered {
  id: string;
  name: string;
  eventIds: string[];
  nodeKey: string;
  heartbeatIntervalSeconds: number;
  verifyKeys: { kid: string; x: string }[];
  incarnation: string;
}

/** Registers and starts one node; resolves once it answers /ping. */
export async function startStadiumNode(o: StadiumNodeOptions): Promise<RunningStadiumNode> {
  const log = o.log ?? (() => {});
  const platformUrl = o.platformUrl.replace(/\/+$/, "");
  const host = o.host ?? "127.0.0.1";
  // Port 0: pick a free one now, since the address is registered before the worker starts.
  const port = o.port === 0 ? await freePort(host) : o.port;
  const baseUrl = (o.baseUrl ?? `http://${host}:${port}`).replace(/\/+$/, "");
  const registrationKey = nodeRegistrationKey(o);
  const registration = { id: o.id, baseUrl, ...(o.capacityMbps !== undefined ? { capacityMbps: o.capacityMbps } : {}) };

  const register = async (): Promise<Registered> => {
    const res = await fetch(`${platformUrl}/api/v1/pull-zones`, {
      method: "POST",
      headers: { authorization: `Bearer ${registrationKey}`, "content-type": "application/json" },
      body: JSON.stringify(registration),
    });
    if (res.status !== 201) throw new Error(`registering stadium node ${o.id} failed: ${res.status} ${await res.text()}`);
    return (await res.json()) as Registered;
  };

  let reg = await register();
  let eventIds = reg.eventIds;
  // Local only: lets the launcher read the node's counters; never leaves this machine.
  const statsKey = randomBytes(24).toString("base64url");
  log(`registered ${o.id} "${reg.name}" for ${eventIds.join(", ")} (incarnation ${reg.incarnation}); heartbeat every ${reg.heartbeatIntervalSeconds} s`);
  const worker = await runWorker(buildWorker("stadium-node", o.prebuilt ?? process.env.BALANCER_PREBUILT === "1"), {
    port,
    host,
    persistTo: false,
    verbose: o.verbose,
    // Viewers reach the node's worker straight, not through Miniflare's entry worker (twice the hit throughput).
    direct: true,
    bindings: {
      NODE_ID: o.id,
      STATS_KEY: statsKey,
      PLATFORM_URL: platformUrl,
      EVENT_IDS: JSON.stringify(eventIds),
      PLAYBACK_VERIFY_KEYS: JSON.stringify(reg.verifyKeys),
    },
  });

  const stats = async (since?: number): Promise<NodeStats> => {
    const query = since === undefined ? "" : `?since=${since}`;
    const res = await fetch(`${worker.url}/_node/stats${query}`, { headers: { authorization: `Bearer ${statsKey}` } });
    if (!res.ok) throw new Error(`node stats: ${res.status}`);
    return (await res.json()) as NodeStats;
  };

  let reportedBytes = 0;
  // Sessions are named from this time on (the node's clock): everyone who played since the last
  // heartbeat that got through, so their leases are renewed though their requests never reach the platform.
  let reportedUntil = 0;
  let stopped = false;
  const beat = async (): Promise<void> => {
    const s = await stats(reportedUntil);
    const egressBytes = Math.max(0, s.bytesServed - reportedBytes);
    const res = await fetch(`${platformUrl}/api/v1/pull-zones/${o.id}/heartbeat`, {
      method: "POST",
      headers: { authorization: `Bearer ${reg.nodeKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        activeViewers: s.activeViewers,
        egressBytes,
        ...(s.cacheHitRatio !== null ? { cacheHitRatio: Math.max(0, Math.min(1, s.cacheHitRatio)) } : {}),
        activeSessionsByEvent: s.sessionsByEvent,
      }),
    });
    if (res.status === 200) {
      reportedBytes = s.bytesServed;
      reportedUntil = s.at;
      // Sessions the platform says are over (released, lease expired): the node refuses their next playlist.
      const answer = (await res.json().catch(() => ({}))) as { endedSessionIds?: unknown; eventIds?: unknown };
      // The operator changed the node's events: the worker serves the new list from its next request.
      const provisioned = Array.isArray(answer.eventIds) ? answer.eventIds.filter((e): e is string => typeof e === "string") : null;
      if (provisioned && provisioned.length > 0 && provisioned.join(",") !== eventIds.join(",")) {
        const told = await fetch(`${worker.url}/_node/events`, {
          method: "PUT",
          headers: { authorization: `Bearer ${statsKey}`, "content-type": "application/json" },
          body: JSON.stringify({ eventIds: provisioned }),
        });
        await told.body?.cancel();
        if (told.status === 204) {
          log(`events now ${provisioned.join(", ")}`);
          eventIds = provisioned;
        }
      }
      const ended = Array.isArray(answer.endedSessionIds) ? answer.endedSessionIds.filter((id) => typeof id === "string") : [];
      if (ended.length > 0) {
        const told = await fetch(`${worker.url}/_node/ended`, {
          method: "POST",
          headers: { authorization: `Bearer ${statsKey}`, "content-type": "application/json" },
          body: JSON.stringify({ sessionIds: ended }),
        });
        await told.body?.cancel();
      }
    } else await res.body?.cancel();
    // The node went offline on the platform (the operator's DELETE /pull-zones/{id}): announce it again. A
    // decommissioned node or a rotated registration key makes that fail with 401, said at every interval.
    // A 401 to the heartbeat means another process registered this id since; fighting it would flap.
    if (res.status === 404) {
      log("heartbeat answered 404; registering again");
      reg = await register();
    } else if (res.status === 401) {
      log("heartbeat answered 401: another process registered this node id; stop this one");
    }
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const loop = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      beat()
        .catch((err) => log(`heartbeat failed: ${String(err)}`))
        .finally(loop);
    }, reg.heartbeatIntervalSeconds * 1000);
  };
  // The first heartbeat, now that the worker answers, is what makes the node healthy.
  await beat().catch((err) => log(`first heartbeat failed: ${String(err)}`));
  loop();

  return {
    url: worker.url,
    id: o.id,
    get nodeKey() {
      return reg.nodeKey;
    },
    get incarnation() {
      return reg.incarnation;
    },
    worker,
    stats,
    async stop(options = {}) {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (options.deregister !== false) {
        await fetch(`${platformUrl}/api/v1/pull-zones/${o.id}`, { method: "DELETE", headers: { authorization: `Bearer ${reg.nodeKey}` } })
          .then((r) => r.body?.cancel())
          .catch(() => {});
      }
      await worker.stop();
    },
  };
}

/** The key given, kept in the state file; or the one the state file kept from an earlier start. */
function nodeRegistrationKey(o: StadiumNodeOptions): string {
  if (o.registrationKey) {
    if (o.stateFile) writeNodeState(o.stateFile, { platformUrl: o.platformUrl, id: o.id, registrationKey: o.registrationKey });
    return o.registrationKey;
  }
  if (!o.stateFile) throw new Error(`stadium node ${o.id}: no registration key (give one, or a state file that holds one)`);
  const state = readNodeState(o.stateFile);
  if (!state) throw new Error(`stadium node ${o.id}: ${o.stateFile} holds no registration key; provision the node and pass its key once`);
  if (state.id !== o.id) throw new Error(`stadium node ${o.id}: ${o.stateFile} belongs to node ${state.id}`);
  return state.registrationKey;
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
