// Many viewers at once from this Node process: a crowd asking for one segment together (row c), and
// viewers polling a live playlist every target duration (row d). Both are bounded in time.
import { Agent } from "node:http";
import { openConnection, percentile, timedGet } from "./net";

/** A viewer who waits longer than this for one segment has given up; such a response counts as failed. */
const CROWD_TIMEOUT_MS = 45_000;

export interface CrowdResult {
  /** Per-client time to the full response, ms, sorted; failed clients are left out. */
  times: number[];
  medianMs: number;
  p95Ms: number;
  /** Responses that were not 200 with exactly `expectBytes` bytes, plus request errors. */
  failures: number;
  firstError?: string;
}

/**
 * `clients` viewers of `url` (500 distinct viewers): each opens its own connection first, as a player
 * holds one, then all send their GET at once; each is timed from its request to its last body byte.
 */
export async function crowd(url: string, clients: number, expectBytes: number): Promise<CrowdResult> {
  let failures = 0;
  let firstError: string | undefined;
  const failed = (err: unknown) => {
    failures++;
    firstError ??= String(err);
    return NaN; // a failed viewer has no time to the full response
  };
  const connections = await Promise.all(Array.from({ length: clients }, () => openConnection(url, CROWD_TIMEOUT_MS).catch((err: unknown) => (failed(err), null))));
  const times = await Promise.all(
    connections.map((c) =>
      c === null
        ? NaN
        : c.get().then((r) => {
            if (r.status !== 200 || r.bytes !== expectBytes) return failed(`status ${r.status}, ${r.bytes} bytes`);
            return r.ms;
          }, failed),
    ),
  );
  const ok = times.filter((t) => Number.isFinite(t)).sort((a, b) => a - b);
  return { times: ok, medianMs: percentile(ok, 50), p95Ms: percentile(ok, 95), failures, firstError };
}

export interface PollResult {
  requests: number;
  failures: number;
}

/**
 * `viewers` players reloading `url` every `periodMs` (±10 % jitter, random first reload) for
 * `seconds`, as HLS players reload a live media playlist once per target duration.
 */
export async function pollers(url: string, viewers: number, seconds: number, periodMs: number): Promise<PollResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: viewers + 10 });
  const end = Date.now() + seconds * 1000;
  let requests = 0;
  let failures = 0;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, Math.min(ms, end - Date.now()))));
  await Promise.all(
    Array.from({ length: viewers }, async () => {
      await sleep(Math.random() * periodMs);
      while (Date.now() < end) {
        const started = Date.now();
        try {
          const r = await timedGet(url, { agent, timeoutMs: 10_000 });
          requests++;
          if (r.status !== 200) failures++;
        } catch {
          failures++;
        }
        await sleep(started + periodMs * (0.9 + Math.random() * 0.2) - Date.now());
      }
    }),
  );
  agent.destroy();
  return { requests, failures };
}
