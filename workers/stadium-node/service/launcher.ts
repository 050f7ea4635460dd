// The stadium node's service process: registers the node with the platform, runs the node worker on workerd (a
// socket straight into the worker, through Miniflare's API; or several workerd processes on one port, cluster.ts),
// heartbeats what it served (every process's counters together), and goes offline on stop.
// Used by `npm run stadium-node` (main.ts), `npm start` and the tests.
import { createPrivateKey, randomBytes, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, isIP } from "node:net";
import { buildWorker } from "../../../scripts/lib/build";
import { readNodeState, writeNodeState } from "./state-file";
import { startNodeProcesses } from "./cluster";
import type { NodeStats } from "../counters";
import { runWorker } from "../../../scripts/lib/platform";

export interface StadiumNodeOptions {
  /** The platform's edge URL, e.g. https://balancer.example or http://127.0.0.1:8787. */
  platformUrl: string;
  id: string;
  port: number;
  host?: string;
  /** The address viewers reach the node at; defaults to http://<host>:<port> (https://… with a certificate). */
  baseUrl?: string;
  /**
   * The node's certificate chain and private key (PEM files; both or neither). Given, the node serves HTTPS
   * only, with workerd's own TLS on its listening socket; read once at start (a renewed certificate takes a restart).
   */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** The node's registration key from the operator's provisioning (PUT /api/v1/admin/pull-zones/{id}). */
  registrationKey?: string;
  /**
   * A file (mode 0600) keeping the node's id and registration key across restarts: written when a key is
   * given, read when none is (a service restart needs no new provisioning).
   */
  stateFile?: string;
  /** What the node's uplink carries; the operator's provisioned figure bounds it. */
  capacityMbps?: number;
  /**
   * workerd processes sharing the port (service/cluster.ts): 1 runs one through Miniflare's API, as the tests
   * do; the CLI defaults to one per core.
   */
  processes?: number;
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
  /** The node's workerd: one process through Miniflare, or (several, or with TLS) from our own config, sharing the port. */
  worker: { url: string; stop(): Promise<void> };
  /** Each process's own plain-HTTP loopback address (with one process through Miniflare, the node's URL). */
  processUrls: string[];
  /** Each workerd process's pid when the node runs from our own config (several processes, or TLS); else empty. */
  processPids: number[];
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
  const tls = nodeTls(o);
  const baseUrl = (o.baseUrl ?? `${tls ? "https" : "http"}://${host}:${port}`).replace(/\/+$/, "");
  // A certificate that cannot serve the advertised address is refused before the node is announced.
  if (tls) {
    if (!baseUrl.startsWith("https://")) throw new Error(`stadium node ${o.id}: with a certificate the node serves HTTPS only, so its base URL must be https://… (got ${baseUrl})`);
    log(checkCertificate(tls, baseUrl));
  }
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
  const build = buildWorker("stadium-node", o.prebuilt ?? process.env.BALANCER_PREBUILT === "1");
  const bindings = {
    NODE_ID: o.id,
    STATS_KEY: statsKey,
    PLATFORM_URL: platformUrl,
    EVENT_IDS: JSON.stringify(eventIds),
    PLAYBACK_VERIFY_KEYS: JSON.stringify(reg.verifyKeys),
  };
  const processes = Math.max(1, Math.floor(o.processes ?? 1));
  let worker: { url: string; stop(): Promise<void> };
  /** Where the launcher's own routes (/_node/*) are answered: each process. */
  let controlUrls: string[];
  let processPids: number[] = [];
  // With TLS, always workerd from our own config (cluster.ts), even for one process: Miniflare's direct sockets
  // are plain HTTP only (it writes `http` options for them; `unsafeDirectSockets` has no TLS fields), and the
  // one socket it can put TLS on, its entry socket, puts its entry worker in front: 0.84x the HTTPS hits of
  // our own config at 1 MiB, 0.77x at 200 KB, with p99 latency 1.4x (wrk, 50 connections, 2 cores).
  if (processes > 1 || tls) {
    const cluster = await startNodeProcesses({ build, processes, host, port, bindings, log, ...(tls ? { tls } : {}) });
    worker = cluster;
    controlUrls = cluster.peerUrls;
    processPids = cluster.pids;
  } else {
    // Viewers reach the node's worker straight, not through Miniflare's entry worker (twice the hit throughput).
    worker = await runWorker(build, { port, host, persistTo: false, verbose: o.verbose, direct: true, bindings });
    controlUrls = [worker.url];
  }
  /** One of the launcher's own routes on every process; a process that died answers nothing (null). */
  const control = (path: string, init: RequestInit = {}): Promise<(Response | null)[]> =>
    Promise.all(
      controlUrls.map((url) =>
        fetch(`${url}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${statsKey}` } }).catch(() => null),
      ),
    );
  const drain = async (answers: (Response | null)[]) => {
    for (const r of answers) await r?.body?.cancel();
  };

  /** Each live process's counters, by index; the heartbeat goes on without a process that died. */
  const counters = async (since?: number): Promise<{ index: number; stats: NodeStats }[]> => {
    const query = since === undefined ? "" : `?since=${since}`;
    const answers = await control(`/_node/stats${query}`);
    const out: { index: number; stats: NodeStats }[] = [];
    for (const [index, res] of answers.entries()) {
      if (res?.ok) out.push({ index, stats: (await res.json()) as NodeStats });
      else await res?.body?.cancel();
    }
    if (out.length === 0) throw new Error("no node process answered for its counters");
    return out;
  };
  const stats = async (since?: number): Promise<NodeStats> => mergeStats((await counters(since)).map((c) => c.stats));

  /** Bytes each process had served at the last heartbeat that got through (each counts from its own start). */
  const reportedBytes: number[] = [];
  /** Likewise the viewer requests each process had answered, and of those, the ones it asked the platform for. */
  const reportedRequests: { requests: number; upstream: number }[] = [];
  const upstreamOf = (st: NodeStats) => st.segmentUpstreamFetches + st.playlistUpstreamFetches;
  // Sessions are named from this time on (the node's clock): everyone who played since the last
  // heartbeat that got through, so their leases are renewed though their requests never reach the platform.
  let reportedUntil = 0;
  let stopped = false;
  const beat = async (): Promise<void> => {
    const live = await counters(reportedUntil);
    const s = mergeStats(live.map((c) => c.stats));
    const egressBytes = live.reduce((n, c) => n + Math.max(0, c.stats.bytesServed - (reportedBytes[c.index] ?? 0)), 0);
    const requests = live.reduce((n, c) => n + Math.max(0, c.stats.requests - (reportedRequests[c.index]?.requests ?? 0)), 0);
    const upstreamRequests = live.reduce((n, c) => n + Math.max(0, upstreamOf(c.stats) - (reportedRequests[c.index]?.upstream ?? 0)), 0);
    const res = await fetch(`${platformUrl}/api/v1/pull-zones/${o.id}/heartbeat`, {
      method: "POST",
      headers: { authorization: `Bearer ${reg.nodeKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        activeViewers: s.activeViewers,
        egressBytes,
        requests,
        upstreamRequests,
        ...(s.cacheHitRatio !== null ? { cacheHitRatio: Math.max(0, Math.min(1, s.cacheHitRatio)) } : {}),
        activeSessionsByEvent: s.sessionsByEvent,
      }),
    });
    if (res.status === 200) {
      for (const c of live) reportedBytes[c.index] = c.stats.bytesServed;
      for (const c of live) reportedRequests[c.index] = { requests: c.stats.requests, upstream: upstreamOf(c.stats) };
      reportedUntil = s.at;
      // Sessions the platform says are over (released, lease expired): the node refuses their next playlist.
      const answer = (await res.json().catch(() => ({}))) as { endedSessionIds?: unknown; eventIds?: unknown };
      // The operator changed the node's events: the worker serves the new list from its next request.
      const provisioned = Array.isArray(answer.eventIds) ? answer.eventIds.filter((e): e is string => typeof e === "string") : null;
      if (provisioned && provisioned.length > 0 && provisioned.join(",") !== eventIds.join(",")) {
        const told = await control("/_node/events", { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ eventIds: provisioned }) });
        await drain(told);
        if (told.every((r) => r === null || r.status === 204)) {
          log(`events now ${provisioned.join(", ")}`);
          eventIds = provisioned;
        }
      }
      const ended = Array.isArray(answer.endedSessionIds) ? answer.endedSessionIds.filter((id) => typeof id === "string") : [];
      if (ended.length > 0) {
        await drain(await control("/_node/ended", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ sessionIds: ended }) }));
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
    processUrls: controlUrls,
    processPids,
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

/**
 * One view of several processes' counters: sums, the hit ratio from the sums, the sessions of all. A viewer
 * whose connections reached two processes is one session: with several processes the active viewers are
 * those named since the last heartbeat.
 */
export function mergeStats(all: NodeStats[]): NodeStats {
  if (all.length === 1) return all[0]!;
  const sum = (f: (s: NodeStats) => number) => all.reduce((n, s) => n + f(s), 0);
  const byEvent = new Map<string, Set<string>>();
  for (const s of all) for (const [e, ids] of Object.entries(s.sessionsByEvent)) for (const id of ids) (byEvent.get(e) ?? byEvent.set(e, new Set()).get(e)!).add(id);
  const sessionsByEvent = Object.fromEntries([...byEvent].map(([e, ids]) => [e, [...ids]]));
  const segs = sum((s) => s.hits + s.misses);
  const upstream = sum((s) => s.segmentUpstreamFetches);
  const named = [...byEvent.values()].reduce((n, ids) => n + ids.size, 0);
  return {
    activeViewers: named > 0 ? named : Math.max(...all.map((s) => s.activeViewers)),
    bytesServed: sum((s) => s.bytesServed),
    requests: sum((s) => s.requests),
    segmentRequests: sum((s) => s.segmentRequests),
    playlistRequests: sum((s) => s.playlistRequests),
    hits: sum((s) => s.hits),
    misses: sum((s) => s.misses),
    cacheHitRatio: segs > 0 ? (segs - upstream) / segs : null,
    segmentUpstreamFetches: upstream,
    distinctSegments: Math.max(...all.map((s) => s.distinctSegments)),
    // Each process counts only its own fetches, and only the owner fetches a key from the platform.
    maxFetchesPerSegment: Math.max(...all.map((s) => s.maxFetchesPerSegment)),
    playlistUpstreamFetches: sum((s) => s.playlistUpstreamFetches),
    peerFetches: sum((s) => s.peerFetches),
    storedBytes: sum((s) => s.storedBytes),
    // The earliest clock: the next heartbeat names again rather than misses a session.
    at: Math.min(...all.map((s) => s.at)),
    sessionsByEvent,
  };
}

/** The certificate and key files, both or neither; readable now rather than at workerd's start. */
function nodeTls(o: StadiumNodeOptions): { certFile: string; keyFile: string } | undefined {
  if (!o.tlsCertFile && !o.tlsKeyFile) return undefined;
  if (!o.tlsCertFile || !o.tlsKeyFile) throw new Error(`stadium node ${o.id}: HTTPS needs both a certificate and its private key (--cert and --key)`);
  return { certFile: o.tlsCertFile, keyFile: o.tlsKeyFile };
}

/**
 * Checks the certificate against its key, its validity dates and the base URL's host (a browser refuses a
 * certificate that does not name the address it reached; every viewer would fall back to the edge). Throws
 * on any of these; returns a line for the log.
 */
export function checkCertificate(tls: { certFile: string; keyFile: string }, baseUrl: string, now = Date.now()): string {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`cannot read the ${what} ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const certPem = read(tls.certFile, "certificate");
  const keyPem = read(tls.keyFile, "private key");
  let cert: X509Certificate;
  try {
    // The first certificate of the file is the node's own; the rest of the chain follows it.
    cert = new X509Certificate(certPem);
  } catch (err) {
    throw new Error(`${tls.certFile} holds no PEM certificate: ${err instanceof Error ? err.message : String(err)}`);
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new Error(`${tls.keyFile} holds no PEM private key: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!cert.checkPrivateKey(key)) throw new Error(`the private key ${tls.keyFile} does not belong to the certificate ${tls.certFile}`);
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (now < from) throw new Error(`the certificate ${tls.certFile} is not valid before ${cert.validFrom}`);
  if (now > to) throw new Error(`the certificate ${tls.certFile} expired on ${cert.validTo}`);
  const hostname = new URL(baseUrl).hostname.replace(/^\[|\]$/g, "");
  const named = isIP(hostname) ? cert.checkIP(hostname) : cert.checkHost(hostname, { subject: "never" });
  if (!named) throw new Error(`the certificate ${tls.certFile} does not name ${hostname}, the host of the base URL ${baseUrl} (it names: ${cert.subjectAltName ?? "nothing"}); give --base-url with a name it covers`);
  const days = Math.floor((to - now) / 86_400_000);
  return `HTTPS with ${tls.certFile} for ${hostname}, valid until ${cert.validTo} (${days} days${days < 14 ? ": RENEW IT SOON, then restart the node" : ""})`;
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
