// Rewrite policy: foreign links, bandwidth caps, steering options, redirects, losslessness, and the fast path's equivalence to the URL path.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { lexicalParse, PlaylistError } from "../../../workers/hls/parse";
import { type ChannelOrigin, fromPlayKey } from "../../../workers/hls/paths";
import { NoVariantFitsError, rewritePlaylist, type RewriteOptions, UriMapper } from "../../../workers/hls/rewrite";

const ORIGIN: ChannelOrigin = { originUrl: "https://origin.example/live/ch/index.m3u8", allowedHosts: ["cdn.example"] };
const AT_720: RewriteOptions = { playlistUrl: "https://origin.example/live/ch/720p/index.m3u8", playlistKey: "720p/index.m3u8", origin: ORIGIN };
const AT_ROOT: RewriteOptions = { playlistUrl: ORIGIN.originUrl, playlistKey: "index.m3u8", origin: ORIGIN };
const MEDIA = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:6\n";
const EDGE = "https://edge.example/play/T/";

function refusal(text: string, opts: RewriteOptions): unknown {
  try {
    rewritePlaylist(text, opts);
  } catch (e) {
    return e;
  }
  throw new Error("rewrote without error");
}

describe("foreign links in a media playlist", () => {
  it.each([
    ["a segment", `${MEDIA}#EXTINF:6,\nhttps://evil.example/s.ts\n`],
    ["a protocol-relative segment", `${MEDIA}#EXTINF:6,\n//evil.example/s.ts\n`],
    ["an EXT-X-KEY", `${MEDIA}#EXT-X-KEY:METHOD=AES-128,URI="https://evil.example/k"\n#EXTINF:6,\ns.ts\n`],
    ["an EXT-X-MAP", `${MEDIA}#EXT-X-MAP:URI="https://evil.example/i.mp4"\n#EXTINF:6,\ns.ts\n`],
    ["an EXT-X-PART", `${MEDIA}#EXTINF:6,\ns.ts\n#EXT-X-PART:DURATION=1,URI="https://evil.example/p.m4s"\n`],
  ])("refuse the whole playlist when %s links to a host outside the channel's origin", (_, text) => {
    const e = refusal(text, AT_720);
    expect(e).toBeInstanceOf(PlaylistError);
    expect((e as PlaylistError).reason).toContain("links to a host outside the channel's origin");
  });

  it.each([
    ["an ftp segment", `${MEDIA}#EXTINF:6,\nftp://origin.example/live/ch/s.ts\n`, "does not serve"],
    ["a data: segment", `${MEDIA}#EXTINF:6,\ndata:video/mp2t;base64,AAAA\n`, "does not serve"],
    ["a segment with userinfo", `${MEDIA}#EXTINF:6,\nhttps://u:p@origin.example/live/ch/s.ts\n`, "does not serve"],
    ["a segment path no key can carry", `${MEDIA}#EXTINF:6,\na%2Fb.ts\n`, "does not serve"],
    ["an unparsable segment URI", `${MEDIA}#EXTINF:6,\nhttps://[bad/s.ts\n`, "not valid"],
    ["an EXT-X-MAP with a data: URI", `${MEDIA}#EXT-X-MAP:URI="data:video/mp4;base64,AAAA"\n#EXTINF:6,\ns.ts\n`, "does not serve"],
  ])("refuse the whole playlist for %s", (_, text, reason) => {
    const e = refusal(text, AT_720);
    expect(e).toBeInstanceOf(PlaylistError);
    expect((e as PlaylistError).reason).toContain(reason);
  });

  it("drops only the line of a foreign preload hint or rendition report, with a warning each", () => {
    const text =
      `${MEDIA}#EXTINF:6,\ns.ts\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="https://evil.example/p"\n` +
      `#EXT-X-RENDITION-REPORT:URI="https://evil.example/r.m3u8",LAST-MSN=1\n`;
    const r = rewritePlaylist(text, AT_720);
    expect(r.text).toBe(`${MEDIA}#EXTINF:6,\ns.ts\n`);
    expect(r.warnings.filter((w) => w.includes("removed"))).toHaveLength(2);
  });
});

