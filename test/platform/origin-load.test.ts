// Acceptance: the origin's load does not grow with the audience — one fetch per segment, and playlist
// polls bounded by half a target duration whatever the number of viewers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addChannel, bytes, openChannel, originStats, resetOriginStats, startSeededPlatform, type Platform } from "../support/platform";

let p: Platform;
beforeAll(async () => {
  // A slow origin makes every one of the 500 requests overlap the single upstream fetch.
  p = await startSeededPlatform({ originBindings: { SEGMENT_DELAY_MS: "300" } });
});
afterAll(async () => {
  await p?.stop();
});

const currentMsn = () => Math.floor(Date.now() / 2000);

describe("origin load", () => {
  it("fetches a segment nobody has asked for once, however many viewers ask at the same moment", async () => {
    await addChannel(p, "crowd", `${p.originUrl}/live/crowd/index.m3u8`);
    const { playbackUrl } = await openChannel(p, "crowd");
    const base = playbackUrl.replace(/index\.m3u8$/, "");
    // A segment still inside the live window, never requested and never prefetched (no playlist was read).
    const key = `ts-360p/seg-${currentMsn() - 2}.ts`;
    await resetOriginStats(p);
    const responses = await Promise.all(Array.from({ length: 500 }, () => fetch(base + key)));
    const bodies = await Promise.all(responses.map((r) => bytes(r)));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    const first = Buffer.from(bodies[0]!);
    expect(first.byteLength).toBeGreaterThan(1000);
    expect(bodies.every((b) => first.equals(Buffer.from(b)))).toBe(true);
    const stats = await originStats(p);
    const path = new URL(`${p.originUrl}/live/crowd/${key}`).pathname;
    expect(stats.byPath[path]).toBe(1);
  });

  it("gives every one of a few dozen simultaneous viewers of a new segment the whole segment", async () => {
    // all.m3u8 lists every rendition, TS and fMP4: a token opens only what its channel's playlists list.
    await addChannel(p, "dozens", `${p.originUrl}/live/dozens/all.m3u8`);
    const { playbackUrl } = await openChannel(p, "dozens");
    const base = playbackUrl.replace(/index\.m3u8$/, "");
    // Several rounds: the failure this guards against (waiters cancelled as hung, empty 200s) was intermittent.
    for (const rendition of ["ts-360p", "ts-180p", "fmp4-360p"]) {
      for (const back of [1, 2]) {
        const ext = rendition.startsWith("fmp4") ? "m4s" : "ts";
        const url = `${base}${rendition}/seg-${currentMsn() - back}.${ext}`;
        const responses = await Promise.all(Array.from({ length: 30 }, () => fetch(url)));
        const lengths = await Promise.all(responses.map(async (r) => (await r.arrayBuffer()).byteLength));
        expect(responses.map((r) => r.status)).toEqual(Array(30).fill(200));
        expect(new Set(lengths).size, `${url}: ${lengths.join(",")}`).toBe(1);
        expect(lengths[0]).toBeGreaterThan(1000);
        expect(responses.every((r) => r.headers.get("content-length") === String(lengths[0]))).toBe(true);
      }
    }
  });

  /** Origin fetches of the media playlist while `viewers` poll it for `seconds`, and the seconds that took. */
  async function pollFor(viewers: number, seconds: number, channel: string): Promise<{ fetches: number; elapsed: number }> {
    await addChannel(p, channel, `${p.originUrl}/live/${channel}/index.m3u8`);
    const { playbackUrl } = await openChannel(p, channel);
    const media = playbackUrl.replace(/index\.m3u8$/, "ts-360p/index.m3u8");
    await resetOriginStats(p);
    const started = Date.now();
    const end = started + seconds * 1000;
    // Like players: each viewer reloads once per target duration (2 s), viewers spread over that interval.
    await Promise.all(
      Array.from({ length: viewers }, async (_, i) => {
        await new Promise((r) => setTimeout(r, (i * 37) % 2000));
        while (Date.now() < end) {
          const res = await fetch(media);
          expect(res.status).toBe(200);
          await res.arrayBuffer();
          await new Promise((r) => setTimeout(r, 2000));
        }
      }),
    );
    const stats = await originStats(p);
    return { fetches: stats.byPath[`/live/${channel}/ts-360p/index.m3u8`] ?? 0, elapsed: (Date.now() - started) / 1000 };
  }

  it("polls the origin's live playlist the same with 500 viewers as with 1, at most once per half target duration", async () => {
    const one = await pollFor(1, 8, "poll-one");
    const many = await pollFor(500, 8, "poll-many");
    // Target duration 2 s: the shield polls once per second while anyone watches (plus the first fetch).
    expect(one.fetches).toBeLessThanOrEqual(Math.ceil(one.elapsed) + 1);
    expect(many.fetches).toBeLessThanOrEqual(Math.ceil(many.elapsed) + 1);
    // Per second, 500 viewers cost the origin what one does (500 viewers take longer to finish their last reloads).
    expect(many.fetches / many.elapsed).toBeLessThanOrEqual((one.fetches + 1) / one.elapsed);
    expect(one.fetches).toBeGreaterThanOrEqual(6);
  });

  it("stops polling the origin once nobody asks for the playlist", async () => {
    await pollFor(3, 3, "poll-stop");
    // The shield keeps polling for 2.5 target durations after the last request, then stops.
    await new Promise((r) => setTimeout(r, 6000));
    await resetOriginStats(p);
    await new Promise((r) => setTimeout(r, 3000));
    expect((await originStats(p)).byPath["/live/poll-stop/ts-360p/index.m3u8"] ?? 0).toBe(0);
  });
});
