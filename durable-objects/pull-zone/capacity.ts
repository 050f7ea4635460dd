// A stadium node's capacity (pure): how many reported bytes it could have carried, and when it is full.

/** Applied when neither the operator nor the node gave a capacity: a 100 Gbit/s link, more than any box has. */
export const DEFAULT_CAPACITY_MBPS = 100_000;
/** At this share of its capacity a node takes no new viewers... */
export const FULL_AT = 0.9;
/** ...until it is back under this share (so a node at the edge of full does not flap every heartbeat). */
export const ROOM_BELOW = 0.8;
/** Slack on the interval: the node's counting window and the platform's arrival times differ by the network's jitter. */
const SLACK_MS = 1_000;

/** The most bytes a node of this capacity could have served in `elapsedMs` (plus the slack). */
export function egressAllowance(capacityMbps: number | null, elapsedMs: number): number {
  const bytesPerMs = ((capacityMbps ?? DEFAULT_CAPACITY_MBPS) * 1e6) / 8 / 1000;
  return Math.floor(bytesPerMs * (Math.max(0, elapsedMs) + SLACK_MS));
}

/** The egress rate is smoothed over about this long: segments come in bursts, and one quiet second is not room. */
export const RATE_TAU_MS = 10_000;

/** The node's egress rate after an interval of `elapsedMs` in which it served `bytes` (an exponential moving average). */
export function smoothedRate(previousBps: number, bytes: number, elapsedMs: number): number {
  if (elapsedMs < 100) return previousBps; // a heartbeat right after another says nothing about a rate
  const instant = (bytes * 8 * 1000) / elapsedMs;
  const weight = 1 - Math.exp(-elapsedMs / RATE_TAU_MS);
  return previousBps + (instant - previousBps) * weight;
}

export interface Fullness {
  fullSince: number | null;
}

/** Full from the first interval at 90 % of capacity or more, until an interval under 80 %. A node without a capacity is never full. */
export function fullnessAfter(state: Fullness, egressBps: number, capacityMbps: number | null, now: number): Fullness {
  if (capacityMbps === null) return { fullSince: null };
  const share = egressBps / (capacityMbps * 1e6);
  if (share >= FULL_AT) return { fullSince: state.fullSince ?? now };
  if (share < ROOM_BELOW) return { fullSince: null };
  return state;
}
