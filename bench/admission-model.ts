// Benchmark: admission decisions per second of the pure model for one event (no Durable Object, no I/O).
// Run: npx tsx bench/admission-model.ts [arrivals=100000]
import { pathToFileURL } from "node:url";
import { AdmissionModel } from "../durable-objects/event-gate/model";

const LADDER = [800_000, 2_500_000, 5_000_000];

function measure(label: string, ops: number, run: () => void): { label: string; ops: number; ms: number; perSecond: number } {
  const t0 = performance.now();
  run();
  const ms = performance.now() - t0;
  return { label, ops, ms: Math.round(ms), perSecond: Math.round((ops / ms) * 1000) };
}

function scenario(ARRIVALS: number, egress: boolean) {
  const model = new AdmissionModel();
  let now = 1_700_000_000_000;
  let n = 0;
  const newTicket = () => `tkt_${++n}`;
  const newSessionId = () => `ses_${++n}`;
  model.configure({ maxSessions: ARRIVALS / 2, ...(egress ? { maxEgressMbps: 1e6 } : {}) }, now);
  const sessions: string[] = [];
  const tickets: string[] = [];
  const rows = [];

  rows.push(
    measure("arrivals (half granted, half queued)", ARRIVALS, () => {
      for (let i = 0; i < ARRIVALS; i++) {
        const d = model.request({ channelId: "main", now, newTicket, newSessionId, renditionsBps: LADDER });
        if (d.status === "granted") sessions.push(d.sessionId);
        else if (d.status === "queued") tickets.push(d.ticket);
      }
    }),
  );
  now += 1000;
  for (const id of sessions.slice(0, sessions.length / 10)) model.release(id, now);
  rows.push(
    measure("polls of every queued ticket (10% of slots freed)", tickets.length, () => {
      for (const ticket of tickets) model.request({ ticket, channelId: "main", now, newTicket, newSessionId, renditionsBps: LADDER });
    }),
  );
  now += 1000;
  const live = sessions.slice(sessions.length / 10);
  const batch = 1000;
  rows.push(
    measure(`activity renewals (batches of ${batch} session ids)`, live.length, () => {
      for (let i = 0; i < live.length; i += batch) {
        model.reportEgress({ source: "edge", bytes: 1e6, now });
        model.activity({ sessionIds: live.slice(i, i + batch), now });
      }
    }),
  );
  now += 61_000;
  rows.push(measure("lease expiry of every session (one expire call)", model.snapshot(now - 61_000).activeSessions, () => void model.expire(now)));
  return rows;
}

export interface BenchRow {
  label: string;
  ops: number;
  ms: number;
  perSecond: number;
}

/** Decisions per second of the pure model for one event: `arrivals` arrivals, then polls, renewals, expiry. */
export function benchAdmissionModel(arrivals = 100_000): { title: string; rows: BenchRow[] }[] {
  scenario(Math.min(arrivals, 10_000), false); // warm the JIT so the first table is not mostly compile time
  return [false, true].map((egress) => ({
    title: `AdmissionModel, one event, ${arrivals} arrivals, maxSessions ${arrivals / 2}${egress ? ", with an egress budget" : ""}`,
    rows: scenario(arrivals, egress),
  }));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  for (const { title, rows } of benchAdmissionModel(Number(process.argv[2] ?? 100_000))) {
    console.log(`\n${title}`);
    console.table(rows);
  }
}
