// Simulation of sharded admission (durable-objects/event-gate/shards.ts): a million viewers arriving
// within two minutes at one event split over 16 gate shards and a coordinator, in simulated time.
// `npm run bench` row (h); alone: `BENCH_ROWS=h npm run bench` or `npx tsx bench/admission-shards.ts`.
import { pathToFileURL } from "node:url";
import { DEFAULT_LEASE_SECONDS } from "../durable-objects/event-gate/model";
import { COORDINATOR_INTERVAL_MS, Coordinator, coordinateInProcess, ShardGate, shardOf, type ShardDecision } from "../durable-objects/event-gate/shards";
import { num, type Row } from "./lib/table";

export interface SimulationOptions {
  arrivals: number;
  /** Arrivals come within this many seconds: a triangle rising to its peak at `peakSecond`, then falling. */
  arrivalSeconds: number;
  peakSecond: number;
  /** The run goes on this long after the last arrival, so queued viewers reach the front. */
  tailSeconds: number;
  maxSessions: number;
  shards: number;
  /** Mean watching time of an admitted viewer (exponential): who leaves, and when. */
  meanSessionSeconds: number;
  /** Mean patience of a queued viewer (exponential): past it the viewer stops polling and its ticket drops. */
  meanPatienceSeconds: number;
  /** Edge isolates that each report a shard's sessions once per lease period (not simulated one by one). */
  edgeIsolates: number;
  seed: number;
}

export const DEFAULT_SIMULATION: SimulationOptions = {
  arrivals: 1_000_000,
  arrivalSeconds: 120,
  peakSecond: 40,
  tailSeconds: 60,
  maxSessions: 500_000,
  shards: 16,
  meanSessionSeconds: 1_200,
  meanPatienceSeconds: 300,
  edgeIsolates: 1_000,
  seed: 17,
};

/**
 * One object's measured capacity, README row (e), `npm run bench` on 2026-12-05 09:27 UTC (2-CPU
 * machine, EventGate in workerd with SQLite storage, 50 calls in flight): decisions per second by kind.
 */
export const MEASURED_OBJECT_RATES = { arrivals: 4_006, polls: 30_488, reports: 1_765 } as const;

