// Play keys: origin URL ↔ key mapping, the refusals of fromPlayKey (the security boundary), and relative links between keys.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ChannelOrigin, fromPlayKey, isAllowedOriginUrl, MAX_PLAY_KEY_LENGTH, PlayKeyError, relativeUri, toPlayKey } from "../../../workers/hls/paths";

const ORIGIN: ChannelOrigin = { originUrl: "https://origin.example/live/ch/index.m3u8", allowedHosts: ["cdn.example"] };
const EDGE = "https://edge.example/play/T/";

function key(url: string, origin: ChannelOrigin = ORIGIN): string | null {
  return toPlayKey(new URL(url), origin);
}

function hrefWithoutFragment(u: URL): string {
  const copy = new URL(u.href);
  copy.hash = "";
  return copy.href;
}

describe("toPlayKey", () => {
  it.each([
    ["https://origin.example/live/ch/index.m3u8", "index.m3u8"],
    ["https://origin.example/live/ch/index.m3u8#t=10", "index.m3u8"],
    ["https://origin.example/live/ch/720p/seg-1.ts", "720p/seg-1.ts"],
    ["https://origin.example/live/ch/seg-1.ts?token=a%2Fb&x=1", "seg-1.ts?token=a%2Fb&x=1"],
    ["https://origin.example/live/ch/seg-1.ts?", "seg-1.ts?"],
    ["https://origin.example/live/ch/a%20b.ts", "a%20b.ts"],
    ["https://origin.example/live/ch/a:b/seg.ts", "a:b/seg.ts"],
    ["https://origin.example/live/ch/index.m3u8?x=1", "index.m3u8?x=1"],
    ["https://origin.example/live/ch/steering.json", "_ext/https/origin.example/live/ch/steering.json"],
    ["https://origin.example/live/ch/_ext/https/evil.example/x", "_ext/https/origin.example/live/ch/_ext/https/evil.example/x"],
    ["https://origin.example/live/ch/", "_ext/https/origin.example/live/ch/"],
    ["https://origin.example/live/other/seg.ts", "_ext/https/origin.example/live/other/seg.ts"],
    ["http://origin.example/live/ch/seg.ts", "_ext/http/origin.example/live/ch/seg.ts"],
    ["https://cdn.example/live/ch/seg.ts", "_ext/https/cdn.example/live/ch/seg.ts"],
    ["HTTPS://CDN.EXAMPLE:443/seg.ts", "_ext/https/cdn.example/seg.ts"],
  ])("maps %s to the key %s", (url, expected) => {
    expect(key(url)).toBe(expected);
  });

  it.each([
    ["a host outside the channel", "https://evil.example/live/ch/seg.ts"],
    ["an allowed host on another port", "https://cdn.example:8443/seg.ts"],
    ["a suffix of an allowed host", "https://notcdn.example/seg.ts"],
    ["a subdomain of an allowed host", "https://a.cdn.example/seg.ts"],
    ["an ftp URL", "ftp://origin.example/live/ch/seg.ts"],
    ["a data URL", "data:text/plain,hello"],
    ["userinfo", "https://user:pw@origin.example/live/ch/seg.ts"],
    ["an empty path segment", "https://origin.example/live/ch/a//b.ts"],
    ["a percent-encoded slash in the path", "https://origin.example/live/ch/a%2Fb.ts"],
    ["a percent-encoded backslash in the path", "https://origin.example/live/ch/a%5cb.ts"],
    ["a percent-encoded NUL in the path", "https://origin.example/live/ch/a%00b.ts"],
    ["a key over the length limit", `https://origin.example/live/ch/${"a".repeat(MAX_PLAY_KEY_LENGTH)}.ts`],
  ])("refuses %s", (_, url) => {
    expect(key(url)).toBeNull();
  });

  it("honours host:port entries and IPv6 hosts in allowedHosts", () => {
    const origin: ChannelOrigin = { originUrl: "https://origin.example/ch/index.m3u8", allowedHosts: ["CDN.example:8443", "[::1]:8080"] };
    expect(key("https://cdn.example:8443/x.ts", origin)).toBe("_ext/https/cdn.example:8443/x.ts");
    expect(key("https://cdn.example/x.ts", origin)).toBeNull();
    expect(key("http://[::1]:8080/x.ts", origin)).toBe("_ext/http/[::1]:8080/x.ts");
    expect(fromPlayKey("_ext/http/[::1]:8080/x.ts", origin).href).toBe("http://[::1]:8080/x.ts");
  });

  it("treats a host:port entry that names the default port like the bare host", () => {
    const origin: ChannelOrigin = { originUrl: "https://origin.example/ch/index.m3u8", allowedHosts: ["cdn.example:443"] };
    expect(key("https://cdn.example/x.ts", origin)).toBe("_ext/https/cdn.example/x.ts");
    expect(key("http://cdn.example/x.ts", origin)).toBeNull();
  });

  it("maps an origin URL with a query to index.m3u8 only with that exact query", () => {
    const origin: ChannelOrigin = { originUrl: "https://origin.example/ch/master.m3u8?tok=1", allowedHosts: [] };
    expect(key("https://origin.example/ch/master.m3u8?tok=1", origin)).toBe("index.m3u8");
    expect(key("https://origin.example/ch/master.m3u8", origin)).toBe("master.m3u8");
    expect(fromPlayKey("index.m3u8", origin).href).toBe("https://origin.example/ch/master.m3u8?tok=1");
  });

  it("rejects a misconfigured channel with a TypeError", () => {
    expect(() => key("https://origin.example/x", { originUrl: "ftp://origin.example/x", allowedHosts: [] })).toThrow(TypeError);
    expect(() => key("https://origin.example/x", { originUrl: "https://origin.example/x", allowedHosts: ["cdn.example/path"] })).toThrow(TypeError);
    expect(() => key("https://origin.example/x", { originUrl: "https://origin.example/x", allowedHosts: ["cdn.example:70000"] })).toThrow(TypeError);
  });
});

