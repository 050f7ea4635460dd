// The stadium node's service process: registers the node with the platform, runs the node worker on workerd (a
// socket straight into the worker, through Miniflare's API), heartbeats what it served, and deregisters on stop.
// Used by `npm run stadium-node` (main.ts), `npm start` and the tests.
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { buildWorker } from "../../../scripts/lib/build";
import type { NodeStats } from "../counters";
import { runWorker, type RunningWorker } from "../../../scripts/lib/platform";

export interface StadiumNodeOptions {
  /** The platform's edge URL, e.g. https://balancer.example or http://127.0.0.1:8787. */
  platformUrl: string;
  id: string;
  port: number;
  name?: string;
  host?: string;
  eventIds?: string[];
  /** The address viewers reach the node at; defaults to http://<host>:<port>. */
  baseUrl?: string;
  /** PULL_ZONE_SECRET, the shared secret that allows registering. */
  secret: string;
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
  const eventIds = o.eventIds?.length ? o.eventIds : ["demo"];
  const registration = { id: o.id, name: o.name ?? o.id, baseUrl, eventIds };

  const register = async (): Promise<Registered> => {
    const res = await fetch(`${platformUrl}/api/v1/pull-zones`, {
      method: "POST",
      headers: { authorization: `Bearer ${o.secret}`, "content-type": "application/json" },
      body: JSON.stringify(registration),
    });
    if (res.status !== 201) throw new Error(`registering stadium node ${o.id} failed: ${res.status} ${await res.text()}`);
    return (await res.json()) as Registered;
  };

  let reg = await register();
  // Local only: lets the launcher read the node's counters; never leaves this machine.
  const statsKey = randomBytes(24).toString("base64url");
  log(`registered ${o.id} (incarnation ${reg.incarnation}); heartbeat every ${reg.heartbeatIntervalSeconds} s`);
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
      const answer = (await res.json().catch(() => ({}))) as { endedSessionIds?: unknown };
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
    // The registry forgot the node (an operator removed it): announce it again. A 401 means another
    // process registered this id since; fighting it would flap, so this one only says so.
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
