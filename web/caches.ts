// Stadium cache discovery for the viewer: list the event's nodes, ping each with a timeout, pick a reachable one.
import { api } from "./api";

export interface StadiumNode { id: string; name: string; pingUrl: string; baseUrl: string; healthy: boolean; rttMs?: number }
export interface CacheProbe {
  /** False when the platform has no stadium-node endpoint (or it failed): the page says "not available". */
  available: boolean;
  nodes: StadiumNode[];
  /** The fastest node that answered its ping, or null (the viewer stays on the internet edge). */
  reachable: StadiumNode | null;
}

const PING_TIMEOUT_MS = 1500;

/** Lists the event's stadium nodes and pings them in parallel. */
export async function probeCaches(eventId: string): Promise<CacheProbe> {
  let nodes: StadiumNode[];
  try {
    nodes = (await api<StadiumNode[]>(`/events/${encodeURIComponent(eventId)}/caches`)).body;
    if (!Array.isArray(nodes)) return { available: false, nodes: [], reachable: null };
  } catch {
    return { available: false, nodes: [], reachable: null };
  }
  const pinged = await Promise.all(nodes.map(async (n) => ({ ...n, rttMs: n.healthy === false ? undefined : await ping(n.pingUrl) })));
  const reachable = pinged.filter((n) => n.rttMs !== undefined).sort((a, b) => a.rttMs! - b.rttMs!)[0] ?? null;
  return { available: true, nodes: pinged, reachable };
}

/** Round-trip time in ms, or undefined when the node did not answer in time. */
async function ping(url: string): Promise<number | undefined> {
  const started = performance.now();
  for (const mode of ["cors", "no-cors"] as const) {
    try {
      const res = await fetch(url, { mode, cache: "no-store", signal: AbortSignal.timeout(PING_TIMEOUT_MS) });
      // An opaque answer (no-cors) still proves the node is reachable from this network.
      if (res.ok || res.type === "opaque") return Math.round(performance.now() - started);
      return undefined;
    } catch (err) {
      // A CORS refusal looks like a network error: try once more without reading the answer. A timeout ends it.
      if ((err as Error)?.name === "TimeoutError" || (err as Error)?.name === "AbortError") return undefined;
    }
  }
  return undefined;
}
