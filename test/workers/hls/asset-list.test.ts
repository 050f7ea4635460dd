// Interstitial asset lists (workers/hls/asset-list.ts): each asset's URI rewritten under the token as a
// playlist's URIs are, other fields kept, and a document that is not an asset list refused with a reason.
import { describe, expect, it } from "vitest";
import { rewriteAssetList } from "../../../workers/hls/asset-list";
import { PlaylistError } from "../../../workers/hls/parse";
import type { ChannelOrigin } from "../../../workers/hls/paths";

const origin: ChannelOrigin = { originUrl: "https://origin.example/live/ch/index.m3u8", allowedHosts: ["ads.example"] };
const at = { playlistUrl: "https://origin.example/live/ch/ads/list.json", playlistKey: "ads/list.json", origin };

describe("rewriteAssetList", () => {
  it("rewrites relative and absolute asset URIs to references under the token, keeping every other field", () => {
    const text = JSON.stringify({
      ASSETS: [
        { URI: "ad1/index.m3u8", DURATION: 15 },
        { URI: "https://origin.example/live/ch/ad2/index.m3u8", DURATION: 10, "X-AD-ID": "a2" },
        { URI: "https://ads.example/spot/index.m3u8", DURATION: 5 },
      ],
      "X-SKIP": true,
    });
    const out = rewriteAssetList(text, at);
    expect(out.uris).toEqual(["ad1/index.m3u8", "../ad2/index.m3u8", "../_ext/https/ads.example/spot/index.m3u8"]);
    expect(JSON.parse(out.text)).toEqual({
      ASSETS: [
        { URI: "ad1/index.m3u8", DURATION: 15 },
        { URI: "../ad2/index.m3u8", DURATION: 10, "X-AD-ID": "a2" },
        { URI: "../_ext/https/ads.example/spot/index.m3u8", DURATION: 5 },
      ],
      "X-SKIP": true,
    });
  });

  it("leaves out an asset on a host the channel may not use", () => {
    const out = rewriteAssetList(JSON.stringify({ ASSETS: [{ URI: "https://evil.example/ad.m3u8" }, { URI: "ad1/index.m3u8" }] }), at);
    expect(JSON.parse(out.text).ASSETS).toEqual([{ URI: "ad1/index.m3u8" }]);
  });

  it.each([
    ["not JSON", "<html>"],
    ["an array", "[]"],
    ["no ASSETS", "{}"],
    ["an asset without a URI", '{"ASSETS":[{"DURATION":1}]}'],
    ["a URI that is not a string", '{"ASSETS":[{"URI":5}]}'],
  ])("refuses %s with a reason", (_, text) => {
    expect(() => rewriteAssetList(text, at)).toThrow(PlaylistError);
  });
});
