// `npm run bench`: the platform on workerd (Miniflare's API, no wrangler dev proxy) against nginx
// proxy_cache and a bare worker, on this machine, in one run; prints a markdown table and writes it
// to bench/results/latest.md. Everything listens on 127.0.0.1 and is stopped at the end, on errors
// and on Ctrl-C.
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { ROOT, startPlatform, type Platform } from "../scripts/lib/platform";
import { seedDemo } from "../scripts/lib/seed";
import { addChannel, openChannel, originStats } from "../test/support/platform";
import { crowd, pollers, type CrowdResult } from "./lib/audience";
import { startBareWorker, startBareWorkerTls } from "./lib/bare";
import { onCleanup, runGuarded } from "./lib/cleanup";
import { findWrk, runNodeLoad, runWrk, type LoadResult } from "./lib/load";
import { describeMachine, loadAverage } from "./lib/machine";
import { percentile, rawTimedGet, timedGet } from "./lib/net";
import { findNginx, startNginx } from "./lib/nginx";
import { markdownTable, num, ratio, type Row } from "./lib/table";
import { admissionThroughputRows, gateCallRows } from "./lib/admission-rows";
import { shardSimulationRows } from "./admission-shards";
import { llFanoutRows } from "./ll-fanout";
import { startStadiumNode } from "../workers/stadium-node/service/launcher";
import { provisionNode } from "../scripts/lib/pull-zones";
import { makeTestCertificates } from "../test/support/tls";

/**
 * Throughput rows (a, b) run each target for LOAD_SECONDS, ROUNDS times, interleaved (edge, bare,
 * nginx, edge, …), and report the median round: load from other work on the machine then hits every
 * target alike instead of whichever ran during a busy spell. BENCH_SECONDS shortens it.
 */
const LOAD_SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ROUNDS = 3;
/** Seconds the playlist pollers run (row d); the figure is scaled to one minute. */
const POLL_SECONDS = Number(process.env.BENCH_POLL_SECONDS ?? 24);
const CONNECTIONS = 50;
/** Clients asking for one new segment at once (row c); BENCH_CROWD=50 reproduces the empty-body failure of smaller crowds. */
const CROWD = Number(process.env.BENCH_CROWD ?? 500);
const VIEWERS = 500;
const TARGET_DURATION_MS = 2_000;
/** Origin delay on every segment, so one origin fetch is long enough for the whole crowd to overlap it. */
const SEGMENT_DELAY_MS = 200;
const SIZES = [
  { label: "1 MB", bytes: 1_048_576, channel: "bench-1mb" },
  { label: "200 KB", bytes: 204_800, channel: "bench-200kb" },
] as const;
const LONG_SEGMENTS = 2_000;
/** Processes of the multi-process stadium node: one per core, as `npm run stadium-node` defaults to. */
const CORES = availableParallelism();
/** Seconds the steady viewers of row (f) play, in 10 s lease periods. */
const GATE_SECONDS = Number(process.env.BENCH_GATE_SECONDS ?? 30);
/** Which rows to run (BENCH_ROWS=a,c for a partial run while working on one path); all by default. */
const ROWS = new Set((process.env.BENCH_ROWS ?? "a,b,c,d,e,f,g,h,i").split(","));
/** Rows that need the platform running; the others (h, a simulation in this process) do not start it. */
const PLATFORM_ROWS = ["a", "b", "c", "d", "e", "f", "g", "i"];
/**
 * How the edge is served: "direct" (default), a socket straight into the worker, as workerd serves a worker
 * on its own and as Cloudflare runs it; or "emulated", through Miniflare's entry worker and its script
 * emulation of the static-assets router, the way `npm start` serves the pages (BENCH_EDGE=emulated).
 */
const EDGE_SERVING = process.env.BENCH_EDGE === "emulated" ? "emulated" : "direct";

