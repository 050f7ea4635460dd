// Acceptance: a channel on any ffmpeg-made HLS origin plays through the edge, and every URI in every
// playlist the edge emits resolves through the edge to the same bytes as at the origin.
import HLS from "hls-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromPlayKey } from "../../workers/hls/paths";
import { addChannel, bytes, openChannel, startSeededPlatform, type Platform } from "../support/platform";

let p: Platform;
beforeAll(async () => {
  p = await startSeededPlatform();
});
afterAll(async () => {
  await p?.stop();
});

interface Link {
  uri: string;
  playlist: boolean;
  byterange?: { length: number; offset: number };
}

function linksOf(text: string): Link[] {
  const pl = HLS.parse(text);
  const out: Link[] = [];
  if (pl.isMasterPlaylist) {
    for (const v of pl.variants) {
      out.push({ uri: v.uri, playlist: true });
      for (const r of [...v.audio, ...v.video, ...v.subtitles, ...v.closedCaptions]) if (r.uri) out.push({ uri: r.uri, playlist: true });
    }
    for (const v of pl.currentVariant ? [] : []) out.push(v);
  } else {
    for (const s of pl.segments) {
      out.push({ uri: s.uri, playlist: false, ...(s.byterange ? { byterange: { length: s.byterange.length, offset: s.byterange.offset ?? 0 } } : {}) });
      if (s.key?.uri) out.push({ uri: s.key.uri, playlist: false });
      if (s.map?.uri) out.push({ uri: s.map.uri, playlist: false, ...(s.map.byterange ? { byterange: { length: s.map.byterange.length, offset: s.map.byterange.offset ?? 0 } } : {}) });
    }
  }
  const seen = new Set<string>();
  return out.filter((l) => {
    const k = `${l.uri}|${l.byterange?.offset ?? ""}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Walks every playlist reachable from `entry`; compares every non-playlist resource with the origin's bytes. */
async function walk(entry: string, origin: { originUrl: string; allowedHosts: string[] }): Promise<{ playlists: number; resources: number }> {
  const tokenRoot = entry.slice(0, entry.lastIndexOf("/index.m3u8") + 1);
  const todo = [entry];
  const visited = new Set<string>();
  let resources = 0;
  while (todo.length) {
    const url = todo.pop()!;
    if (visited.has(url)) continue;
    visited.add(url);
    const res = await fetch(url);
    expect(res.status, url).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/vnd.apple.mpegurl");
    const text = await res.text();
    for (const link of linksOf(text)) {
      // Every URI the platform emits is relative and stays under /play/<token>/.
      expect(link.uri).not.toMatch(/^[a-z]+:|^\/\//i);
      const abs = new URL(link.uri, url).toString();
      expect(abs.startsWith(tokenRoot), `${link.uri} escapes the token`).toBe(true);
      if (link.playlist) {
        todo.push(abs);
        continue;
      }
      const key = abs.slice(tokenRoot.length);
      const originUrl = fromPlayKey(key, origin).toString();
      const headers: Record<string, string> = link.byterange
        ? { range: `bytes=${link.byterange.offset}-${link.byterange.offset + link.byterange.length - 1}` }
        : {};
      const [viaEdge, atOrigin] = await Promise.all([fetch(abs, { headers }), fetch(originUrl, { headers })]);
      expect(viaEdge.status, abs).toBe(atOrigin.status);
      expect(Buffer.from(await bytes(viaEdge)).equals(Buffer.from(await bytes(atOrigin))), `${key} differs`).toBe(true);
      resources++;
    }
  }
  return { playlists: visited.size, resources };
}

describe("a channel on an ffmpeg-made origin plays through the edge byte for byte", () => {
  const sets = [
    ["vod-ts", "/vod/ts/index.m3u8"],
    ["vod-fmp4", "/vod/fmp4/index.m3u8"],
    ["vod-aes128", "/vod/aes128/index.m3u8"],
    ["vod-byterange", "/vod/byterange/index.m3u8"],
    ["vod-alt-audio", "/vod/alt-audio/index.m3u8"],
  ] as const;

  for (const [channelId, path] of sets) {
    it(`serves every URI of the ${channelId} origin with the origin's bytes`, async () => {
      const originUrl = p.originUrl + path;
      await addChannel(p, channelId, originUrl);
      const { playbackUrl } = await openChannel(p, channelId);
      const { playlists, resources } = await walk(playbackUrl, { originUrl, allowedHosts: [] });
      expect(playlists).toBeGreaterThan(0);
      expect(resources).toBeGreaterThan(2);
    });
  }

  it("serves every URI of the live demo channel with the origin's bytes", async () => {
    const { playbackUrl } = await openChannel(p, "main");
    const { playlists, resources } = await walk(playbackUrl, { originUrl: `${p.originUrl}/live/main/index.m3u8`, allowedHosts: [] });
    expect(playlists).toBeGreaterThanOrEqual(3);
    expect(resources).toBeGreaterThanOrEqual(12);
  });
});
