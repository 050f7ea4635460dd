// Benchmark: EventGate admissions per second through real RPC round trips into the Durable Object, in
// workerd (Miniflare, SQLite-backed storage), for one event. Not part of `npm test`.
// Run: npx tsx bench/admission-do.ts [arrivals=5000]
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Miniflare } from "miniflare";

const root = join(import.meta.dirname, "..");

// A driver worker calls the object from inside workerd, so each figure is object RPC, not Node↔workerd traffic.
const driver = `
export default {
  async fetch(request, env) {
    const q = new URL(request.url).searchParams;
    const n = Number(q.get("n"));
    const parallel = Number(q.get("parallel"));
    const gate = env.EVENT_GATE.get(env.EVENT_GATE.idFromName(q.get("event")));
    const ladder = [800000, 2500000, 5000000];
    await gate.configure({ maxSessions: n / 2, maxEgressMbps: 1e6 });
    const time = async (calls) => {
      const t0 = Date.now();
      for (let i = 0; i < calls.length; i += parallel) await Promise.all(calls.slice(i, i + parallel).map((f) => f()));
      return Date.now() - t0;
    };
    const granted = [], tickets = [];
    const arrivalsMs = await time(Array.from({ length: n }, () => async () => {
      const d = await gate.admit({ channelId: "main", renditionsBps: ladder });
      if (d.status === "granted") granted.push(d.sessionId); else tickets.push(d.ticket);
    }));
    const pollsMs = await time(tickets.map((ticket) => () => gate.admit({ ticket, channelId: "main", renditionsBps: ladder })));
    // Every granted session named in batches of 1,000, as edges report them, and the whole round repeated
    // 30 times: one round is only a few calls, too few to time in whole milliseconds (it read 375 to 1,000/s).
    const batches = [];
    for (let round = 0; round < 30; round++) for (let i = 0; i < granted.length; i += 1000) batches.push(granted.slice(i, i + 1000));
    const reportsMs = await time(batches.map((ids) => () => gate.report({ activeSessionIds: ids, bytes: 1e6, source: "edge" })));
    // A stadium node's heartbeat: 50,000 sessions in one report, the granted ones among ids the gate never issued.
    const named = [...granted];
    while (named.length < 50000) named.push("ses_" + named.length.toString(16).padStart(32, "0"));
    const heartbeats = 10;
    const heartbeatsMs = await time(Array.from({ length: heartbeats }, () => () => gate.report({ activeSessionIds: named, bytes: 1e6, source: "node" })));
    const k = 500;
    const readsMs = await time(Array.from({ length: k }, () => () => gate.getOverload()));
    const writesMs = await time(Array.from({ length: k }, (_, i) => () => gate.configure({ maxSessions: n / 2, maxEgressMbps: 1e6, leaseSeconds: 60 + (i % 2) })));
    return Response.json({ n, parallel, k, readsMs, writesMs, arrivalsMs, polls: tickets.length, pollsMs, reports: batches.length, reportedSessions: granted.length, reportsMs, heartbeats, heartbeatSessions: named.length, heartbeatsMs });
  },
};`;

/** Calls per second through the real object for one event; builds the edge bundle with `wrangler deploy --dry-run`. */
export async function benchEventGate(arrivals = 5000): Promise<{ title: string; rows: { calls: string; ops: number; ms: number; perSecond: number }[] }> {
  // The deployable edge bundle, exactly as `wrangler deploy` builds it; EventGate is one of its exports.
  const out = mkdtempSync(join(tmpdir(), "gate-bench-"));
  execFileSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", out, "-c", "wrangler.toml"], { cwd: root, stdio: "ignore" });
  const mf = new Miniflare({
    workers: [
      {
        name: "driver",
        modules: true,
        script: driver,
        compatibilityDate: "2026-04-20",
        durableObjects: { EVENT_GATE: { className: "EventGate", scriptName: "edge", useSQLite: true } },
      },
      {
        name: "edge",
        modules: true,
        scriptPath: join(out, "index.js"),
        modulesRoot: out,
        compatibilityDate: "2026-04-20",
        bindings: { PLAYBACK_TOKEN_TTL_SECONDS: "21600" },
        durableObjects: { EVENT_GATE: { className: "EventGate", useSQLite: true } },
      },
    ],
  });

  try {
    const rows = [];
    for (const parallel of [1, 50]) {
      const res = await mf.dispatchFetch(`http://bench/?n=${arrivals}&parallel=${parallel}&event=bench-${parallel}-${Date.now()}`);
      const r = (await res.json()) as Record<string, number>;
      const rate = (ops: number, ms: number) => Math.round((ops / Math.max(ms, 1)) * 1000);
      const row = (calls: string, ops: number, ms: number) => ({ calls: `${calls} (${parallel} in flight)`, ops, ms, perSecond: rate(ops, ms) });
      rows.push(
        row("admit, fresh arrivals", r.n!, r.arrivalsMs!),
        row("admit, queued polls", r.polls!, r.pollsMs!),
        row("report, 1000 sessions each", r.reports!, r.reportsMs!),
        row("report, 50,000 sessions (a node heartbeat)", r.heartbeats!, r.heartbeatsMs!),
        row("getOverload: RPC, no write", r.k!, r.readsMs!),
        row("configure: RPC + one row written", r.k!, r.writesMs!),
      );
    }
    return { title: `EventGate Durable Object in workerd (Miniflare, SQLite storage), one event, ${arrivals} arrivals, maxSessions ${arrivals / 2}`, rows };
  } finally {
    await mf.dispose();
    rmSync(out, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { title, rows } = await benchEventGate(Number(process.argv[2] ?? 5000));
  console.log(`\n${title}`);
  console.table(rows);
}
