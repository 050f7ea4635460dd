// What a node reports in its heartbeats: viewers seen lately, bytes served, hit ratio, upstream fetches per key.
import type { PullThroughCache } from "../shared/pull-through-cache";

/** A viewer counts as active this long after its last request (a few playlist reloads). */
const ACTIVE_MS = 30_000;
const MAX_TRACKED_KEYS = 20_000;

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
  storedBytes: number;
}

export class NodeCounters {
  private readonly viewers = new Map<string, number>();
  private readonly segmentFetches = new Map<string, number>();
  private bytes = 0;
  private requests = 0;
  private segmentRequests = 0;
  private playlistRequests = 0;
  private hits = 0;
  private misses = 0;
  private segmentUpstream = 0;
  private playlistUpstream = 0;

  viewer(sessionId: string, now: number): void {
    if (this.viewers.size > 200_000) this.prune(now);
    this.viewers.set(sessionId, now);
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

  snapshot(now: number, cache: PullThroughCache | null): NodeStats {
    this.prune(now);
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
      storedBytes: cache?.storedBytes ?? 0,
    };
  }

  private prune(now: number): void {
    for (const [id, t] of this.viewers) if (now - t > ACTIVE_MS) this.viewers.delete(id);
  }
}
