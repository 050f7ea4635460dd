// The golden playlist cases (fixtures/<name>.m3u8 → fixtures/<name>.expected.m3u8) with the options and spec text of each.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ChannelOrigin } from "../../../workers/hls/paths";
import type { RewriteOptions } from "../../../workers/hls/rewrite";

export const ORIGIN: ChannelOrigin = {
  originUrl: "https://origin.example/live/ch/index.m3u8",
  allowedHosts: ["cdn.example"],
};

const DIR = "https://origin.example/live/ch/";

export interface GoldenCase {
  /** Fixture base name, after the RFC 8216 / rfc8216bis section it exercises. */
  name: string;
  /** The sentence of the spec the case exercises (RFC 8216, or draft-pantos-hls-rfc8216bis where noted). */
  spec: string;
  /** What the case checks, as a behaviour sentence. */
  behaviour: string;
  playlistUrl: string;
  playlistKey: string;
  steering?: RewriteOptions["steering"];
  maxBandwidth?: number;
  /** Origin URLs (absolute) the rewrite must leave out. */
  dropped?: string[];
  /** Substrings each expected among the warnings. */
  warnings?: string[];
}

const media720: Pick<GoldenCase, "playlistUrl" | "playlistKey"> = {
  playlistUrl: `${DIR}720p/index.m3u8`,
  playlistKey: "720p/index.m3u8",
};
const multivariant: Pick<GoldenCase, "playlistUrl" | "playlistKey"> = {
  playlistUrl: ORIGIN.originUrl,
  playlistKey: "index.m3u8",
};
const steering = { serverUri: "steering.json", pathwayId: "edge" };

