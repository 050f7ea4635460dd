// Acceptance: HLS interstitials (rfc8216bis Appendix D) play through the edge. The EXT-X-DATERANGE links a
// player follows (X-ASSET-URI, X-ASSET-LIST) resolve under the viewer's /play/<token>/ to the origin's bytes.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminPut, openChannel, startSeededPlatform, type Platform } from "../support/platform";

const SEGMENT = Buffer.alloc(4_000, 0x47);
const AD_SEGMENT = Buffer.alloc(3_000, 0x48);
/** The asset list: one relative URI, one absolute on the origin's host, one on a host the channel may not use. */
const assetList = (originHost: string) =>
  JSON.stringify({ ASSETS: [{ URI: "ad1/index.m3u8", DURATION: 2 }, { URI: `http://${originHost}/ads/ad1/index.m3u8`, DURATION: 2 }, { URI: "https://elsewhere.example/ad.m3u8", DURATION: 2 }], "X-EXTRA": 1 });
const RANGES =
  '#EXT-X-DATERANGE:ID="ad1",CLASS="com.apple.hls.interstitial",START-DATE="2026-12-04T18:00:00.000Z",X-ASSET-URI="/ads/ad1/index.m3u8"\n' +
  '#EXT-X-DATERANGE:ID="ad2",CLASS="com.apple.hls.interstitial",START-DATE="2026-12-04T18:00:02.000Z",X-ASSET-LIST="../../ads/list.json"\n';
const ORIGIN_FILES: Record<string, { type: string; body: string | Buffer }> = {
  "/live/ch/index.m3u8": {
    type: "application/vnd.apple.mpegurl",
    body: `#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-PROGRAM-DATE-TIME:2026-12-04T18:00:00.000Z\n${RANGES}#EXTINF:2.0,\nseg-1.ts\n#EXT-X-ENDLIST\n`,
  },
  "/live/ch/seg-1.ts": { type: "video/mp2t", body: SEGMENT },
  "/ads/ad1/index.m3u8": { type: "application/vnd.apple.mpegurl", body: "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nad-1.ts\n#EXT-X-ENDLIST\n" },
  "/ads/ad1/ad-1.ts": { type: "video/mp2t", body: AD_SEGMENT },
};

let p: Platform;
let origin: Server;
beforeAll(async () => {
  origin = createServer((req, res) => {
    if (req.url === "/ads/list.json") return void res.writeHead(200, { "content-type": "application/json" }).end(assetList(req.headers.host ?? ""));
    const file = ORIGIN_FILES[req.url ?? ""];
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": file.type }).end(file.body);
  });
  await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", resolve));
  p = await startSeededPlatform();
});
afterAll(async () => {
  await p?.stop();
  await new Promise<void>((resolve) => origin.close(() => resolve()));
});

/** The value of `attr` in the emitted playlist, resolved as a player resolves it. */
function assetUrl(playlist: string, attr: string, playlistUrl: string): string {
  const value = new RegExp(`${attr}="([^"]*)"`).exec(playlist)?.[1];
  expect(value, `${attr} in ${playlist}`).toBeDefined();
  return new URL(value!, playlistUrl).href;
}

describe("interstitials through the edge", () => {
  it("serves an X-ASSET-URI's playlist and its segments, and an X-ASSET-LIST's JSON, with the origin's bytes, under the token", async () => {
    const originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}/live/ch/index.m3u8`;
    const eventId = `interstitials-${Date.now()}`;
    expect((await adminPut(p, `/admin/events/${eventId}`, { title: eventId, limits: {} })).status).toBe(200);
    expect((await adminPut(p, `/admin/events/${eventId}/channels/main`, { title: "main", originUrl, paid: false })).status).toBe(200);
    const v = await openChannel(p, "main", eventId);
    const tokenRoot = v.playbackUrl.slice(0, v.playbackUrl.lastIndexOf("/") + 1);
    const playlist = await (await fetch(v.playbackUrl)).text();

    const ad = assetUrl(playlist, "X-ASSET-URI", v.playbackUrl);
    expect(ad.startsWith(tokenRoot), `${ad} is under ${tokenRoot}`).toBe(true);
    const adRes = await fetch(ad);
    expect(adRes.status).toBe(200);
    const adPlaylist = await adRes.text();
    const adSegment = adPlaylist.split("\n").find((l) => l.trim() !== "" && !l.startsWith("#"))!;
    const segRes = await fetch(new URL(adSegment, ad));
    expect(segRes.status).toBe(200);
    expect(Buffer.from(await segRes.arrayBuffer()).equals(AD_SEGMENT)).toBe(true);

    const list = assetUrl(playlist, "X-ASSET-LIST", v.playbackUrl);
    expect(list.startsWith(tokenRoot), `${list} is under ${tokenRoot}`).toBe(true);
    const listRes = await fetch(list);
    expect(listRes.status).toBe(200);
    // Every asset the channel's origin may serve plays under the token, from the origin's bytes; the asset
    // on a foreign host is left out; the list's other fields are kept.
    const doc = (await listRes.json()) as { ASSETS: { URI: string; DURATION: number }[]; "X-EXTRA": number };
    expect(doc["X-EXTRA"]).toBe(1);
    expect(doc.ASSETS.map((a) => a.DURATION)).toEqual([2, 2]);
    for (const asset of doc.ASSETS) {
      const assetPlaylist = new URL(asset.URI, list).href;
      expect(assetPlaylist.startsWith(tokenRoot), `${assetPlaylist} is under ${tokenRoot}`).toBe(true);
      const res = await fetch(assetPlaylist);
      expect(res.status, asset.URI).toBe(200);
      const text = await res.text();
      const seg = text.split("\n").find((l) => l.trim() !== "" && !l.startsWith("#"))!;
      const segBytes = await fetch(new URL(seg, assetPlaylist));
      expect(segBytes.status).toBe(200);
      expect(Buffer.from(await segBytes.arrayBuffer()).equals(AD_SEGMENT)).toBe(true);
    }
  });
});
