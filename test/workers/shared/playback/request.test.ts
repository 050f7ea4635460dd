// How every tier reads a playback request: the /play/<token>/<key> split and the Range header.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isPlayPath, parsePlayUrl, parseRange } from "../../../../workers/shared/playback/request";

describe("parsePlayUrl", () => {
  it.each([
    ["https://e.example/play/T/index.m3u8", { token: "T", key: "index.m3u8" }],
    ["https://e.example/play/T/720p/seg-1.ts?x=1&y=%2F", { token: "T", key: "720p/seg-1.ts?x=1&y=%2F" }],
    ["https://e.example/play/T/a%2F..%2Fb.ts", { token: "T", key: "a%2F..%2Fb.ts" }],
    ["https://e.example/play/T/seg.ts#frag", { token: "T", key: "seg.ts" }],
    ["http://127.0.0.1:8787/play/abc.def/k", { token: "abc.def", key: "k" }],
  ])("%s", (url, expected) => {
    expect(parsePlayUrl(url)).toEqual(expected);
  });

  it.each([
    "https://e.example/play/T/",
    "https://e.example/play/T",
    "https://e.example/play//index.m3u8",
    "https://e.example/play/T/?q=1",
    "https://e.example/plays/T/index.m3u8",
    "https://e.example/api/play/T/index.m3u8",
    "https://e.example/",
  ])("refuses %s", (url) => {
    expect(parsePlayUrl(url)).toBeNull();
  });
});

describe("isPlayPath", () => {
  it("sends to the playback path exactly the URLs whose path starts with /play/", () => {
    expect(isPlayPath("https://e.example/play/T/index.m3u8")).toBe(true);
    expect(isPlayPath("http://127.0.0.1:8787/play/")).toBe(true);
    for (const url of ["https://e.example/plays/T/x", "https://e.example/api/play/T/x", "https://e.example/", "https://e.example/?u=/play/T/x", "https://play.example/x"]) {
      expect(isPlayPath(url)).toBe(false);
    }
  });

  it("sends on every URL that parsePlayUrl reads as a playback request, whatever its host and port", () => {
    fc.assert(
      fc.property(fc.webUrl(), fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/), fc.stringMatching(/^[a-z0-9/._-]{1,30}$/), (base, token, key) => {
        const url = `${new URL(base).origin}/play/${token}/${key}`;
        if (parsePlayUrl(url)) expect(isPlayPath(url)).toBe(true);
      }),
    );
  });
});

describe("parseRange", () => {
  it.each([
    ["bytes=0-99", 1000, { start: 0, end: 99 }],
    ["bytes=900-", 1000, { start: 900, end: 999 }],
    ["bytes=-100", 1000, { start: 900, end: 999 }],
    ["bytes=-5000", 1000, { start: 0, end: 999 }],
    ["bytes=990-5000", 1000, { start: 990, end: 999 }],
    [" bytes=1-1 ", 1000, { start: 1, end: 1 }],
  ] as const)("%s of %i bytes", (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });

  it.each(["bytes=1000-", "bytes=5-4", "bytes=-0"])("%s of 1000 bytes is unsatisfiable", (header) => {
    expect(parseRange(header, 1000)).toBe("unsatisfiable");
  });

  it.each([undefined, "", "bytes=-", "bytes=0-1,5-6", "items=0-1", "bytes=a-b"])("%s serves the whole body", (header) => {
    expect(parseRange(header, 1000)).toBeNull();
  });

  it("never returns a range outside the body", () => {
    fc.assert(
      fc.property(fc.string(), fc.nat(10_000_000), (header, size) => {
        const r = parseRange(header, size);
        if (r === null || r === "unsatisfiable") return;
        expect(r.start).toBeGreaterThanOrEqual(0);
        expect(r.start).toBeLessThanOrEqual(r.end);
        expect(r.end).toBeLessThan(size);
      }),
    );
    fc.assert(
      fc.property(fc.nat(10_000), fc.nat(10_000), fc.integer({ min: 1, max: 10_000 }), (a, b, size) => {
        const r = parseRange(`bytes=${a}-${b}`, size);
        if (r === null || r === "unsatisfiable") return;
        expect(r.end).toBeLessThan(size);
        expect(r.start).toBe(a);
      }),
    );
  });
});