describe("interstitials (EXT-X-DATERANGE X-ASSET-URI, X-ASSET-LIST)", () => {
  const range = (attr: string) => `#EXT-X-DATERANGE:ID="i",CLASS="com.apple.hls.interstitial",START-DATE="2026-12-04T18:00:00Z",${attr}\n`;

  it.each([
    ["X-ASSET-URI on another host", 'X-ASSET-URI="https://ads.evil.example/a.m3u8"'],
    ["X-ASSET-LIST on another host", 'X-ASSET-LIST="//ads.evil.example/list.json"'],
    ["X-ASSET-URI with userinfo", 'X-ASSET-URI="https://u:p@origin.example/live/ch/a.m3u8"'],
    ["X-ASSET-URI with another scheme", 'X-ASSET-URI="ftp://origin.example/live/ch/a.m3u8"'],
    ["X-ASSET-LIST that is not a valid URI", 'X-ASSET-LIST="https://[bad/list.json"'],
  ])("drops only the date range line when its %s, with a warning, and keeps the segments", (_, attr) => {
    const r = rewritePlaylist(`${MEDIA}${range(attr)}#EXTINF:6,\ns.ts\n`, AT_720);
    expect(r.text).toBe(`${MEDIA}#EXTINF:6,\ns.ts\n`);
    expect(r.warnings.filter((w) => w.includes("interstitial (EXT-X-DATERANGE") && w.includes("removed"))).toHaveLength(1);
  });

  it("drops a date range once, with one warning, when both of its assets are foreign", () => {
    const attr = 'X-ASSET-URI="https://ads.evil.example/a.m3u8",X-ASSET-LIST="https://ads.evil.example/l.json"';
    const r = rewritePlaylist(`${MEDIA}${range(attr)}#EXTINF:6,\ns.ts\n`, AT_720);
    expect(r.text).toBe(`${MEDIA}#EXTINF:6,\ns.ts\n`);
    expect(r.warnings.filter((w) => w.includes("removed"))).toHaveLength(1);
  });

  it("rewrites a root-relative asset so the player's request stays under /play/<token>/", () => {
    const r = rewritePlaylist(`${MEDIA}${range('X-ASSET-URI="/ads/a.m3u8"')}#EXTINF:6,\ns.ts\n`, AT_720);
    const uri = /X-ASSET-URI="([^"]*)"/.exec(r.text)?.[1] ?? "";
    const resolved = new URL(uri, `${EDGE}720p/index.m3u8`).href;
    expect(resolved.startsWith(EDGE)).toBe(true);
    expect(fromPlayKey(resolved.slice(EDGE.length), ORIGIN).href).toBe("https://origin.example/ads/a.m3u8");
  });

  it("refuses variable substitution in an interstitial URI, as in every other URI", () => {
    const e = refusal(`${MEDIA}${range('X-ASSET-URI="{$host}/a.m3u8"')}#EXTINF:6,\ns.ts\n`, AT_720);
    expect(e).toBeInstanceOf(PlaylistError);
  });

  it("leaves a date range without an asset alone", () => {
    const text = `${MEDIA}#EXT-X-DATERANGE:ID="s",START-DATE="2026-12-04T18:00:00Z",X-COM-EXAMPLE-URI="https://evil.example/x"\n#EXTINF:6,\ns.ts\n`;
    expect(rewritePlaylist(text, AT_720).text).toBe(text);
  });
});

describe("foreign links in a multivariant playlist", () => {
  it("refuses the playlist when no variant is left", () => {
    const text = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nhttps://evil.example/a.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2\nftp://origin.example/b.m3u8\n";
    const e = refusal(text, AT_ROOT);
    expect(e).toBeInstanceOf(PlaylistError);
    expect((e as PlaylistError).reason).toContain("no variant can be served");
  });

  it("refuses a multivariant playlist that has only I-frame variants", () => {
    expect(refusal('#EXTM3U\n#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1,URI="i.m3u8"\n', AT_ROOT)).toBeInstanceOf(PlaylistError);
  });

  it("keeps comments between a dropped variant's tag and its URI line", () => {
    const text = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n# note\nhttps://evil.example/a.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2\nb.m3u8\n";
    expect(rewritePlaylist(text, AT_ROOT).text).toBe("#EXTM3U\n# note\n#EXT-X-STREAM-INF:BANDWIDTH=2\nb.m3u8\n");
  });
});

describe("maxBandwidth", () => {
  const ladder = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\nlow.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=3000000\nhigh.m3u8\n";

  it("throws NoVariantFitsError, not PlaylistError, when every variant is above the cap", () => {
    const e = refusal(ladder, { ...AT_ROOT, maxBandwidth: 500_000 });
    expect(e).toBeInstanceOf(NoVariantFitsError);
    expect(e).not.toBeInstanceOf(PlaylistError);
    expect(e).toMatchObject({ maxBandwidth: 500_000, lowestBandwidth: 800_000 });
  });

  it("keeps a variant exactly at the cap", () => {
    expect(rewritePlaylist(ladder, { ...AT_ROOT, maxBandwidth: 800_000 }).text).toBe("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\nlow.m3u8\n");
  });

  it("is ignored for a media playlist", () => {
    const text = `${MEDIA}#EXTINF:6,\ns.ts\n`;
    expect(rewritePlaylist(text, { ...AT_720, maxBandwidth: 1, steering: { serverUri: "steering.json", pathwayId: "edge" } }).text).toBe(text);
  });
});

