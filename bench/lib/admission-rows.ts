// Admission rows of `npm run bench`: (e) decisions per second for one event, through the EventGate
// Durable Object (RPC in workerd) and in the pure model; (f) the gate calls steady viewers cost.
import type { Platform } from "../../scripts/lib/platform";
import { adminPut, openChannel } from "../../test/support/platform";
import { benchEventGate } from "../admission-do";
import { benchAdmissionModel } from "../admission-model";
import { pollers } from "./audience";
import { num, type Row } from "./table";

const ARRIVALS_DO = 5_000;
const ARRIVALS_MODEL = 100_000;

/** (e) Admission decisions per second for one event. */
export async function admissionThroughputRows(log: (m: string) => void): Promise<{ rows: Row[]; notes: string[] }> {
  log(`(e) ${ARRIVALS_DO} arrivals through the EventGate object, then ${ARRIVALS_MODEL} through the model…`);
  const gate = await benchEventGate(ARRIVALS_DO);
  const pick = (calls: string) => gate.rows.find((r) => r.calls === calls);
  const rows: Row[] = [];
  for (const [calls, label] of [
    ["admit, fresh arrivals (50 in flight)", "first access requests (half granted, half queued)"],
    ["admit, queued polls (50 in flight)", "queued viewers' polls"],
    ["report, 1000 sessions each (50 in flight)", "edge reports of 1,000 sessions each"],
  ] as const) {
    const r = pick(calls);
    if (r) rows.push({ what: `(e) one event's gate object, ${label}: decisions/s`, ours: num(r.perSecond), nginx: "—", ratio: "—" });
  }
  const heartbeat = pick("report, 50,000 sessions (a node heartbeat) (1 in flight)") ?? gate.rows.find((r) => r.calls.startsWith("report, 50,000"));
  if (heartbeat) {
    rows.push({ what: `(e) one event's gate object, a stadium node heartbeat naming 50,000 sessions: ms each`, ours: num(heartbeat.ms / heartbeat.ops, 1), nginx: "—", ratio: "—" });
  }
  const model = benchAdmissionModel(ARRIVALS_MODEL)[0]!;
  const arrivals = model.rows.find((r) => r.label.startsWith("arrivals"));
  if (arrivals) rows.push({ what: `(e) the admission model alone (no object, no storage), first access requests: decisions/s`, ours: num(arrivals.perSecond), nginx: "—", ratio: "—" });
  const serial = gate.rows.find((r) => r.calls === "admit, fresh arrivals (1 in flight)");
  const notes = [
    `(e) ${gate.title}; each admit of a fresh arrival writes its session or ticket row. One at a time: ${num(serial?.perSecond)} decisions/s. Model: ${model.title}. The heartbeat row: ${heartbeat?.ops ?? 0} reports of 50,000 ids (${ARRIVALS_DO / 2} of them live sessions, the rest unknown to the gate) through RPC from a worker beside the object, one at a time.`,
  ];
  return { rows, notes };
}

/** (f) Gate report calls of steady viewers: one viewer alone on the edge, and 100 together. */
export async function gateCallRows(p: Platform, log: (m: string) => void, seconds: number): Promise<{ rows: Row[]; notes: string[] }> {
  const leaseSeconds = 10; // the shortest lease the operator may set, so a short run spans several lease periods
  const run = async (eventId: string, viewers: number) => {
    const put = async (path: string, body: unknown) => {
      const res = await adminPut(p, path, body);
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    };
    await put(`/admin/events/${eventId}`, { title: eventId, limits: { leaseSeconds } });
    await put(`/admin/events/${eventId}/channels/main`, { title: "main", originUrl: `${p.originUrl}/live/${eventId}/ts-360p/index.m3u8`, paid: false });
    const urls = await Promise.all(Array.from({ length: viewers }, async () => (await openChannel(p, "main", eventId)).playbackUrl));
    const results = await Promise.all(urls.map((url) => pollers(url, 1, seconds, 2_000)));
    const stats = (await (await fetch(`${p.edgeUrl}/api/v1/admin/events/${eventId}/stats`, { headers: { authorization: `Bearer ${p.adminToken}` } })).json()) as {
      activeSessions: number;
      gateReportCalls: { edge: number };
    };
    const requests = results.reduce((n, r) => n + r.requests, 0);
    const failures = results.reduce((n, r) => n + r.failures, 0);
    return { calls: stats.gateReportCalls.edge, active: stats.activeSessions, requests, failures };
  };
  log(`(f) 1 and 100 steady viewers reloading every 2 s for ${seconds} s (lease ${leaseSeconds} s), counting the gate's report calls…`);
  const [one, hundred] = await Promise.all([run(`bench-lease-1-${Date.now()}`, 1), run(`bench-lease-100-${Date.now()}`, 100)]);
  const periods = seconds / leaseSeconds;
  const fails = (r: { failures: number }) => (r.failures > 0 ? ` (${r.failures} failed!)` : "");
  const rows: Row[] = [
    { what: `(f) gate calls per lease period, 1 steady viewer alone (goal ≤ 1)`, ours: num(one.calls / periods, 2) + fails(one), nginx: "—", ratio: "—" },
    { what: `(f) gate calls per lease period per viewer, 100 steady viewers on one edge`, ours: num(hundred.calls / periods / 100, 3) + fails(hundred), nginx: "—", ratio: "—" },
  ];
  const notes = [
    `(f) ${seconds} s = ${num(periods, 1)} lease periods of ${leaseSeconds} s: ${one.calls} report calls for 1 viewer (${one.requests} playlist requests, ${one.active} session active at the end), ${hundred.calls} for 100 viewers (${num(hundred.requests)} requests, ${hundred.active} active). The first activity of an event on an isolate reports at once; then one call per lease (at most one a minute for longer leases).`,
  ];
  return { rows, notes };
}