describe("fromPlayKey", () => {
  it.each([
    ["index.m3u8", "https://origin.example/live/ch/index.m3u8"],
    ["720p/seg-1.ts", "https://origin.example/live/ch/720p/seg-1.ts"],
    ["seg.ts?a=1&b=../x", "https://origin.example/live/ch/seg.ts?a=1&b=../x"],
    ["a:b/seg.ts", "https://origin.example/live/ch/a:b/seg.ts"],
    ["_ext/https/cdn.example/seg.ts", "https://cdn.example/seg.ts"],
    ["_ext/http/origin.example/live/x/seg.ts", "http://origin.example/live/x/seg.ts"],
    ["_ext/https/cdn.example/", "https://cdn.example/"],
    // The entry with a query: a blocking reload of a channel whose entry is itself a media playlist.
    ["index.m3u8?_HLS_msn=12&_HLS_part=3", "https://origin.example/live/ch/index.m3u8?_HLS_msn=12&_HLS_part=3"],
  ])("reads %s as %s", (k, url) => {
    expect(fromPlayKey(k, ORIGIN).href).toBe(url);
  });

  it("names the entry with a query whatever its file name, after the entry's own query, and back", () => {
    const single: ChannelOrigin = { originUrl: "https://origin.example/live/ch/720p/playlist.m3u8?token=abc", allowedHosts: [] };
    const url = fromPlayKey("index.m3u8?_HLS_msn=12", single);
    expect(url.href).toBe("https://origin.example/live/ch/720p/playlist.m3u8?token=abc&_HLS_msn=12");
    expect(toPlayKey(url, single)).toBe("index.m3u8?_HLS_msn=12");
    expect(toPlayKey(new URL("https://origin.example/live/ch/720p/playlist.m3u8?token=abc"), single)).toBe("index.m3u8");
    expect(() => fromPlayKey("index.m3u8?", single)).toThrow(PlayKeyError);
  });

  // Every trick we could think of; each must be refused, never mapped to some URL.
  it.each([
    ["a parent segment", "../index.m3u8"],
    ["a parent segment inside the path", "720p/../../x.ts"],
    ["a current-directory segment", "./seg.ts"],
    ["a current-directory segment inside the path", "a/./seg.ts"],
    ["a lone parent segment", ".."],
    ["a percent-encoded parent segment", "%2e%2e/x.ts"],
    ["an upper-case percent-encoded parent segment", "a/%2E%2E/x.ts"],
    ["a half-encoded parent segment", ".%2e/x.ts"],
    ["the other half-encoded parent segment", "%2e./x.ts"],
    ["a percent-encoded current-directory segment", "%2e/x.ts"],
    ["an empty segment", "a//b.ts"],
    ["a leading slash", "/etc/passwd"],
    ["a protocol-relative form", "//evil.example/x.ts"],
    ["a backslash", "a\\b.ts"],
    ["a backslash traversal", "..\\..\\x.ts"],
    ["a backslash in the query", "seg.ts?a=\\"],
    ["a percent-encoded slash", "a%2fb.ts"],
    ["an upper-case percent-encoded slash", "..%2F..%2Fx.ts"],
    ["a percent-encoded backslash", "a%5Cb.ts"],
    ["a percent-encoded NUL", "a%00.ts"],
    ["a percent-encoded line feed", "a%0a.ts"],
    ["a NUL byte", "a\u0000.ts"],
    ["a line feed", "a\n.ts"],
    ["a carriage return", "a\r.ts"],
    ["a tab", "a\t.ts"],
    ["a DEL", "a\u007f.ts"],
    ["a space", "a b.ts"],
    ["a non-ASCII character", "é.ts"],
    ["a fragment", "seg.ts#x"],
    ["a double quote", 'seg".ts'],
    ["an empty key", ""],
    ["an over-long key", `${"a/".repeat(1100)}x.ts`],
    ["a reserved steering name", "steering.json"],
    ["the multivariant key with an empty query", "index.m3u8?"],
    ["the multivariant key as a directory", "index.m3u8/x.ts"],
    ["a reserved underscore name", "_private/x.ts"],
    ["_ext with ftp", "_ext/ftp/cdn.example/x.ts"],
    ["_ext with file", "_ext/file/etc/passwd"],
    ["_ext with javascript", "_ext/javascript/alert(1)/x"],
    ["_ext with an upper-case scheme", "_ext/HTTPS/cdn.example/x.ts"],
    ["_ext with a host outside the channel", "_ext/https/evil.example/x.ts"],
    ["_ext with userinfo", "_ext/https/evil.example@cdn.example/x.ts"],
    ["_ext with user and password", "_ext/https/u:p@cdn.example/x.ts"],
    ["_ext with an encoded at-sign", "_ext/https/evil.example%40cdn.example/x.ts"],
    ["_ext with port 0", "_ext/https/cdn.example:0/x.ts"],
    ["_ext with a port above 65535", "_ext/https/cdn.example:65536/x.ts"],
    ["_ext with a huge port", "_ext/https/cdn.example:99999999/x.ts"],
    ["_ext with a non-numeric port", "_ext/https/cdn.example:https/x.ts"],
    ["_ext with an explicit default port", "_ext/https/cdn.example:443/x.ts"],
    ["_ext with another port", "_ext/https/cdn.example:8443/x.ts"],
    ["_ext with an upper-case host", "_ext/https/CDN.EXAMPLE/x.ts"],
    ["_ext with a trailing-dot host", "_ext/https/cdn.example./x.ts"],
    ["_ext with a percent-encoded host", "_ext/https/cdn%2eexample/x.ts"],
    ["_ext with a numeric host", "_ext/https/0x7f.1/x.ts"],
    ["_ext with an IPv6 host", "_ext/https/[::1]/x.ts"],
    ["_ext without a path", "_ext/https/cdn.example"],
    ["_ext without a host", "_ext/https"],
    ["_ext naming what has a relative key", "_ext/https/origin.example/live/ch/seg.ts"],
    ["_ext naming the multivariant", "_ext/https/origin.example/live/ch/index.m3u8"],
    ["_ext with a parent segment", "_ext/https/cdn.example/../x.ts"],
    ["_ext with an encoded slash", "_ext/https/cdn.example/a%2Fb"],
  ])("refuses %s", (_, k) => {
    expect(() => fromPlayKey(k, ORIGIN)).toThrow(PlayKeyError);
  });
});

