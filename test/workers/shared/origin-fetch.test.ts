// What a playback answer says it is (workers/shared/origin-fetch.ts contentTypeFor): media types only, so
// nothing an origin host serves can run as a page from the viewer page's origin.
import { describe, expect, it } from "vitest";
import { contentTypeFor } from "../../../workers/shared/origin-fetch";

describe("contentTypeFor", () => {
  it("names playlists, TS, fMP4/CMAF, audio and WebVTT by their extension, whatever the origin says", () => {
    expect(contentTypeFor("720p/index.m3u8?x=1", "text/html")).toBe("application/vnd.apple.mpegurl");
    expect(contentTypeFor("720p/seg-1.ts", null)).toBe("video/mp2t");
    expect(contentTypeFor("720p/seg-1.m4s", "text/html")).toBe("video/iso.segment");
    expect(contentTypeFor("audio/seg-1.aac", null)).toBe("audio/aac");
    expect(contentTypeFor("subs/seg-1.vtt", null)).toBe("text/vtt");
  });

  it("keeps the origin's type for another extension only when it is a media type", () => {
    expect(contentTypeFor("synthetic/seg-1.bin", "video/MP2T; charset=binary")).toBe("video/mp2t");
    expect(contentTypeFor("_ext/http/cdn.example/chunk", "application/mp4")).toBe("application/mp4");
  });

  it("sends keys, pages, images and anything else as opaque bytes", () => {
    expect(contentTypeFor("keys/k1.key", "application/octet-stream")).toBe("application/octet-stream");
    expect(contentTypeFor("_ext/http/origin.example/page.html", "text/html; charset=utf-8")).toBe("application/octet-stream");
    expect(contentTypeFor("_ext/http/origin.example/logo.svg", "image/svg+xml")).toBe("application/octet-stream");
    expect(contentTypeFor("_ext/http/origin.example/list.json", "application/json")).toBe("application/octet-stream");
    expect(contentTypeFor("x", null)).toBe("application/octet-stream");
  });
});