describe("options", () => {
  it.each([
    ["a pathway id with a quote", { serverUri: "steering.json", pathwayId: 'a"b' }],
    ["an empty pathway id", { serverUri: "steering.json", pathwayId: "" }],
    ["a server URI with a line break", { serverUri: "s.json\n#EXT-X-ENDLIST", pathwayId: "edge" }],
    ["a server URI with a quote", { serverUri: 's.json",X="', pathwayId: "edge" }],
  ])("rejects steering with %s as a programming error (TypeError)", (_, steering) => {
    expect(() => rewritePlaylist("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n", { ...AT_ROOT, steering })).toThrow(TypeError);
  });

  it("rejects a playlistKey that is not a key of the channel", () => {
    expect(() => rewritePlaylist("#EXTM3U\n", { ...AT_ROOT, playlistKey: "../x.m3u8" })).toThrow(TypeError);
  });

  it("resolves against the redirected playlistUrl but links relative to the key the player asked for", () => {
    const opts: RewriteOptions = { playlistUrl: "https://cdn.example/edge-7/720p/index.m3u8", playlistKey: "720p/index.m3u8", origin: ORIGIN };
    const r = rewritePlaylist(`${MEDIA}#EXTINF:6,\nseg-1.ts\n`, opts);
    expect(r.text).toBe(`${MEDIA}#EXTINF:6,\n../_ext/https/cdn.example/edge-7/720p/seg-1.ts\n`);
  });
});