describe("isAllowedOriginUrl (what the origin shield may fetch, redirects included)", () => {
  const withPort: ChannelOrigin = { originUrl: "http://127.0.0.1:8788/live/index.m3u8", allowedHosts: ["cdn.example:8443", "keys.example"] };
  it.each([
    ["https://origin.example/live/a.ts", ORIGIN, true],
    ["https://CDN.example/x.ts", ORIGIN, true],
    ["https://cdn.example:443/x.ts", ORIGIN, true],
    ["https://cdn.example:8443/x.ts", ORIGIN, false],
    ["https://evil.example/x.ts", ORIGIN, false],
    ["https://user:pw@origin.example/x.ts", ORIGIN, false],
    ["ftp://origin.example/x.ts", ORIGIN, false],
    ["http://127.0.0.1:8788/seg.ts", withPort, true],
    ["http://127.0.0.1/seg.ts", withPort, false],
    ["http://127.0.0.1:9999/seg.ts", withPort, false],
    ["https://cdn.example:8443/seg.ts", withPort, true],
    ["https://cdn.example/seg.ts", withPort, false],
    ["http://keys.example/k.key", withPort, true],
  ] as const)("%s -> %s", (url, origin, allowed) => {
    expect(isAllowedOriginUrl(new URL(url), origin)).toBe(allowed);
  });
  it("fetches nothing for a channel whose originUrl does not parse", () => {
    expect(isAllowedOriginUrl(new URL("https://origin.example/a.ts"), { originUrl: "not a url", allowedHosts: ["origin.example"] })).toBe(false);
  });
});