const log = (msg: string) => console.error(`bench: ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Segment numbers handed out newest first and never twice, so every "new segment" really is new. The sized
// channels' playlists list 1,000 segments (?window=1000): the platform serves only what a playlist lists.
let nextMsn = Math.floor(Date.now() / TARGET_DURATION_MS) - 1;
const freshMsn = () => nextMsn--;

/** Runs `load` on every target in turn, ROUNDS times; per target, the median round plus all failures, and every round's req/s. */
async function interleaved(load: (url: string) => Promise<LoadResult>, targets: Record<string, string>): Promise<{ results: Record<string, LoadResult>; rounds: string }> {
  const runs = new Map<string, LoadResult[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, url] of Object.entries(targets)) {
      const r = await load(url);
      runs.set(name, [...(runs.get(name) ?? []), r]);
    }
  }
  const out: Record<string, LoadResult> = {};
  const rounds = [...runs].map(([name, rs]) => `${name} ${rs.map((r) => num(r.reqPerSec)).join(" / ")}`).join(", ");
  log(`  req/s per round: ${rounds}`);
  for (const [name, rs] of runs) {
    const median = [...rs].sort((a, b) => a.reqPerSec - b.reqPerSec)[Math.floor(rs.length / 2)]!;
    const failures = rs.reduce((n, r) => n + r.failures, 0);
    out[name] = { ...median, failures, failureKinds: rs.map((r) => r.failureKinds).filter(Boolean).join("; ") };
  }
  return { results: out, rounds };
}

/** GETs `url` until `header` says HIT (the first request fills the cache); throws if it never does. */
async function warmHit(url: string, header: string, expectBytes?: number): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const r = await timedGet(url);
    if (r.status !== 200) throw new Error(`warming ${url}: status ${r.status}`);
    if (expectBytes !== undefined && r.bytes !== expectBytes) throw new Error(`warming ${url}: ${r.bytes} bytes, expected ${expectBytes}`);
    if (String(r.headers[header] ?? "").toUpperCase() === "HIT") return;
    await sleep(100);
  }
  throw new Error(`${url} never answered ${header}: HIT`);
}

async function assertHit(url: string, header: string): Promise<void> {
  const r = await timedGet(url);
  if (r.status !== 200 || String(r.headers[header] ?? "").toUpperCase() !== "HIT") {
    throw new Error(`${url}: expected a cache hit after the run, got ${r.status} ${header}=${r.headers[header]}`);
  }
}

async function main(): Promise<void> {
  const loadBefore = loadAverage();
  const wrk = findWrk();
  const nginxBin = findNginx();
  const rounds = `median of ${ROUNDS} interleaved rounds per target`;
  const loadGenerator = wrk
    ? `wrk (${wrk}) -t2 -c${CONNECTIONS} -d${LOAD_SECONDS}s, ${rounds}`
    : `NODE FALLBACK CLIENT (wrk not installed; figures limited by this Node process), ${CONNECTIONS} keep-alive connections, ${LOAD_SECONDS} s, ${rounds}`;
  if (!wrk) log("wrk is not installed (apt-get install -y wrk); falling back to a small Node client, labelled as such");
  if (!nginxBin) log("nginx is not installed (apt-get install -y nginx); the nginx column stays empty");
  const load = (url: string): Promise<LoadResult> => {
    const o = { url, connections: CONNECTIONS, seconds: LOAD_SECONDS };
    return wrk ? runWrk(wrk, o) : runNodeLoad(o);
  };

  if (!PLATFORM_ROWS.some((r) => ROWS.has(r))) {
    const h = ROWS.has("h") ? shardSimulationRows(log) : { rows: [], notes: [] };
    writeReport(h.rows, h.notes, describeMachine(ROOT, "none (no platform row asked for)", nginxBin, loadBefore), false);
    return;
  }

  log("building and starting the platform (edge + demo origin on workerd)…");
  const p: Platform = await startPlatform({ originBindings: { SEGMENT_DELAY_MS: String(SEGMENT_DELAY_MS) }, edgeDirect: EDGE_SERVING === "direct" });
  onCleanup("platform", () => p.stop());
  await seedDemo({ edgeUrl: p.edgeUrl, originUrl: p.originUrl, adminToken: p.adminToken });
  const originPort = Number(new URL(p.originUrl).port);

  // Bench channels, registered through the operator API like any other origin. Each measurement asks
  // for access right before it runs: a session left idle longer than its lease gets 410, as a viewer would.
  const playBase = async (id: string): Promise<string> => (await openChannel(p, id)).playbackUrl.replace(/index\.m3u8$/, "");
  const channels: [string, string][] = [
    ...SIZES.map((s): [string, string] => [s.channel, `${p.originUrl}/synthetic/${s.bytes}/index.m3u8?window=1000`]),
    ["bench-long", `${p.originUrl}/synthetic/long/index.m3u8`],
    ["bench-poll-1", `${p.originUrl}/live/bench-poll-1/ts-360p/index.m3u8`],
    ["bench-poll-500", `${p.originUrl}/live/bench-poll-500/ts-360p/index.m3u8`],
  ];
  for (const [id, originUrl] of channels) await addChannel(p, id, originUrl);

  const bare = await startBareWorker();
  // HTTPS rows (g): one certificate for the node and for nginx, which serves it beside its plain port from one cache.
  const certs = ROWS.has("g") ? makeTestCertificates() : null;
  if (certs) onCleanup("test certificates", () => certs.remove());
  const nginx = nginxBin ? await startNginx(nginxBin, originPort, certs ?? undefined) : null;
  // A stadium node in front of the edge: the same cache code, served by workerd the same way.
  const node = ROWS.has("a") || ROWS.has("i")
    ? await startStadiumNode({ platformUrl: p.edgeUrl, id: "bench-node", port: 0, registrationKey: await provisionNode(p.edgeUrl, p.adminToken, "bench-node", { eventIds: ["demo"] }) })
    : null;
  if (node) onCleanup("stadium node", () => node.stop());
  // The same node on every core: one workerd process per core on one port (service/cluster.ts).
  const nodeCores = ROWS.has("a") || ROWS.has("c")
    ? await startStadiumNode({ platformUrl: p.edgeUrl, id: "bench-node-cores", port: 0, processes: CORES, registrationKey: await provisionNode(p.edgeUrl, p.adminToken, "bench-node-cores", { eventIds: ["demo"] }) })
    : null;
  if (nodeCores) onCleanup("stadium node on every core", () => nodeCores.stop());
  const nodeTls = certs
    ? await startStadiumNode({
        platformUrl: p.edgeUrl,
        id: "bench-node-tls",
        port: 0,
        processes: CORES,
        tlsCertFile: certs.certFile,
        tlsKeyFile: certs.keyFile,
        registrationKey: await provisionNode(p.edgeUrl, p.adminToken, "bench-node-tls", { eventIds: ["demo"] }),
      })
    : null;
  if (nodeTls) onCleanup("stadium node over HTTPS", () => nodeTls.stop());
  const bareTls = certs ? await startBareWorkerTls(certs, CORES) : null;
  log(`edge ${p.edgeUrl} (${EDGE_SERVING}), origin ${p.originUrl}, bare worker ${bare.url}${nginx ? `, nginx ${nginx.url}` : ""}${node ? `, stadium node ${node.url}` : ""}`);

  const rows: Row[] = [];
  const notes: string[] = [];
  const flag = (r: LoadResult) => (r.failures > 0 ? ` (${r.failureKinds}!)` : "");
  const throughputRows = (what: string, ours: LoadResult, theirs: LoadResult | null, mb = true) => {
    rows.push({ what: `${what}: req/s`, ours: num(ours.reqPerSec) + flag(ours), nginx: theirs ? num(theirs.reqPerSec) + flag(theirs) : "—", ratio: ratio(ours.reqPerSec, theirs?.reqPerSec) });
    if (mb) rows.push({ what: `${what}: MB/s`, ours: num(ours.mbPerSec), nginx: theirs ? num(theirs.mbPerSec) : "—", ratio: ratio(ours.mbPerSec, theirs?.mbPerSec) });
  };

  // (a) Segment cache hits at 50 connections, and the bare worker's ceiling at the same size.
  for (const size of ROWS.has("a") ? SIZES : []) {
    const edgeUrl = `${await playBase(size.channel)}seg-${freshMsn()}.bin`;
    await warmHit(edgeUrl, "x-cache", size.bytes);
    const nodeUrl = node ? node.url + edgeUrl.slice(p.edgeUrl.length) : null;
    if (nodeUrl) await warmHit(nodeUrl, "x-cache", size.bytes);
    const coresUrl = nodeCores ? nodeCores.url + edgeUrl.slice(p.edgeUrl.length) : null;
    // Each process keeps its own copy: warm every one of them on its own port.
    if (nodeCores) for (const u of nodeCores.processUrls) await warmHit(u + edgeUrl.slice(p.edgeUrl.length), "x-cache", size.bytes);
    const bareUrl = `${bare.url}/${size.bytes}`;
    await warmHit(bareUrl, "x-cache", size.bytes);
    const nginxUrl = nginx ? `${nginx.url}/synthetic/${size.bytes}/seg-${freshMsn()}.bin` : null;
    if (nginxUrl) await warmHit(nginxUrl, "x-cache-status", size.bytes);

    log(`(a) ${size.label} segment hits: edge, stadium node, nginx and bare worker, ${ROUNDS} interleaved rounds…`);
    const { results: r, rounds } = await interleaved(load, {
      edge: edgeUrl,
      ...(nodeUrl ? { node: nodeUrl } : {}),
      ...(coresUrl ? { cores: coresUrl } : {}),
      bare: bareUrl,
      ...(nginxUrl ? { nginx: nginxUrl } : {}),
    });
    notes.push(`(a) ${size.label} req/s per round: ${rounds}.`);
    await assertHit(edgeUrl, "x-cache");
    if (nginxUrl) await assertHit(nginxUrl, "x-cache-status");

    throughputRows(`(a) ${size.label} segment, cache hit, ${CONNECTIONS} conns`, r.edge!, r.nginx ?? null);
    if (r.node) throughputRows(`(a) ${size.label} segment, cache hit on a stadium node, ${CONNECTIONS} conns`, r.node, r.nginx ?? null);
    if (r.cores) {
      throughputRows(`(a) ${size.label} segment, cache hit on a stadium node of ${CORES} processes (one per core), ${CONNECTIONS} conns`, r.cores, r.nginx ?? null);
      if (r.node) rows.push({ what: `(a) ${size.label}: the node of ${CORES} processes ÷ the node of one, req/s`, ours: "—", nginx: "—", ratio: ratio(r.cores.reqPerSec, r.node.reqPerSec) });
    }
    throughputRows(`baseline: bare worker returning ${size.label} from isolate memory`, r.bare!, r.nginx ?? null, false);
    notes.push(
      `At ${size.label} the edge's full hit path reaches ${(r.edge!.reqPerSec / r.bare!.reqPerSec).toFixed(2)}× of the bare worker's req/s` +
        (r.node ? `, a stadium node's ${(r.node.reqPerSec / r.bare!.reqPerSec).toFixed(2)}×.` : "."),
    );
  }

  // (b) The 2,000-segment live media playlist, served within its TTL.
  if (ROWS.has("b")) {
    const edgeUrl = `${await playBase("bench-long")}index.m3u8`;
    const first = await timedGet(edgeUrl, { keepBody: true });
    const listed = (first.body.toString("utf8").match(/^#EXTINF:/gm) ?? []).length;
    if (first.status !== 200 || listed !== LONG_SEGMENTS) throw new Error(`long playlist: status ${first.status}, ${listed} segments`);
    await warmHit(edgeUrl, "x-cache");
    const nginxUrl = nginx ? `${nginx.url}/synthetic/long/index.m3u8` : null;
    if (nginxUrl) await warmHit(nginxUrl, "x-cache-status");
    log(`(b) ${LONG_SEGMENTS}-segment playlist: edge and nginx, ${ROUNDS} interleaved rounds…`);
    const { results: r, rounds } = await interleaved(load, { edge: edgeUrl, ...(nginxUrl ? { nginx: nginxUrl } : {}) });
    notes.push(`(b) req/s per round: ${rounds}.`);
    throughputRows(`(b) live playlist of ${LONG_SEGMENTS} segments (${num(first.bytes / 1000)} KB), ${CONNECTIONS} conns`, r.edge!, r.nginx ?? null);
  }

  // (c) One new segment, 500 clients at once: origin fetches and time to the full response.
  for (const size of ROWS.has("c") ? [...SIZES].reverse() : []) {
    const originTimes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await rawTimedGet(`${p.originUrl}/synthetic/${size.bytes}/seg-${freshMsn()}.bin`, 15_000);
      if (r.status !== 200 || r.bytes !== size.bytes) throw new Error(`origin direct: status ${r.status}, ${r.bytes} bytes`);
      originTimes.push(r.ms);
    }
    const originMs = percentile(originTimes.sort((a, b) => a - b), 50);

    const run = async (who: string, url: string, originPath: string): Promise<{ result: CrowdResult; fetches: number; cached: CrowdResult }> => {
      const before = (await originStats(p)).byPath[originPath] ?? 0;
      if (before !== 0) throw new Error(`${originPath} was already fetched ${before} times; not a new segment`);
      log(`(c) ${who}, ${CROWD} clients for one new ${size.label} segment…`);
      const result = await crowd(url, CROWD, size.bytes);
      await sleep(200); // let any straggling origin request land in the counters
      const fetches = (await originStats(p)).byPath[originPath] ?? 0;
      if (result.failures > 0) notes.push(`(c) ${who} ${size.label}: ${result.failures} of ${CROWD} responses failed (first: ${result.firstError}).`);
      // The same crowd again, now that the segment is cached: what moving the bytes to this client costs
      // alone, a floor under the miss figure that no coalescing can beat on this machine.
      const again = await crowd(url, CROWD, size.bytes);
      if (again.failures > 0) notes.push(`(c) ${who} ${size.label}, cached: ${again.failures} of ${CROWD} responses failed (first: ${again.firstError}).`);
      return { result, fetches, cached: again };
    };
    // ROUNDS crowds per target, interleaved, each on a segment of its own; the round with the median
    // median is reported, with the most origin fetches any round caused and every round's failures.
    type CrowdRun = { result: CrowdResult; fetches: number; cached: CrowdResult };
    const runs: Record<"edge" | "nginx", CrowdRun[]> = { edge: [], nginx: [] };
    const base = await playBase(size.channel);
    for (let round = 0; round < ROUNDS; round++) {
      const m = freshMsn();
      runs.edge.push(await run("edge", `${base}seg-${m}.bin`, `/synthetic/${size.bytes}/seg-${m}.bin`));
      if (nginx) {
        const n = freshMsn();
        runs.nginx.push(await run("nginx", `${nginx.url}/synthetic/${size.bytes}/seg-${n}.bin`, `/synthetic/${size.bytes}/seg-${n}.bin`));
      }
    }
    const pick = (rs: CrowdRun[]): CrowdRun | null => {
      if (rs.length === 0) return null;
      const middle = [...rs].sort((a, b) => a.result.medianMs - b.result.medianMs)[Math.floor(rs.length / 2)]!;
      const failures = rs.reduce((n, r) => n + r.result.failures, 0);
      return { ...middle, fetches: Math.max(...rs.map((r) => r.fetches)), result: { ...middle.result, failures } };
    };
    if (nodeCores) {
      // The crowd through a node of several processes: its connections land on every process, and the
      // key's owner alone fetches it from the platform.
      const m = freshMsn();
      const cores = await run(`stadium node of ${CORES} processes`, nodeCores.url + `${base}seg-${m}.bin`.slice(p.edgeUrl.length), `/synthetic/${size.bytes}/seg-${m}.bin`);
      const failed = cores.result.failures > 0 ? ` (${cores.result.failures} failed!)` : "";
      rows.push({ what: `(c) ${CROWD} clients, one new ${size.label} segment through a stadium node of ${CORES} processes: origin fetches`, ours: num(cores.fetches) + failed, nginx: "—", ratio: "—" });
    }
    const ours = pick(runs.edge)!;
    const theirs = pick(runs.nginx);
    notes.push(
      `(c) ${size.label} median ms per round (new / cached): ` +
        (["edge", "nginx"] as const)
          .filter((who) => runs[who].length > 0)
          .map((who) => `${who} ${runs[who].map((r) => `${num(r.result.medianMs)}/${num(r.cached.medianMs)}`).join(", ")}`)
          .join("; ") +
        ".",
    );
    const label = `(c) ${CROWD} clients, one new ${size.label} segment`;
    const fails = (r: CrowdResult) => (r.failures > 0 ? ` (${r.failures} failed!)` : "");
    rows.push({ what: `${label}: origin fetches`, ours: num(ours.fetches) + fails(ours.result), nginx: theirs ? num(theirs.fetches) + fails(theirs.result) : "—", ratio: "—" });
    for (const [stat, key] of [["median", "medianMs"], ["p95", "p95Ms"]] as const) {
      rows.push({
        what: `${label}: ${stat} time to full response, ms`,
        ours: num(ours.result[key]),
        nginx: theirs ? num(theirs.result[key]) : "—",
        ratio: ratio(ours.result[key], theirs?.result[key]),
      });
    }
    rows.push({
      what: `${label}, once cached (the client's floor): median time to full response, ms`,
      ours: num(ours.cached.medianMs),
      nginx: theirs ? num(theirs.cached.medianMs) : "—",
      ratio: ratio(ours.cached.medianMs, theirs?.cached.medianMs),
    });
    rows.push({ what: `${label}: origin's own time (direct, median of 3; delay ${SEGMENT_DELAY_MS} ms), ms`, ours: num(originMs), nginx: "(same origin)", ratio: "—" });
    rows.push({
      what: `${label}: median − origin's own time, ms (goal ≤ 100)`,
      ours: num(ours.result.medianMs - originMs),
      nginx: theirs ? num(theirs.result.medianMs - originMs) : "—",
      ratio: "—",
    });
  }

  // (g) HTTPS cache hits: the node of one process per core with workerd's own TLS, against nginx with TLS on
  // the same certificate and worker count. Warmed on their plain ports (the same caches), run over HTTPS.
  for (const size of nodeTls && nginx?.tlsUrl ? SIZES : []) {
    const path = `${await playBase(size.channel)}seg-${freshMsn()}.bin`.slice(p.edgeUrl.length);
    for (const u of nodeTls!.processUrls) await warmHit(u + path, "x-cache", size.bytes);
    const segment = `/synthetic/${size.bytes}/seg-${freshMsn()}.bin`;
    await warmHit(nginx!.url + segment, "x-cache-status", size.bytes);
    log(`(g) ${size.label} segment hits over HTTPS: stadium node of ${CORES} processes and nginx, ${ROUNDS} interleaved rounds…`);
    const { results: r, rounds } = await interleaved(load, { node: nodeTls!.url + path, bare: `${bareTls!.url}/${size.bytes}`, nginx: nginx!.tlsUrl! + segment });
    notes.push(`(g) ${size.label} req/s per round: ${rounds}.`);
    throughputRows(`(g) HTTPS, ${size.label} segment, cache hit on a stadium node of ${CORES} processes, ${CONNECTIONS} conns`, r.node!, r.nginx ?? null);
    // The runtime's own HTTPS ceiling: the bare worker served the same way, with the same certificate.
    throughputRows(`baseline: bare worker over HTTPS, ${CORES} processes, returning ${size.label} from isolate memory`, r.bare!, r.nginx ?? null, false);
  }

  // (d) Origin playlist fetches per minute, 1 viewer and 500 viewers reloading every target duration.
  if (ROWS.has("d")) {
    log(`(d) 1 viewer and ${VIEWERS} viewers polling live media playlists for ${POLL_SECONDS} s…`);
    const path = (id: string) => `/live/${id}/ts-360p/index.m3u8`;
    const before = (await originStats(p)).byPath;
    const [one, many] = await Promise.all([
      pollers(`${await playBase("bench-poll-1")}index.m3u8`, 1, POLL_SECONDS, TARGET_DURATION_MS),
      pollers(`${await playBase("bench-poll-500")}index.m3u8`, VIEWERS, POLL_SECONDS, TARGET_DURATION_MS),
    ]);
    const after = (await originStats(p)).byPath;
    const perMinute = (id: string) => (((after[path(id)] ?? 0) - (before[path(id)] ?? 0)) * 60) / POLL_SECONDS;
    const fails = (r: { failures: number }) => (r.failures > 0 ? ` (${r.failures} failed!)` : "");
    rows.push({ what: `(d) origin playlist fetches/min, 1 viewer (${num(one.requests)} edge requests)`, ours: num(perMinute("bench-poll-1")) + fails(one), nginx: "—", ratio: "—" });
    rows.push({ what: `(d) origin playlist fetches/min, ${VIEWERS} viewers (${num(many.requests)} edge requests)`, ours: num(perMinute("bench-poll-500")) + fails(many), nginx: "—", ratio: "—" });
    notes.push(`(d) ran ${POLL_SECONDS} s, each viewer reloading every ${TARGET_DURATION_MS / 1000} s ±10 %; counts scaled to one minute.`);
  }

  // (e) Admission decisions per second for one event; (f) what steady viewers cost the event's gate.
  for (const part of [
    ROWS.has("e") ? () => admissionThroughputRows(log) : null,
    ROWS.has("f") ? () => gateCallRows(p, log, GATE_SECONDS) : null,
  ]) {
    if (!part) continue;
    const r = await part();
    rows.push(...r.rows);
    notes.push(...r.notes);
  }
  // (i) An LL-HLS crowd holding one blocking reload, and asking for one preload-hinted part, via the edge and a node.
  if (ROWS.has("i")) {
    const r = await llFanoutRows(p, [{ name: "the edge", url: p.edgeUrl }, ...(node ? [{ name: "a stadium node", url: node.url }] : [])], log);
    rows.push(...r.rows);
    notes.push(...r.notes);
  }
  // (h) The sharded admission simulation: pure code in this process.
  if (ROWS.has("h")) {
    const r = shardSimulationRows(log);
    rows.push(...r.rows);
    notes.push(...r.notes);
  }

  writeReport(rows, notes, describeMachine(ROOT, loadGenerator, nginxBin, loadBefore), true);
}