describe("output shape", () => {
  const uri = fc.constantFrom(
    "seg.ts", "a/b.ts", "./c.ts", "../up.ts", "/live/ch/abs.ts", "/live/other.ts", "https://origin.example/live/ch/x.ts?q=1",
    "//cdn.example/y.ts", "https://CDN.example/z%20z.ts#f", "s e g.ts", "q.ts?a=../b&c=%2F", "é.ts", "x.ts?'quote'",
  );
  const extra = fc.constantFrom("", "# comment", "#EXT-X-FUTURE:URI=\"https://evil.example/\"", "#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:00Z", "#EXT-X-DISCONTINUITY");
  const media = fc
    .tuple(fc.array(fc.tuple(extra, uri, fc.boolean()), { minLength: 1, maxLength: 20 }), fc.constantFrom("\n", "\r\n"))
    .map(([segs, eol]) =>
      [
        "#EXTM3U",
        "#EXT-X-TARGETDURATION:6",
        ...segs.flatMap(([x, u, key]) => [
          ...(x === "" ? [] : [x]),
          ...(key ? [`#EXT-X-KEY:METHOD=AES-128,URI="${u}",IV=0x00`] : []),
          "#EXTINF:6,",
          u,
        ]),
      ].join(eol) + eol,
    );

  it("changes nothing but the URIs, and every URI still names the same origin resource", () => {
    fc.assert(
      fc.property(media, (text) => {
        const out = rewritePlaylist(text, AT_720).text;
        const a = lexicalParse(text).lines;
        const b = lexicalParse(out).lines;
        const problems: string[] = [];
        if (b.length !== a.length) problems.push(`line count ${a.length} → ${b.length}`);
        a.forEach((la, i) => {
          const lb = b[i];
          if (lb === undefined || lb.eol !== la.eol || lb.kind !== la.kind) {
            problems.push(`line ${i + 1} changed shape`);
            return;
          }
          let before = la.text;
          let after = lb.text;
          let uris: [string, string] | null = null;
          if (la.kind === "uri" && lb.kind === "uri") {
            uris = [la.uri, lb.uri];
            before = la.text.slice(0, la.uriStart) + la.text.slice(la.uriEnd);
            after = lb.text.slice(0, lb.uriStart) + lb.text.slice(lb.uriEnd);
          } else if (la.text.startsWith("#EXT-X-KEY:")) {
            const ua = /URI="([^"]*)"/.exec(la.text)?.[1] ?? "";
            const ub = /URI="([^"]*)"/.exec(lb.text)?.[1] ?? "";
            uris = [ua, ub];
            before = la.text.replace(ua, "");
            after = lb.text.replace(ub, "");
          }
          if (after !== before) problems.push(`line ${i + 1}: ${JSON.stringify(la.text)} → ${JSON.stringify(lb.text)}`);
          if (uris !== null) {
            const origin = new URL(uris[0], AT_720.playlistUrl);
            origin.hash = "";
            const edge = new URL(uris[1], `${EDGE}720p/index.m3u8`);
            const named = edge.href.startsWith(EDGE) ? fromPlayKey(edge.href.slice(EDGE.length), ORIGIN).href : edge.href;
            if (named !== origin.href) problems.push(`line ${i + 1}: ${uris[1]} names ${named}, not ${origin.href}`);
          }
        });
        expect(problems).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

describe("fast path", () => {
  const contexts = [
    AT_ROOT,
    AT_720,
    { playlistUrl: "https://origin.example/live/ch/a/b/c.m3u8?x=1", playlistKey: "a/b/c.m3u8?x=1", origin: ORIGIN },
    {
      playlistUrl: "https://origin.example/ch/master.m3u8?tok=1",
      playlistKey: "index.m3u8",
      origin: { originUrl: "https://origin.example/ch/master.m3u8?tok=1", allowedHosts: [] },
    },
    { playlistUrl: "https://cdn.example/x/y.m3u8", playlistKey: "_ext/https/cdn.example/x/y.m3u8", origin: ORIGIN },
    // A backup origin's playlists: every key carries its prefix, and one may be served under the primary's key.
    { playlistUrl: "https://origin.example/live/ch/720p/index.m3u8", playlistKey: "_b1/720p/index.m3u8", origin: { ...ORIGIN, keyPrefix: "_b1/" } },
    { playlistUrl: "https://origin.example/live/ch/index.m3u8", playlistKey: "_b2/index.m3u8", origin: { ...ORIGIN, keyPrefix: "_b2/" } },
    { playlistUrl: "https://origin.example/live/ch/720p/index.m3u8", playlistKey: "_b1/720p/index.m3u8", servedAs: "720p/index.m3u8", origin: { ...ORIGIN, keyPrefix: "_b1/" } },
  ];
  const piece = fc.constantFrom(
    "a", "Z", "0", "seg-1.ts", "-", ".", "..", "_", "~", "!", "$", "&", "'", "(", ")", "*", "+", ",", ";", "=", "@", "/", "?", ":",
    "%", "%2e", "%2F", "%00", " ", "#", "\t", "index.m3u8", "steering.json", "master.m3u8", "master.m3u8?tok=1", "_ext", "é", "\\",
    "{", "}", "|", "^", "`", '"', "[", "]",
  );
  const prefix = fc.constantFrom(
    "", "", "", "https://origin.example/live/ch/", "https://origin.example/live/", "http://origin.example/live/ch/",
    "https://origin.example/ch/", "https://cdn.example/", "//cdn.example/x/", "//origin.example/live/ch/", "https://CDN.example/",
    "HTTPS://cdn.example/", "https://evil.example/", "https://cdn.example:443/", "https://cdn.example:8443/", "https://0x7f.1/",
    "https://xn--abc.example/", "https://cdn..example/", "https://cdn.example./", "https://u@cdn.example/", "https://cdn.example",
  );
  const raw = fc
    .tuple(prefix, fc.array(piece, { minLength: 1, maxLength: 10 }))
    .map(([p, pieces]) => p + pieces.join(""));

  it("gives exactly what resolving with URL, toPlayKey and relativeUri gives", () => {
    const mappers = contexts.map((c) => new UriMapper(c));
    let fastHits = 0;
    fc.assert(
      fc.property(fc.nat({ max: mappers.length - 1 }), raw, (i, r) => {
        const m = mappers[i]!;
        const fast = m.fast(r);
        if (fast === null) return;
        fastHits++;
        expect(m.mapSlow(r)).toEqual({ uri: fast });
      }),
      { numRuns: 20_000 },
    );
    expect(fastHits).toBeGreaterThan(1000);
  });

  it("maps absolute and protocol-relative links on strings when the URL parser would not change them", () => {
    const m = new UriMapper(AT_720);
    expect(m.fast("https://origin.example/live/ch/720p/seg-1.ts")).toBe("seg-1.ts");
    expect(m.fast("//origin.example/live/ch/audio/en.m3u8?x=1")).toBe("../audio/en.m3u8?x=1");
    expect(m.fast("https://cdn.example/live/seg-1.ts")).toBe("../_ext/https/cdn.example/live/seg-1.ts");
    for (const r of ["HTTPS://cdn.example/x", "https://CDN.example/x", "https://cdn.example:443/x", "https://evil.example/x", "https://0x7f.1/x", "https://origin.example/live/ch/index.m3u8"]) {
      expect(m.fast(r), r).toBeNull();
    }
  });

  it("is taken for plain relative segment names and not for anything that needs URL resolution", () => {
    const m = new UriMapper(AT_720);
    expect(m.fast("seg-1.ts")).toBe("seg-1.ts");
    expect(m.fast("sub/seg-1.ts?token=a/b:c%2F")).toBe("sub/seg-1.ts?token=a/b:c%2F");
    for (const r of ["../x.ts", "./x.ts", "/x.ts", "a:b", "a//b", "a%2e.ts", "x.ts#f", "é.ts", "a b.ts"]) {
      expect(m.fast(r), r).toBeNull();
    }
    expect(new UriMapper(AT_ROOT).fast("_ext/x.ts")).toBeNull();
    expect(new UriMapper(AT_ROOT).fast("index.m3u8")).toBeNull();
  });
});