export const GOLDEN_CASES: GoldenCase[] = [
  {
    name: "4.1-bom",
    spec: "RFC 8216 4.1: Playlist files MUST NOT contain any Byte Order Mark (BOM); clients SHOULD fail to parse Playlists that contain a BOM or do not parse as UTF-8.",
    behaviour: "keeps a leading byte order mark byte for byte and warns about it",
    ...media720,
    warnings: ["byte order mark"],
  },
  {
    name: "4.1-crlf-line-endings",
    spec: "RFC 8216 4.1: Lines in a Playlist file are terminated by either a single line feed character or a carriage return character followed by a line feed character.",
    behaviour: "keeps CRLF line endings and a last line without a line ending",
    ...multivariant,
  },
  {
    name: "4.1-blank-lines-comments-unknown-tags",
    spec: "RFC 8216 4.1: Blank lines are ignored. […] Tags begin with #EXT. They are case sensitive. All other lines that begin with '#' are comments and SHOULD be ignored.",
    behaviour: "passes blank lines, comments, unknown tags and the whitespace around URI lines through unchanged",
    ...media720,
    warnings: ["unknown tag #EXT-X-VENDOR-THING", "blank line", "comment line", "no EXT-X-VERSION"],
  },
  {
    name: "4.2-quoted-attribute-values-with-commas",
    spec: "RFC 8216 4.2: quoted-string: a string of characters within a pair of double quotes (0x22). The following characters MUST NOT appear in a quoted-string: line feed (0xA), carriage return (0xD), or double quote (0x22).",
    behaviour: "reads commas and URI= inside quoted values as text and rewrites only the real URIs",
    ...multivariant,
  },
  {
    name: "4.4.3.6-ext-x-i-frames-only",
    spec: "rfc8216bis 4.4.3.6: The EXT-X-I-FRAMES-ONLY tag indicates that each Media Segment in the Playlist describes a single I-frame.",
    behaviour: "rewrites the segments and EXT-X-MAP of an I-frame playlist relative to its own directory",
    playlistUrl: `${DIR}iframe/index.m3u8`,
    playlistKey: "iframe/index.m3u8",
  },
  {
    name: "4.4.4.1-extinf-relative-uris-and-query-strings",
    spec: "RFC 8216 4.1: Relative URIs are considered relative to the URI of the Playlist that contains it.",
    behaviour: "keeps relative segment URIs and their query strings, dropping only a leading ./",
    ...media720,
  },
  {
    name: "4.4.4.1-extinf-absolute-and-protocol-relative-uris",
    spec: "rfc8216bis 4.4.4.1: The EXTINF tag specifies the duration of a Media Segment. It applies only to the next Media Segment.",
    behaviour: "turns absolute and protocol-relative segment URIs on the origin into relative ones and drops fragments",
    ...media720,
  },
  {
    name: "4.4.4.1-extinf-ext-cross-host-allowed",
    spec: "rfc8216bis 4.4.4.1: The EXTINF tag specifies the duration of a Media Segment. It applies only to the next Media Segment.",
    behaviour: "maps segments on an allowed other host to _ext keys",
    ...media720,
  },
  {
    name: "4.4.4.1-extinf-dot-dot-above-origin-directory",
    spec: "RFC 8216 4.1: Relative URIs are considered relative to the URI of the Playlist that contains it.",
    behaviour: "maps links above the origin directory, and links that would hit a reserved name, to _ext keys",
    ...media720,
  },
  {
    name: "4.4.4.1-extinf-in-ext-playlist",
    spec: "RFC 8216 4.1: Relative URIs are considered relative to the URI of the Playlist that contains it.",
    behaviour: "rewrites a media playlist served under an _ext key relative to that key",
    playlistUrl: "https://cdn.example/live/ch/1080p/index.m3u8?token=abc",
    playlistKey: "_ext/https/cdn.example/live/ch/1080p/index.m3u8?token=abc",
  },
  {
    name: "4.4.4.2-ext-x-byterange",
    spec: "rfc8216bis 4.4.4.2: The EXT-X-BYTERANGE tag indicates that a Media Segment is a sub-range of the resource identified by its URI.",
    behaviour: "rewrites the URI of byte-range segments and keeps EXT-X-BYTERANGE as it is",
    ...media720,
  },
  {
    name: "4.4.4.4-ext-x-key-aes128",
    spec: "rfc8216bis 4.4.4.4: Media Segments MAY be encrypted. The EXT-X-KEY tag specifies how to decrypt them. […] URI: This attribute is REQUIRED unless the METHOD is NONE.",
    behaviour: "rewrites AES-128 key URIs, keeps IV, and leaves METHOD=NONE alone",
    ...media720,
  },
  {
    name: "4.4.4.4-ext-x-key-drm-key-uris",
    spec: "rfc8216bis 4.4.4.4: KEYFORMAT […] specifies how the key is represented in the resource identified by the URI.",
    behaviour: "keeps skd: and data: key URIs verbatim because they name DRM keys, not network resources",
    ...media720,
  },
  {
    name: "4.4.4.5-ext-x-map",
    spec: "rfc8216bis 4.4.4.5: The EXT-X-MAP tag specifies how to obtain the Media Initialization Section required to parse the applicable Media Segments.",
    behaviour: "rewrites EXT-X-MAP URIs and quotes a URI the origin left unquoted",
    ...media720,
    warnings: ["not a quoted-string"],
  },
  {
    name: "4.4.4.9-ext-x-part",
    spec: "rfc8216bis 4.4.4.9: The EXT-X-PART tag identifies a Partial Segment.",
    behaviour: "rewrites partial segment URIs and keeps their BYTERANGE",
    ...media720,
  },
  {
    name: "4.4.5.3-ext-x-preload-hint",
    spec: "rfc8216bis 4.4.5.3: The EXT-X-PRELOAD-HINT tag allows a Client loading media from a live stream to reduce the time to obtain a resource from the Server by issuing its request before the resource is available to be delivered.",
    behaviour: "rewrites preload hints and drops one that links outside the channel's origin",
    ...media720,
    dropped: ["https://elsewhere.example/init.mp4"],
    warnings: ["EXT-X-PRELOAD-HINT removed"],
  },
  {
    name: "4.4.5.4-ext-x-rendition-report",
    spec: "rfc8216bis 4.4.5.4: URI […] It MUST be relative to the URI of the Media Playlist containing the EXT-X-RENDITION-REPORT tag.",
    behaviour: "keeps sibling-directory rendition reports relative and drops a foreign one",
    playlistUrl: `${DIR}video/720p.m3u8`,
    playlistKey: "video/720p.m3u8",
    dropped: ["https://evil.example/live/ch/video/480p.m3u8"],
    warnings: ["EXT-X-RENDITION-REPORT removed"],
  },
  {
    name: "4.4.6.1-ext-x-media",
    spec: "rfc8216bis 4.4.6.2.1: The URI attribute of the EXT-X-MEDIA tag is REQUIRED if the media type is SUBTITLES, but OPTIONAL if the media type is VIDEO or AUDIO.",
    behaviour: "rewrites rendition URIs, keeps renditions without one, and drops a foreign rendition",
    ...multivariant,
    dropped: ["https://evil.example/subs.m3u8"],
    warnings: ["rendition (EXT-X-MEDIA) removed"],
  },
  {
    name: "4.4.6.2-ext-x-stream-inf",
    spec: "rfc8216bis 4.4.6.2: The URI line that follows the EXT-X-STREAM-INF tag specifies a Media Playlist that carries a Rendition of the Variant Stream. The URI line is REQUIRED.",
    behaviour: "rewrites variant URIs, guards a colon in the first segment with ./, and drops a foreign variant with its tag",
    ...multivariant,
    dropped: ["https://evil.example/live/ch/2160p/index.m3u8"],
    warnings: ["variant (EXT-X-STREAM-INF) removed"],
  },
  {
    name: "4.4.6.2-ext-x-stream-inf-max-bandwidth",
    spec: "rfc8216bis 4.4.6.2: BANDWIDTH […] represents the peak segment bit rate of the Variant Stream.",
    behaviour: "removes variants and I-frame variants whose BANDWIDTH exceeds maxBandwidth",
    ...multivariant,
    maxBandwidth: 1_500_000,
    dropped: [`${DIR}1080p/index.m3u8`, `${DIR}1080p/iframe.m3u8`],
  },
  {
    name: "4.4.6.2.1-rendition-group-emptied",
    spec: "rfc8216bis 4.4.6.2: AUDIO […] MUST match the value of the GROUP-ID attribute of an EXT-X-MEDIA tag elsewhere in the Multivariant Playlist whose TYPE attribute is AUDIO.",
    behaviour: "drops a variant whose audio group lost every rendition to the foreign-link policy",
    ...multivariant,
    dropped: ["https://evil.example/en.m3u8", `${DIR}720p/far.m3u8`],
    warnings: ["every rendition of its AUDIO group"],
  },
  {
    name: "4.4.6.3-ext-x-i-frame-stream-inf",
    spec: "rfc8216bis 4.4.6.3: The EXT-X-I-FRAME-STREAM-INF tag identifies a Media Playlist file containing the I-frames of a multimedia presentation.",
    behaviour: "rewrites I-frame variant URIs and drops one with a non-http scheme",
    ...multivariant,
    warnings: ["I-frame variant (EXT-X-I-FRAME-STREAM-INF) removed"],
  },
  {
    name: "4.4.6.4-ext-x-session-data",
    spec: "rfc8216bis 4.4.6.4: The EXT-X-SESSION-DATA tag allows arbitrary session data to be carried in a Multivariant Playlist.",
    behaviour: "rewrites session data URIs, keeps VALUE-only entries, and drops foreign session data",
    ...multivariant,
    dropped: ["https://tracker.example/t.json"],
  },
  {
    name: "4.4.6.5-ext-x-session-key",
    spec: "rfc8216bis 4.4.6.5: The EXT-X-SESSION-KEY tag allows encryption keys from Media Playlists to be specified in a Multivariant Playlist.",
    behaviour: "rewrites session key URIs, keeps skd: verbatim, and drops a foreign session key",
    ...multivariant,
    dropped: ["https://keys.elsewhere.example/k2.key"],
  },
  {
    name: "4.4.6.6-ext-x-content-steering-replaced",
    spec: "rfc8216bis 4.4.6.6: The EXT-X-CONTENT-STEERING tag allows a server to provide a Content Steering (Section 7) Manifest.",
    behaviour: "replaces the origin's steering tag and every PATHWAY-ID with the platform's",
    ...multivariant,
    steering,
  },
  {
    name: "4.4.6.6-ext-x-content-steering-removed",
    spec: "rfc8216bis 4.4.6.6: The EXT-X-CONTENT-STEERING tag allows a server to provide a Content Steering (Section 7) Manifest.",
    behaviour: "removes the origin's steering tag when the platform does not steer",
    ...multivariant,
  },
  {
    name: "4.4.6.6-ext-x-content-steering-inserted",
    spec: "rfc8216bis 4.4.6.2: PATHWAY-ID […] Indicates that the Variant Stream belongs to the identified Content Steering (Section 7) Pathway.",
    behaviour: "inserts the steering tag after #EXTM3U and appends PATHWAY-ID before trailing whitespace",
    ...multivariant,
    steering,
  },
  {
    name: "D.2-ext-x-daterange-x-asset-uri",
    spec: "rfc8216bis Appendix D.2: The value of the X-ASSET-URI is a quoted-string absolute URI for a single interstitial asset. An Interstitial EXT-X-DATERANGE tag MUST have either the X-ASSET-URI attribute or the X-ASSET-LIST attribute.",
    behaviour: "rewrites interstitial asset URIs (absolute, root-relative, allowed host, relative) to relative play keys and drops a date range whose asset is on a foreign host",
    ...media720,
    dropped: ["https://ads.elsewhere.example/ad4.m3u8"],
    warnings: ["interstitial (EXT-X-DATERANGE X-ASSET-URI) removed"],
  },
  {
    name: "D.2-ext-x-daterange-x-asset-list",
    spec: "rfc8216bis Appendix D.2: The value of the X-ASSET-LIST is a quoted-string URI to a JSON object.",
    behaviour: "rewrites interstitial asset-list URIs to relative play keys and drops a date range whose asset list is on a foreign host",
    ...media720,
    dropped: ["http://ads.elsewhere.example/list.json"],
    warnings: ["interstitial (EXT-X-DATERANGE X-ASSET-LIST) removed"],
  },
];

const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));

export function readFixture(name: string): { input: string; expected: string } {
  return {
    input: readFileSync(`${FIXTURES}${name}.m3u8`, "utf8"),
    expected: readFileSync(`${FIXTURES}${name}.expected.m3u8`, "utf8"),
  };
}

export function optionsFor(c: GoldenCase): RewriteOptions {
  return {
    playlistUrl: c.playlistUrl,
    playlistKey: c.playlistKey,
    origin: ORIGIN,
    ...(c.steering === undefined ? {} : { steering: c.steering }),
    ...(c.maxBandwidth === undefined ? {} : { maxBandwidth: c.maxBandwidth }),
  };
}
