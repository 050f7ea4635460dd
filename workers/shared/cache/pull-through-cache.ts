// The coalescing pull-through cache every tier uses (origin shield, edge, stadium node): one upstream
// load per key at a time, streamed to every concurrent reader, then kept in a byte-bounded window.
import type { Progress } from "../playback/counted-body";
import { ByteLru } from "./byte-lru";
import { awaitShared } from "./await-shared";
import { FanoutBody } from "./fanout";
import type { Failure } from "../errors";

/**
 * A complete body held in memory. It is kept as a Blob: workerd sends a Blob body without copying it,
 * while a Uint8Array body is copied into every response (at 1 MB that copy was most of a hit's cost).
 */
export interface StoredObject {
  readonly body: Blob;
  readonly contentType: string;
  /** For a playlist whose kind the upstream said: multivariant or media (index.m3u8 may be either). */
  readonly playlistKind?: PlaylistKind;
  /** The lowest BANDWIDTH of a variant that reaches it, when above 0: a viewer capped below it is refused. */
  readonly bandwidth?: number;
  readonly size: number;
  /** When it stops being served (ms since epoch). */
  readonly expiresAt: number;
}

export type PlaylistKind = "media" | "multivariant";

/** What an upstream load yields: a streaming body with its metadata, or a failure to report. */
export type UpstreamResult =
  | { ok: true; contentType: string; body: ReadableStream<Uint8Array>; ttlMs: number; length?: number; playlistKind?: PlaylistKind; bandwidth?: number }
  | { ok: false; failure: Failure; ttlMs: number };

/** What a reader gets: the stored body (a hit), a body still streaming in (a miss), or the failure. */
export type CacheRead = StoredRead | StreamingRead | { ok: false; failure: Failure };

/** A hit: the whole body is in memory, no waiting at all. */
export interface StoredRead {
  ok: true;
  hit: true;
  contentType: string;
  playlistKind?: PlaylistKind;
  bandwidth?: number;
  length: number;
  expiresAt: number;
  body: Blob;
  stream(): ReadableStream<Uint8Array>;
}

/** A miss: the body follows the upstream load, which every concurrent reader shares. */
export interface StreamingRead {
  ok: true;
  hit: false;
  contentType: string;
  playlistKind?: PlaylistKind;
  bandwidth?: number;
  length?: number;
  expiresAt: number;
  stream(): ReadableStream<Uint8Array>;
  /** Writes the body, from byte 0, into `writable` as it arrives (see FanoutBody.writeTo); `progress.sent` counts what the connection took. */
  writeTo(writable: WritableStream<Uint8Array>, progress?: Progress): Promise<void>;
  /** The whole body if it has arrived by now (a response can then be sent like a hit), else null. */
  completed(): Blob | null;
  complete: Promise<Uint8Array>;
}

interface Inflight {
  readonly result: UpstreamResult;
  readonly fanout?: FanoutBody;
}

/** A load in progress: what the request that started it awaits, and what every other reader awaits. */
interface Loading {
  readonly leader: Promise<Inflight>;
  readonly joiners: Promise<Inflight>;
}

/**
 * How long readers who joined a load wait for the whole body after the upstream's headers, before they
 * start streaming it. Woken at the headers, 500 joiners each built a streaming response while the body
 * itself waited behind them on the worker's one thread; woken when it is whole, each is sent one Blob
 * natively, as a hit is. A body slower than this streams to them as it arrives.
 */
const JOINER_HOLD_MS = 20;

export interface PullThroughCacheOptions {
  /** Bytes of complete bodies kept in memory. */
  maxBytes: number;
  /** Bodies larger than this fail with origin_error rather than exhaust memory. */
  maxObjectBytes: number;
}

