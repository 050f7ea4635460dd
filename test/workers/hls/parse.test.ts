// Parsing origin playlists: lossless lines, attribute spans, what PlaylistInfo says, which input is refused and which only warned about.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  joinLines,
  lexicalParse,
  MAX_PLAYLIST_LENGTH,
  parseAttributeList,
  parsePlaylist,
  PlaylistError,
  semanticParse,
} from "../../../workers/hls/parse";
import { NoVariantFitsError, rewritePlaylist } from "../../../workers/hls/rewrite";

const ORIGIN = { originUrl: "https://origin.example/live/ch/index.m3u8", allowedHosts: ["cdn.example"] };

function reasonOf(text: string): string {
  try {
    parsePlaylist(text);
  } catch (e) {
    if (e instanceof PlaylistError) return e.reason;
    throw e;
  }
  throw new Error("parsed without error");
}

const MEDIA_HEAD = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:6\n";
const MV_HEAD = "#EXTM3U\n#EXT-X-VERSION:7\n";

describe("lexicalParse", () => {
  it("keeps each line's text and its LF, CRLF or missing line ending", () => {
    const { bom, lines } = lexicalParse("#EXTM3U\r\n\n# note\nseg.ts");
    expect(bom).toBe(false);
    expect(lines.map((l) => [l.kind, l.text, l.eol])).toEqual([
      ["tag", "#EXTM3U", "\r\n"],
      ["blank", "", "\n"],
      ["comment", "# note", "\n"],
      ["uri", "seg.ts", ""],
    ]);
  });

  it("detects a leading byte order mark and keeps it out of the first line", () => {
    const lexed = lexicalParse("\uFEFF#EXTM3U\n");
    expect(lexed.bom).toBe(true);
    expect(lexed.lines[0]).toMatchObject({ kind: "tag", name: "EXTM3U", text: "#EXTM3U", offset: 1 });
  });

  it("classifies tags by #EXT, keeping the raw value after the first colon", () => {
    const [tag] = lexicalParse('#EXT-X-KEY:METHOD=AES-128,URI="k:1"').lines;
    expect(tag).toMatchObject({ kind: "tag", name: "EXT-X-KEY", value: 'METHOD=AES-128,URI="k:1"', valueStart: 11 });
    expect(lexicalParse("#ext-x-key:METHOD=NONE").lines[0]?.kind).toBe("comment");
    expect(lexicalParse("#EXT-X-ENDLIST").lines[0]).toMatchObject({ kind: "tag", name: "EXT-X-ENDLIST", value: null });
  });

  it("gives the URI span of a URI line without its surrounding spaces and tabs", () => {
    const [line] = lexicalParse(" \tseg 1.ts  ").lines;
    expect(line).toMatchObject({ kind: "uri", uri: "seg 1.ts", uriStart: 2, uriEnd: 10 });
  });

  it("gives back the input exactly when its lines are joined, for any string", () => {
    const playlistish = fc
      .array(fc.constantFrom("#EXTM3U", "#EXT-X-KEY:URI=\"a\"", "seg.ts", "\n", "\r\n", "\r", "\uFEFF", " ", "\t", "#", "é", "\u0000"), { maxLength: 30 })
      .map((p) => p.join(""));
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary" }), playlistish), (s) => {
        const lexed = lexicalParse(s);
        expect(joinLines(lexed)).toBe(s);
        for (const line of lexed.lines) {
          expect(line.text.includes("\n")).toBe(false);
          expect(s.slice(line.offset, line.offset + line.text.length)).toBe(line.text);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("parseAttributeList", () => {
  it("returns name, value, quoting and the exact span of each value so one value can be replaced alone", () => {
    const line = '#EXT-X-STREAM-INF:BANDWIDTH=1280000,CODECS="avc1.4d401f,mp4a.40.2",X-NEW=foo,RESOLUTION=1280x720';
    const attrs = parseAttributeList(line, 18);
    expect(attrs.map((a) => [a.name, a.value, a.quoted])).toEqual([
      ["BANDWIDTH", "1280000", false],
      ["CODECS", "avc1.4d401f,mp4a.40.2", true],
      ["X-NEW", "foo", false],
      ["RESOLUTION", "1280x720", false],
    ]);
    const codecs = attrs[1]!;
    expect(line.slice(codecs.start, codecs.end)).toBe('"avc1.4d401f,mp4a.40.2"');
    const replaced = `${line.slice(0, codecs.start)}"hvc1"${line.slice(codecs.end)}`;
    expect(replaced).toBe('#EXT-X-STREAM-INF:BANDWIDTH=1280000,CODECS="hvc1",X-NEW=foo,RESOLUTION=1280x720');
  });

  it.each([
    ["an unterminated quoted-string", 'URI="a.ts'],
    ["text after a quoted value", 'URI="a.ts"b'],
    ["a repeated attribute", 'URI="a.ts",URI="b.ts"'],
    ["a lower-case attribute name", 'uri="a.ts"'],
    ["an attribute without =", "METHOD"],
  ])("refuses %s", (_, list) => {
    expect(() => parseAttributeList(list, 0)).toThrow(PlaylistError);
  });
});

describe("semanticParse", () => {
  it("describes a media playlist: target duration, sequence numbers, byte ranges, discontinuities, parts and hints", () => {
    const info = parsePlaylist(
      `${MEDIA_HEAD}#EXT-X-MEDIA-SEQUENCE:100\n#EXT-X-DISCONTINUITY-SEQUENCE:3\n#EXT-X-PART-INF:PART-TARGET=1.0\n` +
        `#EXT-X-KEY:METHOD=AES-128,URI="k.key"\n#EXT-X-MAP:URI="init.mp4",BYTERANGE="100@0"\n` +
        `#EXTINF:6.0,first\n#EXT-X-BYTERANGE:500@100\nmain.mp4\n#EXT-X-DISCONTINUITY\n#EXTINF:5.5,\nseg-101.m4s\n` +
        `#EXT-X-PART:DURATION=1.0,URI="p0.m4s",INDEPENDENT=YES\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p1.m4s",BYTERANGE-START=0\n` +
        `#EXT-X-RENDITION-REPORT:URI="../a/x.m3u8",LAST-MSN=101,LAST-PART=0\n`,
    );
    expect(info).toMatchObject({
      kind: "media",
      version: 7,
      targetDuration: 6,
      mediaSequence: 100,
      discontinuitySequence: 3,
      endList: false,
      partTargetDuration: 1,
    });
    expect(info.segments).toEqual([
      { line: 11, uri: "main.mp4", duration: 6, title: "first", byterange: { length: 500, offset: 100 }, mediaSequence: 100, discontinuity: false, gap: false },
      { line: 14, uri: "seg-101.m4s", duration: 5.5, title: null, byterange: null, mediaSequence: 101, discontinuity: true, gap: false },
    ]);
    expect(info.parts).toEqual([{ line: 15, uri: "p0.m4s", duration: 1, independent: true, gap: false, byterange: null, mediaSequence: 102 }]);
    expect(info.preloadHints).toEqual([{ line: 16, type: "PART", uri: "p1.m4s", byterangeStart: 0, byterangeLength: null }]);
    expect(info.renditionReports).toEqual([{ line: 17, uri: "../a/x.m3u8", lastMsn: 101, lastPart: 0 }]);
    expect(info.keys[0]).toMatchObject({ method: "AES-128", uri: "k.key" });
    expect(info.maps[0]).toMatchObject({ uri: "init.mp4", byterange: { length: 100, offset: 0 } });
  });

  it("numbers segments after an EXT-X-SKIP as the skipped ones were there", () => {
    const info = parsePlaylist(`${MEDIA_HEAD}#EXT-X-MEDIA-SEQUENCE:10\n#EXT-X-SKIP:SKIPPED-SEGMENTS=5\n#EXTINF:6,\ns.ts\n`);
    expect(info.segments[0]?.mediaSequence).toBe(15);
  });

  it("describes a multivariant playlist: variants, I-frame variants, renditions, session data and steering", () => {
    const info = parsePlaylist(
      `${MV_HEAD}#EXT-X-CONTENT-STEERING:SERVER-URI="s.json",PATHWAY-ID="A"\n` +
        `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,URI="a/en.m3u8"\n` +
        `#EXT-X-STREAM-INF:BANDWIDTH=1280000,AVERAGE-BANDWIDTH=1000000,RESOLUTION=1280x720,FRAME-RATE=29.97,CODECS="avc1.4d401f,mp4a.40.2",AUDIO="aud",PATHWAY-ID="A"\n` +
        `v/720p.m3u8\n#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=86000,URI="v/if.m3u8"\n` +
        `#EXT-X-SESSION-DATA:DATA-ID="com.example.title",VALUE="Final"\n`,
    );
    expect(info.kind).toBe("multivariant");
    expect(info.targetDuration).toBeNull();
    expect(info.variants).toEqual([
      {
        line: 5,
        uri: "v/720p.m3u8",
        bandwidth: 1280000,
        averageBandwidth: 1000000,
        resolution: { width: 1280, height: 720 },
        codecs: "avc1.4d401f,mp4a.40.2",
        frameRate: 29.97,
        audio: "aud",
        video: null,
        subtitles: null,
        closedCaptions: null,
        pathwayId: "A",
      },
    ]);
    expect(info.iFrameVariants[0]).toMatchObject({ uri: "v/if.m3u8", bandwidth: 86000 });
    expect(info.renditions[0]).toMatchObject({ type: "AUDIO", groupId: "aud", name: "English", uri: "a/en.m3u8", default: true, autoselect: true });
    expect(info.sessionData[0]).toMatchObject({ dataId: "com.example.title", value: "Final", uri: null });
    expect(info.contentSteering).toEqual({ serverUri: "s.json", pathwayId: "A" });
  });

  it("accepts the URI-less forms the spec allows: EXT-X-KEY METHOD=NONE and audio renditions carried in the variant", () => {
    expect(() => parsePlaylist(`${MEDIA_HEAD}#EXT-X-KEY:METHOD=NONE\n#EXTINF:6,\ns.ts\n`)).not.toThrow();
    expect(() =>
      parsePlaylist(`${MV_HEAD}#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="x"\n#EXT-X-STREAM-INF:BANDWIDTH=1,AUDIO="a"\nv.m3u8\n`),
    ).not.toThrow();
  });

  it("takes a LexedPlaylist or its lines", () => {
    const lexed = lexicalParse(`\uFEFF${MEDIA_HEAD}#EXTINF:6,\ns.ts\n`);
    expect(semanticParse(lexed).warnings.some((w) => w.includes("byte order mark"))).toBe(true);
    expect(semanticParse(lexed.lines).segments).toHaveLength(1);
  });
});

describe("playlists refused with PlaylistError", () => {
  it.each([
    ["an empty body", "", "#EXTM3U"],
    ["a first line that is not #EXTM3U", "#EXT-X-VERSION:3\n#EXTM3U\n", "#EXTM3U"],
    ["a blank line before #EXTM3U", "\n#EXTM3U\n#EXT-X-TARGETDURATION:6\n", "#EXTM3U"],
    ["#EXTM3U after a byte order mark and a space", "\uFEFF #EXTM3U\n", "#EXTM3U"],
    ["an EXT-X-STREAM-INF at the end", `${MV_HEAD}#EXT-X-STREAM-INF:BANDWIDTH=1\n`, "not followed by a URI line"],
    ["an EXT-X-STREAM-INF followed by another", `${MV_HEAD}#EXT-X-STREAM-INF:BANDWIDTH=1\n#EXT-X-STREAM-INF:BANDWIDTH=2\nv.m3u8\n`, "not followed by a URI line"],
    ["an EXT-X-STREAM-INF without BANDWIDTH", `${MV_HEAD}#EXT-X-STREAM-INF:CODECS="a"\nv.m3u8\n`, "BANDWIDTH"],
    ["an EXTINF at the end", `${MEDIA_HEAD}#EXTINF:6,\n`, "EXTINF is not followed by a URI line"],
    ["an EXTINF followed by another", `${MEDIA_HEAD}#EXTINF:6,\n#EXTINF:6,\ns.ts\n`, "EXTINF is not followed by a URI line"],
    ["a URI line with no EXTINF", `${MEDIA_HEAD}s.ts\n`, "not preceded by EXTINF"],
    ["a non-numeric EXTINF duration", `${MEDIA_HEAD}#EXTINF:six,\ns.ts\n`, "not a non-negative number"],
    ["a negative EXTINF duration", `${MEDIA_HEAD}#EXTINF:-1,\ns.ts\n`, "not a non-negative number"],
    ["an EXTINF duration with an exponent", `${MEDIA_HEAD}#EXTINF:1e3,\ns.ts\n`, "not a non-negative number"],
    ["a media playlist without EXT-X-TARGETDURATION", "#EXTM3U\n#EXTINF:6,\ns.ts\n", "EXT-X-TARGETDURATION"],
    ["a bad EXT-X-BYTERANGE", `${MEDIA_HEAD}#EXTINF:6,\n#EXT-X-BYTERANGE:a@b\ns.ts\n`, "EXT-X-BYTERANGE"],
    ["a SUBTITLES rendition without URI", `${MV_HEAD}#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="s",NAME="en"\n`, "required when TYPE is SUBTITLES"],
    ["an EXT-X-MEDIA without TYPE", `${MV_HEAD}#EXT-X-MEDIA:GROUP-ID="s",NAME="en",URI="x"\n`, "TYPE"],
    ["an EXT-X-MAP without URI", `${MEDIA_HEAD}#EXT-X-MAP:BYTERANGE="1@0"\n`, "EXT-X-MAP has no URI"],
    ["an EXT-X-PART without URI", `${MEDIA_HEAD}#EXT-X-PART:DURATION=1\n`, "EXT-X-PART has no URI"],
    ["an EXT-X-PART without DURATION", `${MEDIA_HEAD}#EXT-X-PART:URI="p.m4s"\n`, "DURATION"],
    ["an EXT-X-PRELOAD-HINT without URI", `${MEDIA_HEAD}#EXT-X-PRELOAD-HINT:TYPE=PART\n`, "EXT-X-PRELOAD-HINT has no URI"],
    ["an EXT-X-RENDITION-REPORT without URI", `${MEDIA_HEAD}#EXT-X-RENDITION-REPORT:LAST-MSN=1\n`, "EXT-X-RENDITION-REPORT has no URI"],
    ["an EXT-X-I-FRAME-STREAM-INF without URI", `${MV_HEAD}#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1\n`, "EXT-X-I-FRAME-STREAM-INF has no URI"],
    ["an EXT-X-SESSION-KEY without URI", `${MV_HEAD}#EXT-X-SESSION-KEY:METHOD=AES-128\n`, "EXT-X-SESSION-KEY has no URI"],
    ["an AES-128 EXT-X-KEY without URI", `${MEDIA_HEAD}#EXT-X-KEY:METHOD=AES-128\n`, "required unless METHOD is NONE"],
    ["an EXT-X-KEY without METHOD", `${MEDIA_HEAD}#EXT-X-KEY:URI="k"\n`, "METHOD"],
    ["an EXT-X-MEDIA without GROUP-ID", `${MV_HEAD}#EXT-X-MEDIA:TYPE=AUDIO,NAME="en",URI="a.m3u8"\n`, "EXT-X-MEDIA has no GROUP-ID attribute"],
    ["an EXT-X-I-FRAME-STREAM-INF without BANDWIDTH", `${MV_HEAD}#EXT-X-I-FRAME-STREAM-INF:URI="i.m3u8"\n`, "EXT-X-I-FRAME-STREAM-INF has no BANDWIDTH attribute"],
    ["an EXT-X-SESSION-KEY without METHOD", `${MV_HEAD}#EXT-X-SESSION-KEY:URI="k"\n`, "EXT-X-SESSION-KEY has no METHOD attribute"],
    ["an EXT-X-PRELOAD-HINT without TYPE", `${MEDIA_HEAD}#EXT-X-PRELOAD-HINT:URI="p.m4s"\n`, "EXT-X-PRELOAD-HINT has no TYPE attribute"],
    ["an EXT-X-SKIP without SKIPPED-SEGMENTS", `${MEDIA_HEAD}#EXT-X-SKIP:RECENTLY-REMOVED-DATERANGES=""\n`, "EXT-X-SKIP has no SKIPPED-SEGMENTS attribute"],
    ["a non-integer EXT-X-TARGETDURATION", "#EXTM3U\n#EXT-X-TARGETDURATION:6.5\n", "EXT-X-TARGETDURATION is not a decimal-integer"],
    ["a non-integer EXT-X-MEDIA-SEQUENCE", `${MEDIA_HEAD}#EXT-X-MEDIA-SEQUENCE:-1\n`, "EXT-X-MEDIA-SEQUENCE is not a decimal-integer"],
    ["a non-integer EXT-X-DISCONTINUITY-SEQUENCE", `${MEDIA_HEAD}#EXT-X-DISCONTINUITY-SEQUENCE:x\n`, "EXT-X-DISCONTINUITY-SEQUENCE is not a decimal-integer"],
    ["media-segment tags in a multivariant playlist", `${MV_HEAD}#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n#EXTINF:6,\ns.ts\n`, "mixes media-segment and multivariant tags"],
    ["multivariant tags in a media playlist", `${MEDIA_HEAD}#EXTINF:6,\ns.ts\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="x"\n`, "mixes media-segment and multivariant tags"],
    ["a NUL byte", `${MEDIA_HEAD}#EXTINF:6,\ns\u0000.ts\n`, "NUL"],
    ["a bare carriage return", `${MEDIA_HEAD}#EXTINF:6,\r#EXT-X-KEY:METHOD=NONE\ns.ts\n`, "bare carriage return"],
    ["a C1 control character", `${MEDIA_HEAD}#EXTINF:6,\ns\u0085.ts\n`, "U+0085"],
    // hls.js reads "#EXTINF:6,x\u2028https://evil…" as a title, then a segment URI on the same line.
    ["a Unicode line separator", `${MEDIA_HEAD}#EXTINF:6,x\u2028https://evil.example/s.ts\ns.ts\n`, "U+2028"],
    ["a Unicode paragraph separator", `${MEDIA_HEAD}#EXTINF:6,\ns\u2029.ts\n`, "U+2029"],
    ["a variable reference in a URI", `${MEDIA_HEAD}#EXT-X-DEFINE:NAME="h",VALUE="https://evil.example/"\n#EXTINF:6,\n{$h}s.ts\n`, "variable substitution"],
    ["an unterminated quoted-string in a URI attribute", `${MEDIA_HEAD}#EXT-X-MAP:URI="init.mp4\n`, "unterminated"],
    ["a repeated URI attribute", `${MEDIA_HEAD}#EXT-X-MAP:URI="a.mp4",URI="https://evil.example/b.mp4"\n`, "more than once"],
    // hls.js scans a multivariant text for "#EXT-X-MEDIA:" etc. anywhere, not only at line starts.
    ["a tag hidden in a comment", `${MV_HEAD}# old: #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=a,NAME=x,URI=https://evil.example/a.m3u8\n`, "inside a comment or a tag value"],
    ["a tag hidden in an unknown tag", `${MEDIA_HEAD}#EXT-X-FOO:#EXT-X-KEY:METHOD=AES-128,URI="https://evil.example/k"\n`, "inside a comment or a tag value"],
    ["a tag hidden in a quoted value", `${MV_HEAD}#EXT-X-SESSION-DATA:DATA-ID="d",VALUE="#EXT-X-MEDIA:TYPE=AUDIO,URI=https://evil.example/a"\n`, "inside a comment or a tag value"],
    ["a tag hidden after #EXTM3U", "#EXTM3U #EXT-X-STREAM-INF:BANDWIDTH=1\n", "first line"],
  ])("refuses %s", (_, text, reason) => {
    expect(reasonOf(text)).toContain(reason);
  });

  it("refuses a body over the size limit before parsing it", () => {
    const huge = `#EXTM3U\n#${"x".repeat(MAX_PLAYLIST_LENGTH)}\n`;
    expect(reasonOf(huge)).toContain("larger than");
    expect(() => rewritePlaylist(huge, { playlistUrl: ORIGIN.originUrl, playlistKey: "index.m3u8", origin: ORIGIN })).toThrow(PlaylistError);
  });

  it("carries the line number of the problem", () => {
    try {
      parsePlaylist(`${MEDIA_HEAD}#EXTINF:x,\ns.ts\n`);
    } catch (e) {
      expect(e).toBeInstanceOf(PlaylistError);
      expect((e as PlaylistError).line).toBe(4);
      expect((e as PlaylistError).message).toMatch(/^line 4: /);
    }
  });
});

describe("odd but safe playlists give warnings", () => {
  it.each([
    ["an unknown tag", `${MEDIA_HEAD}#EXT-X-FUTURE:A=1\n#EXTINF:6,\ns.ts\n`, "unknown tag #EXT-X-FUTURE"],
    ["blank lines", `${MEDIA_HEAD}\n\n#EXTINF:6,\ns.ts\n`, "2 blank line(s)"],
    ["comments", `${MEDIA_HEAD}# hello\n#EXTINF:6,\ns.ts\n`, "1 comment line(s)"],
    ["a missing EXT-X-VERSION", "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6,\ns.ts\n", "no EXT-X-VERSION"],
    ["a repeated EXT-X-TARGETDURATION", `${MEDIA_HEAD}#EXT-X-TARGETDURATION:6\n#EXTINF:6,\ns.ts\n`, "appears more than once"],
    ["a segment longer than the target duration", `${MEDIA_HEAD}#EXTINF:9.0,\ns.ts\n`, "rounds above EXT-X-TARGETDURATION"],
    ["a leading byte order mark", `\uFEFF${MEDIA_HEAD}#EXTINF:6,\ns.ts\n`, "byte order mark"],
    ["an EXT-X-PREFETCH tag", `${MEDIA_HEAD}#EXTINF:6,\ns.ts\n#EXT-X-PREFETCH:https://evil.example/next.ts\n`, "EXT-X-PREFETCH removed"],
    ["an unquoted URI attribute", `${MEDIA_HEAD}#EXT-X-MAP:URI=init.mp4\n#EXTINF:6,\ns.ts\n`, "not a quoted-string"],
  ])("warns about %s", (_, text, warning) => {
    const info = parsePlaylist(text);
    expect(info.warnings.some((w) => w.includes(warning)), JSON.stringify(info.warnings)).toBe(true);
  });

  it("gives no warning for a clean playlist", () => {
    expect(parsePlaylist(`${MEDIA_HEAD}#EXTINF:6,\ns.ts\n`).warnings).toEqual([]);
  });
});

describe("rewritePlaylist on arbitrary text", () => {
  const line = fc.constantFrom(
    "#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-TARGETDURATION:6", "#EXTINF:6,", "#EXTINF:-1,", "#EXTINF:abc", "seg.ts", "../x.ts",
    "https://evil.example/x.ts", "https://cdn.example/x.ts", "//origin.example/live/x.ts", "a:b", "#EXT-X-STREAM-INF:BANDWIDTH=100",
    "#EXT-X-STREAM-INF:BANDWIDTH=9000000", "v.m3u8", '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="x",URI="https://evil.example/a.m3u8"',
    '#EXT-X-KEY:METHOD=AES-128,URI="k"', '#EXT-X-KEY:METHOD=AES-128,URI="', '#EXT-X-MAP:URI="i.mp4"', '#EXT-X-PART:DURATION=1,URI="p"',
    '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="https://evil.example/p"', '#EXT-X-RENDITION-REPORT:URI="r.m3u8"',
    '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1,URI="i.m3u8"', '#EXT-X-CONTENT-STEERING:SERVER-URI="s"', "#EXT-X-ENDLIST", "", "# c",
    "\uFEFF", "\r", "\u0000", "#EXT-X-SKIP:SKIPPED-SEGMENTS=99999999999999999999", "{$x}", "#EXT-X-BYTERANGE:1@2",
    '#EXT-X-SESSION-DATA:DATA-ID="d",URI="https://evil.example/d"', '#EXT-X-SESSION-KEY:METHOD=AES-128,URI="skd://x"',
  );
  const playlist = fc.tuple(fc.array(line, { maxLength: 25 }), fc.constantFrom("\n", "\r\n")).map(([ls, eol]) => ls.join(eol));
  const opts = fc.record({
    maxBandwidth: fc.option(fc.constantFrom(50, 1000, 100_000_000), { nil: undefined }),
    steering: fc.option(fc.constant({ serverUri: "steering.json", pathwayId: "edge" }), { nil: undefined }),
    at: fc.constantFrom(
      { playlistUrl: ORIGIN.originUrl, playlistKey: "index.m3u8" },
      { playlistUrl: "https://origin.example/live/ch/720p/index.m3u8", playlistKey: "720p/index.m3u8" },
      { playlistUrl: "https://cdn.example/x/y.m3u8", playlistKey: "_ext/https/cdn.example/x/y.m3u8" },
    ),
  });

  it("throws nothing but PlaylistError or NoVariantFitsError", () => {
    fc.assert(
      fc.property(fc.oneof(playlist, fc.string({ unit: "binary" }), fc.string().map((s) => `#EXTM3U\n${s}`)), opts, (text, o) => {
        try {
          const r = rewritePlaylist(text, {
            ...o.at,
            origin: ORIGIN,
            ...(o.maxBandwidth === undefined ? {} : { maxBandwidth: o.maxBandwidth }),
            ...(o.steering === undefined ? {} : { steering: o.steering }),
          });
          expect(typeof r.text).toBe("string");
        } catch (e) {
          if (!(e instanceof PlaylistError) && !(e instanceof NoVariantFitsError)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });
});