describe("relativeUri", () => {
  it.each([
    ["index.m3u8", "720p/index.m3u8", "720p/index.m3u8"],
    ["720p/index.m3u8", "720p/seg-1.ts", "seg-1.ts"],
    ["720p/index.m3u8?x=/a/b", "720p/seg-1.ts", "seg-1.ts"],
    ["720p/index.m3u8", "720p/sub/seg-1.ts", "sub/seg-1.ts"],
    ["video/720p.m3u8", "audio/en.m3u8", "../audio/en.m3u8"],
    ["a/b/c.m3u8", "a/x/y.ts?q=1", "../x/y.ts?q=1"],
    ["720p/index.m3u8", "index.m3u8", "../index.m3u8"],
    ["index.m3u8", "a:b/c.ts", "./a:b/c.ts"],
    ["720p/index.m3u8", "720p/a:b.ts", "./a:b.ts"],
    ["index.m3u8", "seg.ts?a:b", "seg.ts?a:b"],
    ["index.m3u8", "_ext/https/cdn.example/x.ts", "_ext/https/cdn.example/x.ts"],
    ["720p/index.m3u8", "_ext/https/cdn.example/x.ts", "../_ext/https/cdn.example/x.ts"],
    ["_ext/https/cdn.example/live/x.m3u8", "_ext/https/cdn.example/live/y.ts?q", "y.ts?q"],
    ["_ext/https/cdn.example/live/x.m3u8", "_ext/https/cdn.example:8443/y.ts", "../../cdn.example:8443/y.ts"],
    ["a/x.m3u8", "a/", "./"],
    ["a/b/x.m3u8", "a/?q", "../?q"],
    ["a/x.m3u8?z", "a/x.m3u8", "x.m3u8"],
    ["a/x.m3u8", "a/x.m3u8?z", "x.m3u8?z"],
  ])("links from %s to %s with %s", (from, to, expected) => {
    expect(relativeUri(from, to)).toBe(expected);
    expect(new URL(expected, EDGE + from).href).toBe(EDGE + to);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const pathPiece = fc.constantFrom(
  "a", "Z", "0", "seg-1.ts", "720p", "-", "_", "~", ".", "..", "...", "%20", "%2e", "%2E", "%2f", "%2F", "%5c", "%00", "%41",
  "%zz", "%", "'", "(", "!", "$", "&", "+", ",", ";", "=", "@", ":", "é", " ", "\\", "|", "^", "`", "{", "}", "[", "]", '"',
  "<", ">", "index.m3u8", "steering.json", "_ext", "_x", "\t",
);
const segment = fc.array(pathPiece, { maxLength: 4 }).map((p) => p.join(""));
const queryPiece = fc.constantFrom("a=1", "&", "=", "/", "?", "..", "%2F", "'", "\\", ":", "@", "é", " ", "#", "%", "x");
const host = fc.constantFrom(
  "origin.example", "ORIGIN.example", "origin.example:443", "origin.example:80", "cdn.example", "cdn.example:443",
  "cdn.example:8443", "evil.example", "origin.example.evil.example", "127.0.0.1", "user@cdn.example",
);
const scheme = fc.constantFrom("https", "http", "HTTPS", "ftp", "wss");
const urlText = fc
  .record({
    scheme,
    host,
    underOrigin: fc.boolean(),
    segments: fc.array(segment, { maxLength: 4 }),
    query: fc.option(fc.array(queryPiece, { maxLength: 5 }).map((q) => q.join(""))),
    fragment: fc.option(fc.constantFrom("", "t=1", "x/../y")),
  })
  .map(({ scheme: s, host: h, underOrigin, segments, query, fragment }) => {
    const path = (underOrigin ? ["live", "ch", ...segments] : segments).join("/");
    return `${s}://${h}/${path}${query === null ? "" : `?${query}`}${fragment === null ? "" : `#${fragment}`}`;
  });

function parseOrNull(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

describe("play key properties", () => {
  it("gives back the same URL, minus its fragment, for every URL toPlayKey accepts", () => {
    fc.assert(
      fc.property(urlText, (text) => {
        const u = parseOrNull(text);
        if (u === null) return;
        const k = toPlayKey(u, ORIGIN);
        if (k === null) return;
        expect(k.length).toBeLessThanOrEqual(MAX_PLAY_KEY_LENGTH);
        expect(fromPlayKey(k, ORIGIN).href).toBe(hrefWithoutFragment(u));
      }),
      { numRuns: 3000 },
    );
  });

  it("accepts ordinary origin links (the generator is not all refusals)", () => {
    let accepted = 0;
    fc.assert(
      fc.property(urlText, (text) => {
        const u = parseOrNull(text);
        if (u !== null && toPlayKey(u, ORIGIN) !== null) accepted++;
      }),
      { numRuns: 1000 },
    );
    expect(accepted).toBeGreaterThan(100);
  });

  it("links between any two keys with a reference that resolves to the target and stays under /play/T/", () => {
    const keyOf = urlText.map((t) => {
      const u = parseOrNull(t);
      return u === null ? null : toPlayKey(u, ORIGIN);
    }).filter((k): k is string => k !== null);
    fc.assert(
      fc.property(keyOf, keyOf, (from, to) => {
        const rel = relativeUri(from, to);
        expect(rel).not.toMatch(/^[a-zA-Z][a-zA-Z0-9+.-]*:/);
        expect(rel.startsWith("/")).toBe(false);
        const resolved = new URL(rel, EDGE + from);
        expect(resolved.href.startsWith(EDGE)).toBe(true);
        expect(resolved.href).toBe(EDGE + to);
        const ups = rel.match(/^(?:\.\.\/)*/)?.[0].length ?? 0;
        expect(ups / 3).toBeLessThanOrEqual(from.split("?")[0]!.split("/").length - 1);
      }),
      { numRuns: 2000 },
    );
  });

  const trickPiece = fc.constantFrom(
    "a", "/", "//", "..", ".", "%2e", "%2E", "%2f", "%5c", "\\", "_ext", "https", "http", "ftp", "cdn.example", "origin.example",
    "evil.example", ":", "443", "8443", "0", "@", "?", "#", "%00", "\u0000", "\r", "\n", "index.m3u8", "steering.json", "_", "live",
    "ch", "seg.ts", " ", "é", "%40", "[::1]",
  );

  it("either refuses a key with PlayKeyError or returns an allowed URL whose canonical key is that key", () => {
    fc.assert(
      fc.property(fc.oneof(fc.array(trickPiece, { maxLength: 14 }).map((p) => p.join("")), fc.string(), fc.string({ unit: "binary" })), (k) => {
        let url: URL;
        try {
          url = fromPlayKey(k, ORIGIN);
        } catch (e) {
          expect(e).toBeInstanceOf(PlayKeyError);
          return;
        }
        expect(["http:", "https:"]).toContain(url.protocol);
        expect(["origin.example", "cdn.example"]).toContain(url.host);
        expect(url.username + url.password).toBe("");
        expect(toPlayKey(url, ORIGIN)).toBe(k);
      }),
      { numRuns: 5000 },
    );
  });
});
