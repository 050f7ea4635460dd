// What a playback token may open (workers/hls/listing.ts): the keys an emitted playlist lists, as a player
// resolves them, and the form of a requested key that must have been listed.
import { describe, expect, it } from "vitest";
import { listedEntries, listedKeys, listingKey } from "../../../workers/hls/listing";

describe("listedKeys", () => {
  it("lists every segment, key, init section, part, preload hint and rendition report of a media playlist, resolved against its own key", () => {
    const media = [
      "#EXTM3U",
      "#EXT-X-TARGETDURATION:2",
      '#EXT-X-KEY:METHOD=AES-128,URI="../keys/k1.bin"',
      '#EXT-X-MAP:URI="init.mp4"',
      "#EXTINF:2,",
      "seg-1.m4s",
      '#EXT-X-PART:DURATION=0.5,URI="seg-2.part0.m4s"',
      '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-2.part1.m4s"',
      '#EXT-X-RENDITION-REPORT:URI="../360p/index.m3u8",LAST-MSN=2',
      "",
    ].join("\n");
    expect(listedKeys(media, "720p/index.m3u8")).toEqual([
      "keys/k1.bin",
      "720p/init.mp4",
      "720p/seg-1.m4s",
      "720p/seg-2.part0.m4s",
      "720p/seg-2.part1.m4s",
      "360p/index.m3u8",
    ]);
  });

  it("lists a multivariant playlist's variants, renditions and I-frame playlists, and keeps a query the origin wrote", () => {
    const multivariant = [
      "#EXTM3U",
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",URI="audio/en.m3u8"',
      '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=100000,URI="iframes.m3u8"',
      "#EXT-X-STREAM-INF:BANDWIDTH=800000,AUDIO=\"a\"",
      "720p/index.m3u8?sig=abc",
      "#EXT-X-STREAM-INF:BANDWIDTH=400000",
      "_ext/https/cdn.example/live/360p.m3u8",
    ].join("\n");
    expect(listedKeys(multivariant, "index.m3u8")).toEqual([
      "audio/en.m3u8",
      "iframes.m3u8",
      "720p/index.m3u8?sig=abc",
      "_ext/https/cdn.example/live/360p.m3u8",
    ]);
  });

  it("gives each variant's media playlist and each I-frame playlist its BANDWIDTH, and renditions none", () => {
    const multivariant = [
      "#EXTM3U",
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",URI="audio/en.m3u8"',
      '#EXT-X-I-FRAME-STREAM-INF:AVERAGE-BANDWIDTH=90000,BANDWIDTH=100000,URI="iframes.m3u8"',
      '#EXT-X-STREAM-INF:AVERAGE-BANDWIDTH=700000,BANDWIDTH=800000,AUDIO="a"',
      "720p/index.m3u8",
      "#EXT-X-STREAM-INF:BANDWIDTH=400000",
      "360p/index.m3u8",
    ].join("\n");
    expect(listedEntries(multivariant, "index.m3u8")).toEqual([
      { key: "audio/en.m3u8" },
      { key: "iframes.m3u8", bandwidth: 100_000 },
      { key: "720p/index.m3u8", bandwidth: 800_000 },
      { key: "360p/index.m3u8", bandwidth: 400_000 },
    ]);
  });

  it("lists interstitial asset URIs", () => {
    const text = '#EXT-X-DATERANGE:ID="ad1",CLASS="com.apple.hls.interstitial",START-DATE="2026-12-04T00:00:00Z",X-ASSET-URI="ads/ad1.m3u8"\n';
    expect(listedKeys(text, "720p/index.m3u8")).toEqual(["720p/ads/ad1.m3u8"]);
  });

  it("leaves out what is not a play key of the token: data and skd key URIs, another host, a path above the token", () => {
    const text = [
      '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://key-id"',
      '#EXT-X-SESSION-KEY:METHOD=AES-128,URI="data:text/plain;base64,AAAA"',
      "https://elsewhere.example/seg.ts",
      "../../../../outside.ts",
    ].join("\n");
    expect(listedKeys(text, "720p/index.m3u8")).toEqual([]);
  });

  it("ignores comments that are not tags", () => {
    expect(listedKeys('# a comment with URI="x.ts"\n', "index.m3u8")).toEqual([]);
  });
});

describe("listingKey", () => {
  it("drops the query parameters players add for blocking reloads, delta updates and steering", () => {
    expect(listingKey("720p/index.m3u8?_HLS_msn=12&_HLS_part=3")).toBe("720p/index.m3u8");
    expect(listingKey("720p/index.m3u8?_HLS_skip=YES")).toBe("720p/index.m3u8");
    expect(listingKey("720p/index.m3u8?sig=abc&_HLS_msn=12")).toBe("720p/index.m3u8?sig=abc");
  });

  it("keeps every other query, so a made-up one names a key no playlist lists", () => {
    expect(listingKey("720p/seg-1.ts?bust=7")).toBe("720p/seg-1.ts?bust=7");
    expect(listingKey("720p/seg-1.ts")).toBe("720p/seg-1.ts");
  });
});
