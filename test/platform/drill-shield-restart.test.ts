// Drill (issue 14 d): a channel's OriginShield restarted mid-event. The edge's workerd process, which hosts
// the shield, is stopped and started again on the same port and storage, so the shield loses its playlist
// window and its segments in memory. Viewers polling and fetching through the edge keep playing every
// segment in order, and the origin sees each segment at most twice (one normal fetch, one extra).
// Locally the shield shares the edge's process, so the edge restarts with it: its Cache API copy (L1)
// survives, its isolate memory does not, and requests while it is down go unanswered and are retried as a
// player retries them.
import HLS from "hls-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addChannel, openChannel, originStats, resetOriginStats, startRestartablePlatform, type Platform } from "../support/platform";

let p: Platform;
beforeAll(async () => {
  p = await startRestartablePlatform();
});
afterAll(async () => {
  await p?.stop();
});

const CHANNEL = "shield-drill";
const VIEWERS = 6;
const BEFORE_MS = 10_000;
const AFTER_MS = 14_000;

/** What one simulated player saw. */
interface Viewer {
  /** Media sequence numbers of the segments it played, in the order it fetched them. */
  played: number[];
  /** Every HTTP answer other than 200, with what it was for. */
  errors: string[];
  /** Requests the edge did not answer at all (its process down): retried, as a player retries. */
  unanswered: number;
  /** Longest time between two successful playlist reloads, in ms. */
  longestGapMs: number;
  /** Successful playlist reloads after the restart began. */
  reloadsAfter: number;
  /** Segments played after the restart began. */
  playedAfter: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** GET that waits out an edge that is not listening (retrying every 100 ms), and returns the first HTTP answer. */
async function get(url: string, viewer: Viewer, until: number): Promise<{ status: number; body: Uint8Array } | null> {
  for (;;) {
    try {
      const res = await fetch(url);
      return { status: res.status, body: new Uint8Array(await res.arrayBuffer()) };
    } catch {
      viewer.unanswered++;
      if (Date.now() > until) return null;
      await sleep(100);
    }
  }
}

/**
 * Plays like hls.js: starts three segments from the live edge, reloads the media playlist every second,
 * and fetches each segment after the last one it played, in order. Runs until `end`.
 */
async function play(mediaUrl: string, end: number, restart: { at: number }): Promise<Viewer> {
  const viewer: Viewer = { played: [], errors: [], unanswered: 0, longestGapMs: 0, reloadsAfter: 0, playedAfter: 0 };
  let lastReload = Date.now();
  let next: number | null = null;
  while (Date.now() < end) {
    const res = await get(mediaUrl, viewer, end + 30_000);
    if (!res) break;
    if (res.status !== 200) {
      viewer.errors.push(`playlist ${res.status}`);
      await sleep(1_000);
      continue;
    }
    const now = Date.now();
    viewer.longestGapMs = Math.max(viewer.longestGapMs, now - lastReload);
    lastReload = now;
    if (now >= restart.at) viewer.reloadsAfter++;
    const playlist = HLS.parse(new TextDecoder().decode(res.body));
    if (playlist.isMasterPlaylist) throw new Error("expected a media playlist");
    const first = playlist.mediaSequenceBase ?? 0;
    next ??= first + Math.max(0, playlist.segments.length - 3);
    // A player that fell behind the window would skip ahead; that would be a stall, and shows as a hole below.
    if (next < first) next = first;
    for (let msn: number = next; msn < first + playlist.segments.length; msn++) {
      const seg = await get(new URL(playlist.segments[msn - first]!.uri, mediaUrl).toString(), viewer, end + 30_000);
      if (!seg) break;
      if (seg.status !== 200 || seg.body.byteLength === 0) {
        viewer.errors.push(`segment ${msn} ${seg.status} (${seg.body.byteLength} bytes)`);
        break;
      }
      viewer.played.push(msn);
      if (Date.now() >= restart.at) viewer.playedAfter++;
      next = msn + 1;
    }
    await sleep(1_000);
  }
  // A viewer whose reloads stopped succeeding saw a gap up to the end.
  viewer.longestGapMs = Math.max(viewer.longestGapMs, Date.now() - lastReload);
  return viewer;
}

describe("drill: the channel's origin shield restarted mid-event", () => {
  it("keeps every viewer playing each segment in order, and fetches no segment from the origin more than twice", async () => {
    await addChannel(p, CHANNEL, `${p.originUrl}/live/${CHANNEL}/index.m3u8`);
    const sessions = await Promise.all(Array.from({ length: VIEWERS }, () => openChannel(p, CHANNEL)));
    await resetOriginStats(p);

    const started = Date.now();
    const end = started + BEFORE_MS + AFTER_MS;
    const restart = { at: Infinity };
    const viewers = sessions.map(async ({ playbackUrl }, i) => {
      await sleep((i * 1_000) / VIEWERS);
      const entry = await fetch(playbackUrl);
      expect(entry.status).toBe(200);
      await entry.arrayBuffer();
      return play(playbackUrl.replace(/index\.m3u8$/, "ts-360p/index.m3u8"), end, restart);
    });
    await sleep(BEFORE_MS);
    restart.at = Date.now();
    await p.restartEdge();
    const restartMs = Date.now() - restart.at;
    const seen = await Promise.all(viewers);

    const stats = await originStats(p);
    const segmentFetches = Object.entries(stats.byPath).filter(([path]) => path.startsWith(`/live/${CHANNEL}/`) && !path.endsWith(".m3u8"));
    const most = Math.max(...segmentFetches.map(([, n]) => n));
    const twice = segmentFetches.filter(([, n]) => n === 2).length;
    const playlistFetches = stats.byPath[`/live/${CHANNEL}/ts-360p/index.m3u8`] ?? 0;
    const longestGapMs = Math.max(...seen.map((v) => v.longestGapMs));
    console.log(
      `drill d (OriginShield restart): edge process restarted in ${restartMs} ms with ${VIEWERS} viewers playing; ` +
        `longest gap between a viewer's successful playlist reloads ${longestGapMs} ms (per viewer: ${seen.map((v) => v.longestGapMs).join(", ")}); ` +
        `segments played after the restart ${Math.min(...seen.map((v) => v.playedAfter))}–${Math.max(...seen.map((v) => v.playedAfter))} per viewer, none skipped; ` +
        `requests unanswered while the process was down ${seen.reduce((n, v) => n + v.unanswered, 0)}, HTTP errors ${seen.reduce((n, v) => n + v.errors.length, 0)}; ` +
        `origin fetches per segment at most ${most} (${twice} of ${segmentFetches.length} segments fetched twice), media playlist fetches ${playlistFetches} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );

    for (const [i, v] of seen.entries()) {
      // No request the edge answered was an error: a player would have shown none.
      expect(v.errors, `viewer ${i}`).toEqual([]);
      // Every segment from its first to its last, none skipped, and new ones still coming well after the
      // restart (its 14 s bring about seven 2 s segments).
      expect(v.played, `viewer ${i}`).toEqual(Array.from({ length: v.played.length }, (_, k) => v.played[0]! + k));
      expect(v.reloadsAfter, `viewer ${i}`).toBeGreaterThanOrEqual(5);
      expect(v.playedAfter, `viewer ${i}`).toBeGreaterThanOrEqual(4);
    }
    expect(segmentFetches.length).toBeGreaterThan(0);
    for (const [path, n] of segmentFetches) expect(n, path).toBeLessThanOrEqual(2);
  });
});