/** A coalescing, byte-bounded pull-through cache. */
export class PullThroughCache {
  private readonly window: ByteLru<StoredObject>;
  private readonly failures = new Map<string, { failure: Failure; until: number }>();
  private readonly inflight = new Map<string, Loading>();
  /** Upstream loads started, for stats and tests. */
  loads = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly options: PullThroughCacheOptions) {
    this.window = new ByteLru(options.maxBytes);
  }

  /** The stored object for `key`, if complete and fresh. The cheapest possible read: no promise. */
  peek(key: string, now: number): StoredObject | undefined {
    return this.window.get(key, now);
  }

  /**
   * Reads `key`, calling `load` only when nothing is stored, running or recently failed for it.
   * Every caller during a load reads the same upstream body from its first byte.
   */
  async read(key: string, now: number, load: () => Promise<UpstreamResult>): Promise<CacheRead> {
    const stored = this.window.get(key, now);
    if (stored) {
      this.hits++;
      return storedRead(stored);
    }
    const failed = this.failures.get(key);
    if (failed) {
      if (failed.until > now) return { ok: false, failure: failed.failure };
      this.failures.delete(key);
    }
    this.misses++;
    let loading = this.inflight.get(key);
    let joined = true;
    if (!loading) {
      const leader = this.start(key, load);
      // Made here, by the request that runs the load: the hold's timer is that request's own.
      loading = { leader, joiners: leader.then(holdForBody) };
      this.inflight.set(key, loading);
      joined = false;
    }
    const { result, fanout } = joined ? await awaitShared(loading.joiners) : await loading.leader;
    if (!result.ok) return { ok: false, failure: result.failure };
    const f = fanout!;
    return {
      ok: true,
      hit: false,
      contentType: result.contentType,
      ...(result.playlistKind ? { playlistKind: result.playlistKind } : {}),
      ...(result.bandwidth ? { bandwidth: result.bandwidth } : {}),
      length: result.length,
      expiresAt: now + result.ttlMs,
      stream: () => f.reader(),
      writeTo: (writable, progress) => f.writeTo(writable, progress),
      completed: () => f.blob,
      complete: f.complete,
    };
  }

  private async start(key: string, load: () => Promise<UpstreamResult>): Promise<Inflight> {
    this.loads++;
    let result: UpstreamResult;
    try {
      result = await load();
    } catch (err) {
      result = { ok: false, failure: { code: "origin_error", detail: String(err) }, ttlMs: 1000 };
    }
    if (!result.ok) {
      this.inflight.delete(key);
      if (result.ttlMs > 0) {
        // Bounded: a flood of distinct failing keys must not grow memory without limit.
        if (this.failures.size >= 10_000) this.failures.clear();
        this.failures.set(key, { failure: result.failure, until: Date.now() + result.ttlMs });
      }
      return { result };
    }
    const fanout = new FanoutBody(result.body, this.options.maxObjectBytes);
    const ttlMs = result.ttlMs;
    const contentType = result.contentType;
    const { playlistKind, bandwidth } = result;
    fanout.complete.then(
      (body) => {
        this.inflight.delete(key);
        const expiresAt = Date.now() + ttlMs;
        if (ttlMs > 0) {
          const stored = { body: fanout.blob ?? new Blob([body]), contentType, size: body.byteLength, expiresAt, ...(playlistKind ? { playlistKind } : {}), ...(bandwidth ? { bandwidth } : {}) };
          this.window.set(key, stored, expiresAt);
        }
      },
      () => this.inflight.delete(key),
    );
    return { result, fanout };
  }

  /** Whether a load for `key` is running now. */
  isLoading(key: string): boolean {
    return this.inflight.has(key);
  }

  clear(): void {
    this.window.clear();
    this.failures.clear();
  }

  get storedBytes(): number {
    return this.window.totalBytes;
  }
}

/** Resolves with `inflight` once its body is whole, or JOINER_HOLD_MS after its headers, whichever is first. */
function holdForBody(inflight: Inflight): Promise<Inflight> {
  const fanout = inflight.fanout;
  if (!fanout || fanout.blob) return Promise.resolve(inflight);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(inflight), JOINER_HOLD_MS);
    const done = () => {
      clearTimeout(timer);
      resolve(inflight);
    };
    fanout.complete.then(done, done);
  });
}

/** A stored object as a read: what a hit found by `peek` is served from. */
export function storedRead(o: StoredObject): StoredRead {
  return new Hit(o);
}

// A class rather than an object literal: a hit then allocates one object, not a closure per read as well.
class Hit implements StoredRead {
  readonly ok = true;
  readonly hit = true;
  readonly contentType: string;
  readonly playlistKind?: PlaylistKind;
  readonly bandwidth?: number;
  readonly length: number;
  readonly expiresAt: number;
  readonly body: Blob;
  constructor(o: StoredObject) {
    this.contentType = o.contentType;
    if (o.playlistKind) this.playlistKind = o.playlistKind;
    if (o.bandwidth) this.bandwidth = o.bandwidth;
    this.length = o.size;
    this.expiresAt = o.expiresAt;
    this.body = o.body;
  }
  stream(): ReadableStream<Uint8Array> {
    return this.body.stream();
  }
}
