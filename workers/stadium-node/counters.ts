// What a node reports in its heartbeats: viewers seen lately, bytes served, hit ratio, upstream fetches per key.

/** A viewer counts as active this long after its last request (a few playlist reloads). */
const ACTIVE_MS = 30_000;
const MAX_TRACKED_KEYS = 20_000;
/** Sessions named in one heartbeat at most (the platform accepts this many). */
export const MAX_REPORTED_SESSIONS = 100_000;

export interface NodeStats {
  activeViewers: number;
  /** Bytes served to viewers since the node started (the launcher sends differences). */
  bytesServed: number;
  requests: number;
  segmentRequests: number;
  playlistRequests: number;
  hits: number;
  misses: number;
  cacheHitRatio: number | null;
  /** Upstream fetches of segments, and of the segment fetched most often (1 when coalescing works). */
  segmentUpstreamFetches: number;
  distinctSegments: number;
  maxFetchesPerSegment: number;
  playlistUpstreamFetches: number;
  /** Misses asked of the owner process, not of the platform (a node of several processes). */
  peerFetches: number;
  storedBytes: number;
  /** When this snapshot was taken: the `since` of the next one. */
  at: number;
  /** Sessions that played since `since`, by event: the heartbeat renews their leases. */
  sessionsByEvent: Record<string, string[]>;
}

export class NodeCounters {
  private readonly viewers = new Map<string, { eventId: string; at: number }>();
  private readonly segmentFetches = new Map<string, number>();
  private bytes = 0;
  private requests = 0;
  private segmentRequests = 0;
  private playlistRequests = 0;
  private hits = 0;
  private misses = 0;
  private segmentUpstream = 0;
  private playlistUpstream = 0;
  private peerFetches = 0;

  viewer(sessionId: string, eventId: string, now: number): void {
    if (this.viewers.size > 200_000) this.prune(now);
    const v = this.viewers.get(sessionId);
    if (v) {
      v.at = now;
      v.eventId = eventId;
    } else this.viewers.set(sessionId, { eventId, at: now });
  }

  upstream(key: string, playlist: boolean): void {
    if (playlist) {
      this.playlistUpstream++;
      return;
    }
    this.segmentUpstream++;
    if (this.segmentFetches.size >= MAX_TRACKED_KEYS) this.segmentFetches.clear();
    this.segmentFetches.set(key, (this.segmentFetches.get(key) ?? 0) + 1);
  }

  /** A miss this process asked the key's owner process for (a node of several processes). */
  peerFetch(): void {
    this.peerFetches++;
  }

  /** Bytes of a segment's body that left for a viewer (served() counted the request with 0 bytes). */
  sent(bytes: number): void {
    this.bytes += bytes;
  }

  served(playlist: boolean, hit: boolean, bytes: number): void {
    this.requests++;
    this.bytes += bytes;
    if (playlist) {
      this.playlistRequests++;
      return;
    }
    this.segmentRequests++;
    if (hit) this.hits++;
    else this.misses++;
  }

  /** The counters, with the sessions seen at or after `since` (ms; none when absent). */
  snapshot(now: number, storedBytes: number, since?: number): NodeStats {
    this.prune(now);
    const sessionsByEvent: Record<string, string[]> = {};
    if (since !== undefined) {
      let n = 0;
      for (const [id, v] of this.viewers) {
        if (v.at < since) continue;
        if (++n > MAX_REPORTED_SESSIONS) break;
        (sessionsByEvent[v.eventId] ??= []).push(id);
      }
    }
    let max = 0;
    for (const n of this.segmentFetches.values()) max = Math.max(max, n);
    const segs = this.hits + this.misses;
    return {
      activeViewers: this.viewers.size,
      bytesServed: this.bytes,
      requests: this.requests,
      segmentRequests: this.segmentRequests,
      playlistRequests: this.playlistRequests,
      hits: this.hits,
      misses: this.misses,
      cacheHitRatio: segs > 0 ? (segs - this.segmentUpstream) / segs : null,
      segmentUpstreamFetches: this.segmentUpstream,
      distinctSegments: this.segmentFetches.size,
      maxFetchesPerSegment: max,
      playlistUpstreamFetches: this.playlistUpstream,
      peerFetches: this.peerFetches,
      storedBytes,
      at: now,
      sessionsByEvent,
    };
  }

  private prune(now: number): void {
    for (const [id, v] of this.viewers) if (now - v.at > ACTIVE_MS) this.viewers.delete(id);
  }
}
