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

  async function pollFor(viewers: number, seconds: number, channel: string): Promise<number> {
    await addChannel(p, channel, `${p.originUrl}/live/${channel}/index.m3u8`);
    const { playbackUrl } = await openChannel(p, channel);
    const media = playbackUrl.replace(/index\.m3u8$/, "ts-360p/index.m3u8");
    await resetOriginStats(p);
    const end = Date.now() + seconds * 1000;
    // Each viewer reloads every 0.5 s (players reload at most once per target duration; this is four times harsher).
    await Promise.all(
      Array.from({ length: viewers }, async (_, i) => {
        await new Promise((r) => setTimeout(r, (i * 7) % 500));
        while (Date.now() < end) {
          const res = await fetch(media);
          expect(res.status).toBe(200);
          await res.arrayBuffer();
          await new Promise((r) => setTimeout(r, 500));
        }
      }),
    );
    const stats = await originStats(p);
    return stats.byPath[`/live/${channel}/ts-360p/index.m3u8`] ?? 0;
  }

  it("polls the origin's media playlist no more than once per half target duration, with 1 viewer or 500", async () => {
    const seconds = 6;
    const one = await pollFor(1, seconds, "poll-one");
    const many = await pollFor(500, seconds, "poll-many");
    // Target duration 2 s: at most one fetch per second, plus the first.
    expect(one).toBeLessThanOrEqual(seconds + 1);
    expect(many).toBeLessThanOrEqual(seconds + 1);
    expect(one).toBeGreaterThanOrEqual(seconds - 2);
  });
});
