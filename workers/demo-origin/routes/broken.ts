// /broken/…: origin playlists that are wrong in the ways real origins get wrong, for the edge's error tests.
import { Hono } from "hono";
import { jsonError } from "../json-error";
import { PLAYLIST_CACHE_CONTROL } from "../media-headers";
import type { DemoOriginApp } from "../types";

const M3U8 = "application/vnd.apple.mpegurl";

// Relative segment links point at the real VOD files, so only the defect under test is wrong.
const FIXTURES: Record<string, { type: string; body: string }> = {
  // A captive portal or CDN error page answering 200 where a playlist was expected.
  "not-a-playlist.m3u8": {
    type: "text/html; charset=utf-8",
    body: "<!doctype html>\n<html><head><title>Sign in to Wi-Fi</title></head><body><h1>Please sign in</h1></body></html>\n",
  },
  // RFC 8216 §4.3.3.1: "The EXT-X-TARGETDURATION tag is REQUIRED." Here it is missing.
  "no-targetduration.m3u8": {
    type: M3U8,
    body: [
      "#EXTM3U",
      "#EXT-X-VERSION:3",
      "#EXT-X-MEDIA-SEQUENCE:0",
      "#EXTINF:2.000,",
      "../vod/ts/180p/seg-0.ts",
      "#EXTINF:2.000,",
      "../vod/ts/180p/seg-1.ts",
      "#EXT-X-ENDLIST",
      "",
    ].join("\n"),
  },
  // A media playlist whose second segment lives on a host the channel never allowed.
  "foreign-segment.m3u8": {
    type: M3U8,
    body: [
      "#EXTM3U",
      "#EXT-X-VERSION:3",
      "#EXT-X-TARGETDURATION:2",
      "#EXT-X-MEDIA-SEQUENCE:0",
      "#EXTINF:2.000,",
      "../vod/ts/180p/seg-0.ts",
      "#EXTINF:2.000,",
      "http://evil.example/seg-1.ts",
      "#EXT-X-ENDLIST",
      "",
    ].join("\n"),
  },
  // The same defect in a key URI: a key fetched from a foreign host would leak viewers to it.
  "foreign-key.m3u8": {
    type: M3U8,
    body: [
      "#EXTM3U",
      "#EXT-X-VERSION:3",
      "#EXT-X-TARGETDURATION:2",
      "#EXT-X-MEDIA-SEQUENCE:0",
      '#EXT-X-KEY:METHOD=AES-128,URI="http://evil.example/enc.key",IV=0xf0e1d2c3b4a5968778695a4b3c2d1e0f',
      "#EXTINF:2.000,",
      "../vod/aes128/180p/seg-0.ts",
      "#EXT-X-ENDLIST",
      "",
    ].join("\n"),
  },
  // And in a multivariant playlist: the second variant is on a foreign host.
  "foreign-variant.m3u8": {
    type: M3U8,
    body: [
      "#EXTM3U",
      '#EXT-X-STREAM-INF:BANDWIDTH=400000,RESOLUTION=480x270,CODECS="avc1.4d401e,mp4a.40.2"',
      "../vod/ts/270p/index.m3u8",
      '#EXT-X-STREAM-INF:BANDWIDTH=200000,RESOLUTION=320x180,CODECS="avc1.4d401e,mp4a.40.2"',
      "http://evil.example/180p/index.m3u8",
      "",
    ].join("\n"),
  },
};

export const broken = new Hono<DemoOriginApp>().get("/:name", (c) => {
  const fixture = FIXTURES[c.req.param("name")];
  if (fixture === undefined) return jsonError(c, 404, "not_found", `Nothing is at ${c.req.path}.`);
  return c.body(fixture.body, 200, { "content-type": fixture.type, "cache-control": PLAYLIST_CACHE_CONTROL });
});