export interface SimulationResult {
  options: SimulationOptions;
  /** Most slots ever taken at once over every shard (sessions plus admitted tickets awaiting pickup). */
  peakTaken: number;
  /** How far over maxSessions the slots taken ever went (must be 0). */
  overCap: number;
  /** Most slots the coordinator ever allowed out, and the most the shards ever held, at once. */
  peakAllocated: number;
  peakHeld: number;
  grantedAtOnce: number;
  queuedTotal: number;
  admittedFromQueue: number;
  abandoned: number;
  left: number;
  /** Largest (arrival of an admitted viewer − arrival of the oldest viewer then still waiting), seconds. */
  maxInversionSeconds: number;
  /** |first estimate − wait until the granted answer|, seconds, over queued viewers granted within the run. */
  waitErrorMedian: number;
  waitErrorP95: number;
  waitSignedMedian: number;
  waitMeasured: number;
  actualWaitMedian: number;
  /** Calls one shard took in its busiest simulated second, by kind. */
  peakCalls: { total: number; arrivals: number; polls: number; releases: number; coordinator: number; reports: number; shard: number; second: number };
  /** The busiest shard-second as a share of one object's measured capacity (1 = saturated). */
  peakLoad: number;
  wallMs: number;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Inverse CDF of the triangle on [0, w] peaking at c, in ms. */
function triangle(u: number, w: number, c: number): number {
  return (u < c / w ? Math.sqrt(u * w * c) : w - Math.sqrt((1 - u) * w * (w - c))) * 1000;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const WAITING = 1;
const PLAYING = 2;
const GONE = 3;
/** The event wheel's resolution. */
const SLOT_MS = 10;

export function simulateShardedAdmission(o: SimulationOptions = DEFAULT_SIMULATION): SimulationResult {
  const started = performance.now();
  const rand = mulberry32(o.seed);
  const N = o.arrivals;
  const endMs = (o.arrivalSeconds + o.tailSeconds) * 1000;
  const seconds = o.arrivalSeconds + o.tailSeconds;

  // Viewers: arrival (sorted, stratified), shard by hash of the client id, patience, state.
  const arrival = new Float64Array(N);
  for (let i = 0; i < N; i++) arrival[i] = triangle((i + rand()) / N, o.arrivalSeconds, o.peakSecond);
  const shardOfViewer = new Uint8Array(N);
  for (let i = 0; i < N; i++) shardOfViewer[i] = shardOf(`client-${i}`, o.shards);
  const state = new Uint8Array(N);
  const firstEstimate = new Float64Array(N).fill(-1);
  const giveUpAt = new Float64Array(N);
  const errors: number[] = [];
  const signed: number[] = [];
  const waits: number[] = [];

  // Per shard-second call counts.
  const cell = (shard: number, at: number) => shard * seconds + Math.min(seconds - 1, Math.floor(at / 1000));
  const calls = { arrivals: new Int32Array(o.shards * seconds), polls: new Int32Array(o.shards * seconds), releases: new Int32Array(o.shards * seconds), coordinator: new Int32Array(o.shards * seconds), reports: new Float64Array(o.shards * seconds) };

  let inRound = false;
  let pendingRound: number[] = [];
  let maxInversion = 0;
  const gates: ShardGate[] = [];
  const oldestWaiting = () => {
    let oldest = Infinity;
    for (const g of gates) {
      const a = g.oldestWaiting();
      if (a !== null && a < oldest) oldest = a;
    }
    return oldest;
  };
  const onAdmit = (_ticket: string | null, arrivedAt: number) => {
    if (inRound) pendingRound.push(arrivedAt);
    else maxInversion = Math.max(maxInversion, arrivedAt - oldestWaiting());
  };
  for (let s = 0; s < o.shards; s++) gates.push(new ShardGate(s, { onAdmit }));
  const coordinator = new Coordinator(o.shards, o.maxSessions);

  // The event wheel: which viewers act in each 10 ms slot (poll when waiting, leave when playing).
  const wheel: number[][] = Array.from({ length: Math.ceil(endMs / SLOT_MS) + 1 }, () => []);
  const schedule = (i: number, at: number) => {
    if (at >= endMs) return;
    wheel[Math.floor(at / SLOT_MS)]!.push(i);
  };

  let taken = 0;
  let peakTaken = 0;
  let peakAllocated = 0;
  let peakHeld = 0;
  let queuedTotal = 0;
  let admittedFromQueue = 0;
  let abandoned = 0;
  let left = 0;
  let currentViewer = 0;
  const newTicket = () => `t${currentViewer}`;
  const newSessionId = () => `s${currentViewer}`;
  const patience = () => -o.meanPatienceSeconds * 1000 * Math.log(1 - rand());

  const handle = (i: number, d: ShardDecision, now: number) => {
    if (d.status === "granted") {
      state[i] = PLAYING;
      if (firstEstimate[i]! >= 0) {
        admittedFromQueue++;
        const actual = (now - arrival[i]!) / 1000;
        waits.push(actual);
        errors.push(Math.abs(firstEstimate[i]! - actual));
        signed.push(firstEstimate[i]! - actual);
      }
      schedule(i, now - o.meanSessionSeconds * 1000 * Math.log(1 - rand()));
    } else if (d.status === "queued") {
      if (firstEstimate[i]! < 0) {
        firstEstimate[i] = d.estimatedWaitSeconds;
        queuedTotal++;
        // Patience is drawn once, at the first answer: past it the viewer polls no more.
        giveUpAt[i] = arrival[i]! + patience();
      }
      const next = now + d.retryAfterSeconds * 1000;
      if (next > giveUpAt[i]!) {
        state[i] = GONE;
        abandoned++;
      } else {
        state[i] = WAITING;
        schedule(i, next);
      }
    } else {
      state[i] = GONE;
    }
  };
  const observe = (shard: number, before: number) => {
    taken += gates[shard]!.taken - before;
    if (taken > peakTaken) peakTaken = taken;
  };

  let next = 0;
  let nextRound = 0;
  for (let slot = 0; slot * SLOT_MS < endMs; slot++) {
    const slotStart = slot * SLOT_MS;
    if (slotStart >= nextRound) {
      inRound = true;
      pendingRound = [];
      const perShard = coordinateInProcess(coordinator, gates, nextRound);
      inRound = false;
      const oldest = oldestWaiting();
      for (const a of pendingRound) maxInversion = Math.max(maxInversion, a - oldest);
      taken = gates.reduce((a, g) => a + g.taken, 0);
      peakTaken = Math.max(peakTaken, taken);
      peakAllocated = Math.max(peakAllocated, coordinator.allocated);
      peakHeld = Math.max(peakHeld, gates.reduce((a, g) => a + g.held, 0));
      for (let s = 0; s < o.shards; s++) {
        calls.coordinator[cell(s, nextRound)]! += perShard[s]!;
        // Each edge isolate serving a shard's viewers reports once per lease period.
        calls.reports[cell(s, nextRound)]! += (Math.min(o.edgeIsolates, gates[s]!.taken) / DEFAULT_LEASE_SECONDS) * (COORDINATOR_INTERVAL_MS / 1000);
      }
      nextRound += COORDINATOR_INTERVAL_MS;
    }
    // Polls and departures due in this slot.
    const due = wheel[slot]!;
    wheel[slot] = [];
    for (const i of due) {
      const s = shardOfViewer[i]!;
      const g = gates[s]!;
      const before = g.taken;
      currentViewer = i;
      if (state[i] === WAITING) {
        calls.polls[cell(s, slotStart)]!++;
        handle(i, g.poll({ ticket: `t${i}`, now: slotStart, newSessionId }), slotStart);
      } else if (state[i] === PLAYING) {
        calls.releases[cell(s, slotStart)]!++;
        g.release(`s${i}`, slotStart);
        state[i] = GONE;
        left++;
      }
      observe(s, before);
    }
    // Arrivals in this slot, at their own times.
    const slotEnd = slotStart + SLOT_MS;
    for (; next < N && arrival[next]! < slotEnd; next++) {
      const i = next;
      const s = shardOfViewer[i]!;
      const g = gates[s]!;
      const before = g.taken;
      currentViewer = i;
      calls.arrivals[cell(s, arrival[i]!)]!++;
      handle(i, g.arrive({ now: arrival[i]!, newTicket, newSessionId }), arrival[i]!);
      observe(s, before);
    }
  }

  // The busiest shard-second, by calls and by load against one object's measured capacity.
  let peak = { total: 0, arrivals: 0, polls: 0, releases: 0, coordinator: 0, reports: 0, shard: 0, second: 0 };
  let peakLoad = 0;
  for (let s = 0; s < o.shards; s++) {
    for (let sec = 0; sec < seconds; sec++) {
      const k = s * seconds + sec;
      const c = { arrivals: calls.arrivals[k]!, polls: calls.polls[k]!, releases: calls.releases[k]!, coordinator: calls.coordinator[k]!, reports: Math.ceil(calls.reports[k]!) };
      const total = c.arrivals + c.polls + c.releases + c.coordinator + c.reports;
      if (total > peak.total) peak = { total, ...c, shard: s, second: sec };
      // Releases write like arrivals; coordinator calls are costed like edge reports.
      const load = (c.arrivals + c.releases) / MEASURED_OBJECT_RATES.arrivals + c.polls / MEASURED_OBJECT_RATES.polls + (c.reports + c.coordinator) / MEASURED_OBJECT_RATES.reports;
      peakLoad = Math.max(peakLoad, load);
    }
  }
  const sorted = (xs: number[]) => Float64Array.from(xs).sort();
  const err = sorted(errors);
  return {
    options: o,
    peakTaken,
    overCap: Math.max(0, peakTaken - o.maxSessions),
    peakAllocated,
    peakHeld,
    grantedAtOnce: taken,
    queuedTotal,
    admittedFromQueue,
    abandoned,
    left,
    maxInversionSeconds: maxInversion / 1000,
    waitErrorMedian: percentile(err, 50),
    waitErrorP95: percentile(err, 95),
    waitSignedMedian: percentile(sorted(signed), 50),
    waitMeasured: errors.length,
    actualWaitMedian: percentile(sorted(waits), 50),
    peakCalls: peak,
    peakLoad,
    wallMs: performance.now() - started,
  };
}

/** Fresh-arrival decisions per second of one ShardGate in this Node process: half granted, half queued. */
export function measureShardDecisions(arrivals = 200_000): number {
  const run = () => {
    const gate = new ShardGate(0);
    const coordinator = new Coordinator(1, arrivals / 2);
    coordinateInProcess(coordinator, [gate], 0);
    let n = 0;
    const ids = { newTicket: () => `t${++n}`, newSessionId: () => `s${++n}` };
    const t0 = performance.now();
    for (let i = 0; i < arrivals; i++) gate.arrive({ now: (i * 1000) / arrivals, ...ids });
    return (arrivals / (performance.now() - t0)) * 1000;
  };
  run(); // JIT warm-up
  return run();
}

/** Row (h) of `npm run bench`. */
export function shardSimulationRows(log: (m: string) => void): { rows: Row[]; notes: string[] } {
  const o = DEFAULT_SIMULATION;
  log(`(h) simulating ${num(o.arrivals)} arrivals in ${o.arrivalSeconds} s against maxSessions ${num(o.maxSessions)} over ${o.shards} shards…`);
  const r = simulateShardedAdmission(o);
  const modelRate = measureShardDecisions();
  const perObject = MEASURED_OBJECT_RATES.arrivals;
  const p = r.peakCalls;
  const what = `(h) simulation, ${num(o.arrivals)} arrivals in ${o.arrivalSeconds} s, maxSessions ${num(o.maxSessions)}, ${o.shards} shards`;
  const row = (label: string, value: string): Row => ({ what: `${what}: ${label}`, ours: value, nginx: "—", ratio: "—" });
  const rows: Row[] = [
    row("granted over the cap at any step (must be 0)", num(r.overCap)),
    row("largest FIFO inversion, s (goal ≤ 1)", num(r.maxInversionSeconds, 3)),
    row("wait estimate error, median / p95, s", `${num(r.waitErrorMedian, 1)} / ${num(r.waitErrorP95, 1)}`),
    row("calls per shard object per second, peak", num(p.total)),
    row("peak shard load as a share of one object's measured capacity", num(r.peakLoad, 2)),
    row(`projected arrivals per second (${num(perObject)} per object, README row (e), × ${o.shards})`, num(perObject * o.shards)),
  ];
  const notes = [
    `(h) Simulated, not run on objects: the pure ShardGate and Coordinator (durable-objects/event-gate/shards.ts) in one Node process, ${o.arrivalSeconds + o.tailSeconds} s of simulated time in ${num(r.wallMs / 1000, 1)} s. ` +
      `Arrivals rise to a peak at ${o.peakSecond} s and fall to ${o.arrivalSeconds} s (triangle; ${num((2 * o.arrivals) / o.arrivalSeconds)} a second at the peak), each to shard FNV-1a(client id) mod ${o.shards}; ` +
      `assumed, not measured: admitted viewers watch an exponential ${o.meanSessionSeconds / 60} min on average and release their slot when they leave; queued viewers poll at the retry interval given and give up after an exponential ${o.meanPatienceSeconds / 60} min on average (their ticket drops after twice its retry interval); the coordinator runs every ${COORDINATOR_INTERVAL_MS / 1000} s; ${num(o.edgeIsolates)} edge isolates each report a shard once per ${DEFAULT_LEASE_SECONDS} s lease.`,
    `(h) Outcome: at most ${num(r.peakTaken)} slots taken at once (sessions plus admitted tickets not yet picked up; the coordinator allowed out at most ${num(r.peakAllocated)}, the shards held at most ${num(r.peakHeld)}); ${num(r.queuedTotal)} viewers queued, ${num(r.admittedFromQueue)} of them granted within the run (median wait ${num(r.actualWaitMedian, 1)} s), ${num(r.abandoned)} gave up, ${num(r.left)} left after watching. ` +
      `Wait error = |first estimate − time to the granted answer| over those ${num(r.waitMeasured)} granted (signed median ${num(r.waitSignedMedian, 1)} s; viewers still queued at the end are not counted). FIFO inversion: at every admission, its arrival minus the oldest arrival then still waiting in any shard; a coordinator round's calls count as one instant.`,
    `(h) Busiest shard-second: shard ${p.shard} at ${p.second} s, ${num(p.arrivals)} arrivals + ${num(p.polls)} polls + ${num(p.releases)} releases + ${num(p.coordinator)} coordinator calls + ${num(p.reports)} edge reports. ` +
      `Load = (arrivals + releases) ÷ ${num(MEASURED_OBJECT_RATES.arrivals)} + polls ÷ ${num(MEASURED_OBJECT_RATES.polls)} + (reports + coordinator calls) ÷ ${num(MEASURED_OBJECT_RATES.reports)}, one EventGate object's rates from README row (e) (2026-12-05, workerd with SQLite storage, 50 calls in flight), not re-measured here. ` +
      `The projection multiplies README row (e)'s ${num(perObject)} first accesses per second by ${o.shards}; the pure ShardGate alone decided ${num(modelRate)} fresh arrivals per second in this process (a ceiling without object or storage).`,
  ];
  return { rows, notes };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { rows, notes } = shardSimulationRows((m) => console.error(m));
  for (const r of rows) console.log(`${r.what}: ${r.ours}`);
  for (const n of notes) console.log(`- ${n}`);
}
