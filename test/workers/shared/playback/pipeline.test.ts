// The playback pipeline every tier runs (workers/shared/playback/pipeline.ts), driven through a small tier of
// the test's own: what a player sees for tokens, ended sessions, methods, HEAD, Range and personal playlists,
// and what the tier is told to count.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { playbackCacheKey, playbackEntry, type PlaybackTier, type ServedRead } from "../../../../workers/shared/playback/pipeline";
import { parseSigningKey, parseVerifyKeys, signPlaybackToken, type PlaybackClaims } from "../../../../workers/shared/playback/token";
import { PullThroughCache, type UpstreamResult } from "../../../../workers/shared/cache/pull-through-cache";
import { singleChunk } from "../../../../workers/shared/playback/response";

const signingKey = parseSigningKey(env.PLAYBACK_SIGNING_KEY);
const verifyKeys = parseVerifyKeys(env.PLAYBACK_VERIFY_KEYS);
const SEGMENT = new Uint8Array(1000).map((_, i) => i % 251);
const PLAYLIST = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg-1.ts\n";

interface Recorded {
  key: string;
  bytes: number;
  hit: boolean;
}

/** A tier over an in-memory upstream: counts loads, records what the pipeline reports. */
function testTier(o: { ended?: Set<string>; personal?: (read: ServedRead) => Response | null } = {}) {
  const recorded: Recorded[] = [];
  const loads: string[] = [];
  const cache = new PullThroughCache({ maxBytes: 1 << 20, maxObjectBytes: 1 << 20 });
  const tier: PlaybackTier<unknown> = {
    verifyKeys: () => verifyKeys,
    accept(claims) {
      if (claims.e === "foreign") throw new (class extends Error {})("unexpected");
      // What workerd throws when a Durable Object is reset or unreachable.
      if (claims.e === "reset") throw Object.assign(new Error("Durable Object reset because its code was updated."), { retryable: true });
    },
    hasEnded: (s) => o.ended?.has(s) ?? false,
    cache: () => cache,
    steering: async () => Response.json({ VERSION: 1, TTL: 5, "PATHWAY-PRIORITY": ["edge"] }),
    route(req) {
      const cacheKey = playbackCacheKey(req.claims, req.key);
      return {
        cacheKey,
        load: async (): Promise<UpstreamResult> => {
          loads.push(cacheKey);
          if (req.key.startsWith("missing")) return { ok: false, failure: { code: "not_found" }, ttlMs: 0 };
          if (req.key.startsWith("broken")) {
            // The origin's body fails after its first bytes.
            const body = new ReadableStream<Uint8Array>({
              start(c) {
                c.enqueue(SEGMENT.slice(0, 100));
                setTimeout(() => c.error(new Error("connection reset")), 5);
              },
            });
            return { ok: true, contentType: "video/mp2t", body, length: 1000, ttlMs: 60_000 };
          }
          const bytes = req.playlist ? new TextEncoder().encode(PLAYLIST) : SEGMENT;
          // hd/: a rendition whose variant needs 2 Mbit/s, as the origin shield reports it.
          const bandwidth = req.key.startsWith("hd/") ? { bandwidth: 2_000_000 } : {};
          return { ok: true, contentType: req.playlist ? "application/vnd.apple.mpegurl" : "video/mp2t", body: singleChunk(bytes), length: bytes.byteLength, ttlMs: 60_000, ...bandwidth };
        },
        ...(o.personal ? { personalise: async (read: ServedRead) => o.personal!(read) } : {}),
      };
    },
    record: (req, read, bytes) => recorded.push({ key: req.key, bytes, hit: read.hit }),
  };
  const fetch = playbackEntry(tier, () => new Response("other", { status: 299 }));
  const call = (path: string, init?: RequestInit) => fetch(new Request(`https://tier.test${path}`, init), undefined, { waitUntil() {}, passThroughOnException() {}, props: {} } as never);
  return { call, recorded, loads };
}

let token: string;
const claims: Omit<PlaybackClaims, "v" | "k"> = { s: "sess-1", e: "ev", c: "ch", x: Math.floor(Date.now() / 1000) + 3600 };