/** Prints the table and its notes, and writes them to bench/results/latest.md. */
function writeReport(rows: Row[], notes: string[], machine: string[], platform: boolean): void {
  const report = [
    `## Benchmark (${new Date().toISOString()}, \`npm run bench\`)`,
    "",
    ...machine,
    "",
    markdownTable(rows),
    "",
    ...notes.map((n) => `- ${n}`),
    ...(platform ? platformNotes() : []),
    "",
  ].join("\n");
  console.log("\n" + report);
  const out = join(ROOT, "bench", "results");
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "latest.md"), report);
  log(`written to ${join("bench", "results", "latest.md")}`);
}

/** How the platform rows were measured. */
function platformNotes(): string[] {
  return [
    `- MB = 10^6 bytes (headers included). Times are to the last body byte, measured by one Node process (row c: raw sockets, one connection per client, bench/lib/net.ts rawTimedGet); lower is better, so a time ratio below 1× favours us.`,
    EDGE_SERVING === "direct"
      ? `- The edge, the stadium node and the bare worker each run in one workerd process through Miniflare's API, served on a socket straight into the worker: no Miniflare entry worker and no script emulation of the static-assets router, which Cloudflare runs in its own front line (\`BENCH_EDGE=emulated npm run bench\` measures the edge through them).`
      : `- EDGE SERVED THROUGH MINIFLARE'S ENTRY WORKER AND ITS STATIC-ASSETS ROUTER EMULATION (BENCH_EDGE=emulated), as \`npm start\` serves it; the stadium node and the bare worker run on a socket straight into the worker.`,
    `- nginx runs worker_processes 2 with proxy_cache, proxy_cache_lock on, proxy_cache_valid 200 10m, key $uri; for (g) the same server also listens with TLS (TLS 1.2/1.3, session cache) on the node's certificate (ECDSA P-256, test/support/tls.ts). All on 127.0.0.1 of this machine, load generator included, so figures are indicative.`,
  ];
}

await runGuarded(main, 9 * 60_000);