beforeAll(async () => {
  token = await signPlaybackToken(claims, signingKey);
});

async function errorCode(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

describe("the playback pipeline", () => {
  it("serves a segment once loaded and the next request for it from memory, loading it once", async () => {
    const t = testTier();
    const first = await t.call(`/play/${token}/seg-1.ts`);
    expect(first.status).toBe(200);
    expect(first.headers.get("x-content-type-options")).toBe("nosniff");
    expect(first.headers.get("content-security-policy")).toContain("sandbox");
    expect(new Uint8Array(await first.arrayBuffer())).toEqual(SEGMENT);
    const second = await t.call(`/play/${token}/seg-1.ts`);
    expect(second.headers.get("x-cache")).toBe("HIT");
    expect(new Uint8Array(await second.arrayBuffer())).toEqual(SEGMENT);
    expect(t.loads).toEqual(["ev/ch/seg-1.ts"]);
    expect(t.recorded.map((r) => r.bytes)).toEqual([1000, 1000]);
  });

  it("refuses a forged token with 403 invalid_token that a player on another origin can read", async () => {
    const t = testTier();
    const forged = token.slice(0, -4) + (token.endsWith("AAAA") ? "BBBB" : "AAAA");
    const res = await t.call(`/play/${forged}/seg-1.ts`);
    expect(res.status).toBe(403);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(await errorCode(res)).toBe("invalid_token");
    expect(t.loads).toEqual([]);
  });

  it("answers 410 session_expired to every request of an ended session, playlists and segments alike", async () => {
    const t = testTier({ ended: new Set(["sess-1"]) });
    const playlist = await t.call(`/play/${token}/720p/index.m3u8`);
    expect(playlist.status).toBe(410);
    expect(await errorCode(playlist)).toBe("session_expired");
    const segment = await t.call(`/play/${token}/seg-1.ts`);
    expect(segment.status).toBe(410);
    expect(segment.headers.get("access-control-allow-origin")).toBe("*");
    expect(t.loads).toEqual([]);
  });

  it("refuses a viewer capped below a rendition its media playlist and segments, on a miss and on a hit, and serves others", async () => {
    const t = testTier();
    const capped = await signPlaybackToken({ ...claims, s: "sess-capped", b: 1_000_000 }, signingKey);
    for (const key of ["hd/index.m3u8", "hd/seg-1.ts"]) {
      const miss = await t.call(`/play/${capped}/${key}`);
      expect(miss.status, key).toBe(403);
      expect(await errorCode(miss)).toBe("forbidden");
      expect((await t.call(`/play/${token}/${key}`)).status, key).toBe(200);
      expect((await t.call(`/play/${capped}/${key}`)).status, key).toBe(403);
    }
    expect((await t.call(`/play/${capped}/sd/seg-1.ts`)).status).toBe(200);
    // What a stadium node keeps with the bytes, so it can refuse the same viewers.
    expect((await t.call(`/play/${token}/hd/seg-1.ts`)).headers.get("x-balancer-bandwidth")).toBe("2000000");
    expect(t.recorded.map((r) => r.key)).toEqual(["hd/index.m3u8", "hd/seg-1.ts", "sd/seg-1.ts", "hd/seg-1.ts"]);
  });

  it("counts the bytes a Range answer sends, not the whole segment", async () => {
    const t = testTier();
    await (await t.call(`/play/${token}/seg-1.ts`, { headers: { range: "bytes=0-0" } })).arrayBuffer();
    await (await t.call(`/play/${token}/seg-1.ts`, { headers: { range: "bytes=100-" } })).arrayBuffer();
    await (await t.call(`/play/${token}/seg-1.ts`, { headers: { range: "bytes=5000-" } })).arrayBuffer();
    expect(t.recorded.map((r) => r.bytes)).toEqual([1, 900, 0]);
  });

  it("sends a HEAD the headers of the GET without a body, and counts no bytes for it", async () => {
    const t = testTier();
    const res = await t.call(`/play/${token}/seg-1.ts`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe("1000");
    expect((await res.arrayBuffer()).byteLength).toBe(0);
    expect(t.recorded).toEqual([{ key: "seg-1.ts", bytes: 0, hit: false }]);
  });

  it("answers a byte range of a segment with 206 and exactly those bytes, and an impossible one with 416", async () => {
    const t = testTier();
    const part = await t.call(`/play/${token}/seg-1.ts`, { headers: { range: "bytes=10-19" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 10-19/1000");
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(SEGMENT.slice(10, 20));
    const beyond = await t.call(`/play/${token}/seg-1.ts`, { headers: { range: "bytes=5000-" } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe("bytes */1000");
  });

  it("answers a Range request whose origin body fails midway with 502 origin_error, not 500", async () => {
    const t = testTier();
    const res = await t.call(`/play/${token}/broken.ts`, { headers: { range: "bytes=0-10" } });
    expect(res.status).toBe(502);
    expect(await errorCode(res)).toBe("origin_error");
  });

  it("refuses methods a playback path does not take with 405 and says which it takes", async () => {
    const t = testTier();
    const res = await t.call(`/play/${token}/seg-1.ts`, { method: "POST", body: "x" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
    expect(await errorCode(res)).toBe("method_not_allowed");
  });

  it("answers the CORS preflight without looking at the token", async () => {
    const t = testTier();
    const res = await t.call(`/play/not-a-token/seg-1.ts`, { method: "OPTIONS" });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-headers")).toBe("range");
  });

  it("passes every path outside /play/ to the tier's other handler", async () => {
    const t = testTier();
    expect((await t.call("/ping")).status).toBe(299);
    expect((await t.call("/player/x")).status).toBe(299);
  });

  it("sends the steering manifest from the tier, never through the cache", async () => {
    const t = testTier();
    const res = await t.call(`/play/${token}/steering.json?_HLS_pathway=edge`);
    expect(((await res.json()) as { VERSION: number }).VERSION).toBe(1);
    expect(t.loads).toEqual([]);
  });

  it("sends the tier's personal playlist when it makes one, from the shared bytes loaded once", async () => {
    const t = testTier({ personal: (read) => new Response(`personal ${read.contentType}`, { headers: { "cache-control": "private, no-store" } }) });
    for (let i = 0; i < 2; i++) {
      const res = await t.call(`/play/${token}/720p/index.m3u8`);
      expect(await res.text()).toBe("personal application/vnd.apple.mpegurl");
    }
    expect(t.loads).toEqual(["ev/ch/720p/index.m3u8"]);
  });

  it("turns an upstream failure into its error, and an unexpected fault into 500 internal without details", async () => {
    const t = testTier();
    const missing = await t.call(`/play/${token}/missing.ts`);
    expect(missing.status).toBe(404);
    const foreign = await signPlaybackToken({ ...claims, e: "foreign" }, signingKey);
    const fault = await t.call(`/play/${foreign}/seg-1.ts`);
    expect(fault.status).toBe(500);
    expect(await fault.text()).not.toContain("unexpected");
  });

  it("answers a Durable Object that is briefly unreachable with 503 unavailable and Retry-After, readable across origins", async () => {
    const t = testTier();
    const reset = await signPlaybackToken({ ...claims, e: "reset" }, signingKey);
    const res = await t.call(`/play/${reset}/seg-1.ts`);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).not.toBeNull();
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(await errorCode(res)).toBe("unavailable");
  });
});

describe("playbackCacheKey", () => {
  const c = { v: 1, k: "k", s: "s", e: "ev", c: "ch", x: 1 } as const;

  it("shares one key among every viewer of a resource, whatever their session", () => {
    expect(playbackCacheKey({ ...c, s: "a" }, "720p/seg-1.ts")).toBe(playbackCacheKey({ ...c, s: "b" }, "720p/seg-1.ts"));
  });

  it("splits only the multivariant playlist by capped ladder and steering tag", () => {
    expect(playbackCacheKey({ ...c, b: 800_000 }, "index.m3u8", { version: "7", steering: true })).toBe("ev/ch/7/b800000/steer/index.m3u8");
    expect(playbackCacheKey({ ...c, b: 800_000 }, "720p/index.m3u8", { version: "7", steering: true })).toBe("ev/ch/7/720p/index.m3u8");
  });
});
