// HLS playlist parsing in two phases: lexicalParse (lossless lines) then semanticParse (PlaylistInfo).
// Pure: standard JS only, no Workers or Node APIs.

/** Largest playlist text accepted, in UTF-16 code units (the fetch layer should cap bytes before decoding). */
export const MAX_PLAYLIST_LENGTH = 4 * 1024 * 1024;

/** A playlist that cannot be served safely; `reason` is a human sentence suitable for logs. */
export class PlaylistError extends Error {
  override readonly name = "PlaylistError";
  readonly reason: string;
  /** 1-based line number the problem was found on, when there is one. */
  readonly line: number | undefined;
  constructor(reason: string, line?: number) {
    super(line === undefined ? reason : `line ${line}: ${reason}`);
    this.reason = reason;
    this.line = line;
  }
}

// ---------------------------------------------------------------------------------------------
// Lexical phase

export type LineEnding = "\n" | "\r\n" | "";

interface LineBase {
  /** 1-based line number. */
  readonly number: number;
  /** Offset of the line's first character in the input string (after a BOM, if any). */
  readonly offset: number;
  /** The line's exact text, without its line ending. */
  readonly text: string;
  readonly eol: LineEnding;
}
export interface BlankLine extends LineBase {
  readonly kind: "blank";
}
export interface CommentLine extends LineBase {
  readonly kind: "comment";
}
export interface TagLine extends LineBase {
  readonly kind: "tag";
  /** Tag name without the leading `#`, e.g. `EXT-X-KEY`. */
  readonly name: string;
  /** Raw text after the first `:`, or null for a tag without a value. */
  readonly value: string | null;
  /** Offset of `value` inside `text` (meaningful only when value is not null). */
  readonly valueStart: number;
}
export interface UriLine extends LineBase {
  readonly kind: "uri";
  /** The URI with surrounding spaces and tabs removed. */
  readonly uri: string;
  /** Span of `uri` inside `text`. */
  readonly uriStart: number;
  readonly uriEnd: number;
}
export type Line = BlankLine | CommentLine | TagLine | UriLine;

export interface LexedPlaylist {
  /** True when the input started with U+FEFF; the BOM belongs to no line. */
  readonly bom: boolean;
  readonly lines: Line[];
}

const BOM = "\uFEFF";

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * Splits playlist text into classified lines, keeping every character: joining
 * `(bom ? "\uFEFF" : "") + text + eol` over the lines gives back the input exactly.
 * Never throws. A lone CR is not a line ending here (RFC 8216 4.1 allows LF and CRLF only).
 */
export function lexicalParse(input: string): LexedPlaylist {
  const bom = input.startsWith(BOM);
  const lines: Line[] = [];
  let pos = bom ? 1 : 0;
  const length = input.length;
  let number = 0;
  while (pos < length) {
    const lf = input.indexOf("\n", pos);
    let end: number;
    let eol: LineEnding;
    let next: number;
    if (lf < 0) {
      end = length;
      eol = "";
      next = length;
    } else if (lf > pos && input.charCodeAt(lf - 1) === 0x0d) {
      end = lf - 1;
      eol = "\r\n";
      next = lf + 1;
    } else {
      end = lf;
      eol = "\n";
      next = lf + 1;
    }
    number += 1;
    lines.push(classify(input.slice(pos, end), eol, number, pos));
    pos = next;
  }
  return { bom, lines };
}

function classify(text: string, eol: LineEnding, number: number, offset: number): Line {
  let start = 0;
  let end = text.length;
  while (start < end && isSpace(text.charCodeAt(start))) start++;
  if (start === end) return { kind: "blank", number, offset, text, eol };
  if (text.charCodeAt(start) === 0x23 /* # */) {
    if (!text.startsWith("EXT", start + 1)) return { kind: "comment", number, offset, text, eol };
    const colon = text.indexOf(":", start);
    let nameEnd = colon < 0 ? end : colon;
    while (nameEnd > start + 1 && isSpace(text.charCodeAt(nameEnd - 1))) nameEnd--;
    return {
      kind: "tag",
      number,
      offset,
      text,
      eol,
      name: text.slice(start + 1, nameEnd),
      value: colon < 0 ? null : text.slice(colon + 1),
      valueStart: colon < 0 ? text.length : colon + 1,
    };
  }
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  return { kind: "uri", number, offset, text, eol, uri: text.slice(start, end), uriStart: start, uriEnd: end };
}

/** Joins lexed lines back into text; the inverse of lexicalParse. */
export function joinLines(lexed: LexedPlaylist): string {
  let out = lexed.bom ? BOM : "";
  for (const line of lexed.lines) out += line.text + line.eol;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Attribute lists (RFC 8216bis 4.2)

export interface Attribute {
  readonly name: string;
  /** The value as written, without the surrounding quotes of a quoted-string. */
  readonly value: string;
  readonly quoted: boolean;
  /** Offset of the attribute name inside the line. */
  readonly nameStart: number;
  /** Span of the value inside the line, including the quotes of a quoted-string. */
  readonly start: number;
  readonly end: number;
}

function isAttributeNameChar(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x30 && code <= 0x39) || code === 0x2d;
}

/**
 * Parses the attribute-list of `line` starting at `from`. Unknown attributes are kept in order.
 * Throws PlaylistError on what another parser could read differently: an unterminated or
 * trailing-garbage quoted-string, a name outside [A-Z0-9-], a missing `=`, a repeated name.
 */
export function parseAttributeList(line: string, from: number, lineNumber?: number): Attribute[] {
  const attrs: Attribute[] = [];
  const seen = new Set<string>();
  const n = line.length;
  let i = from;
  for (;;) {
    while (i < n && isSpace(line.charCodeAt(i))) i++;
    if (i >= n) break;
    const nameStart = i;
    while (i < n && isAttributeNameChar(line.charCodeAt(i))) i++;
    if (i === nameStart || i >= n || line.charCodeAt(i) !== 0x3d /* = */) {
      throw new PlaylistError(`malformed attribute list near "${line.slice(nameStart, nameStart + 20)}"`, lineNumber);
    }
    const name = line.slice(nameStart, i);
    if (seen.has(name)) throw new PlaylistError(`attribute ${name} appears more than once`, lineNumber);
    seen.add(name);
    i++; // past "="
    const start = i;
    let value: string;
    let quoted = false;
    if (i < n && line.charCodeAt(i) === 0x22 /* " */) {
      const close = line.indexOf('"', i + 1);
      if (close < 0) throw new PlaylistError(`unterminated quoted-string in attribute ${name}`, lineNumber);
      value = line.slice(i + 1, close);
      quoted = true;
      i = close + 1;
      const end = i;
      while (i < n && isSpace(line.charCodeAt(i))) i++;
      if (i < n && line.charCodeAt(i) !== 0x2c /* , */) {
        throw new PlaylistError(`unexpected text after the quoted value of attribute ${name}`, lineNumber);
      }
      attrs.push({ name, value, quoted, nameStart, start, end });
    } else {
      const comma = line.indexOf(",", i);
      let end = comma < 0 ? n : comma;
      while (end > start && isSpace(line.charCodeAt(end - 1))) end--;
      value = line.slice(start, end);
      i = comma < 0 ? n : comma;
      attrs.push({ name, value, quoted, nameStart, start, end });
    }
    if (i < n) i++; // past ","
  }
  return attrs;
}

function getAttr(attrs: readonly Attribute[], name: string): Attribute | undefined {
  for (const a of attrs) if (a.name === name) return a;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Semantic phase

export interface ByteRange {
  readonly length: number;
  /** null: continues right after the previous sub-range of the same resource. */
  readonly offset: number | null;
}
export interface Resolution {
  readonly width: number;
  readonly height: number;
}
export interface Variant {
  readonly line: number;
  readonly uri: string;
  readonly bandwidth: number;
  readonly averageBandwidth: number | null;
  readonly resolution: Resolution | null;
  readonly codecs: string | null;
  readonly frameRate: number | null;
  readonly audio: string | null;
  readonly video: string | null;
  readonly subtitles: string | null;
  readonly closedCaptions: string | null;
  readonly pathwayId: string | null;
}
export interface IFrameVariant {
  readonly line: number;
  readonly uri: string;
  readonly bandwidth: number;
  readonly averageBandwidth: number | null;
  readonly resolution: Resolution | null;
  readonly codecs: string | null;
  readonly video: string | null;
  readonly pathwayId: string | null;
}
export interface Rendition {
  readonly line: number;
  readonly type: string;
  readonly groupId: string;
  readonly name: string | null;
  readonly language: string | null;
  readonly uri: string | null;
  readonly default: boolean;
  readonly autoselect: boolean;
}
export interface SessionData {
  readonly line: number;
  readonly dataId: string | null;
  readonly value: string | null;
  readonly uri: string | null;
}
export interface Key {
  readonly line: number;
  readonly method: string;
  readonly uri: string | null;
  readonly keyFormat: string | null;
}
export interface MediaInitialization {
  readonly line: number;
  readonly uri: string;
  readonly byterange: ByteRange | null;
}
export interface Segment {
  /** Line of the segment's URI. */
  readonly line: number;
  readonly uri: string;
  readonly duration: number;
  readonly title: string | null;
  readonly byterange: ByteRange | null;
  readonly mediaSequence: number;
  readonly discontinuity: boolean;
  readonly gap: boolean;
}
export interface Part {
  readonly line: number;
  readonly uri: string;
  readonly duration: number;
  readonly independent: boolean;
  readonly gap: boolean;
  readonly byterange: ByteRange | null;
  /** Media Sequence Number of the Parent Segment. */
  readonly mediaSequence: number;
}
export interface PreloadHint {
  readonly line: number;
  readonly type: string;
  readonly uri: string;
  readonly byterangeStart: number | null;
  readonly byterangeLength: number | null;
}
export interface RenditionReport {
  readonly line: number;
  readonly uri: string;
  readonly lastMsn: number | null;
  readonly lastPart: number | null;
}
/** An EXT-X-DATERANGE that names an interstitial asset (rfc8216bis Appendix D: X-ASSET-URI or X-ASSET-LIST). */
export interface Interstitial {
  readonly line: number;
  readonly id: string | null;
  /** X-ASSET-URI: the asset's multivariant playlist. */
  readonly assetUri: string | null;
  /** X-ASSET-LIST: a JSON object listing the assets. */
  readonly assetList: string | null;
}

/** What a playlist says, as the origin wrote it (URIs unresolved). Media-only fields are null in a multivariant playlist. */
export interface PlaylistInfo {
  readonly kind: "multivariant" | "media";
  readonly version: number | null;
  readonly targetDuration: number | null;
  readonly mediaSequence: number | null;
  readonly discontinuitySequence: number | null;
  readonly endList: boolean;
  readonly playlistType: string | null;
  readonly iFramesOnly: boolean;
  readonly partTargetDuration: number | null;
  readonly variants: Variant[];
  readonly iFrameVariants: IFrameVariant[];
  readonly renditions: Rendition[];
  readonly sessionData: SessionData[];
  readonly sessionKeys: Key[];
  readonly contentSteering: { readonly serverUri: string | null; readonly pathwayId: string | null } | null;
  readonly segments: Segment[];
  readonly parts: Part[];
  readonly preloadHints: PreloadHint[];
  readonly renditionReports: RenditionReport[];
  readonly interstitials: Interstitial[];
  readonly keys: Key[];
  readonly maps: MediaInitialization[];
  readonly warnings: string[];
}

/** Who carries a URI; decides the foreign-link policy in rewrite.ts. */
export type UriOwner =
  | "variant"
  | "segment"
  | "i-frame-variant"
  | "rendition"
  | "session-data"
  | "session-key"
  | "key"
  | "map"
  | "part"
  | "preload-hint"
  | "rendition-report"
  | "interstitial-asset"
  | "interstitial-asset-list";

/** One URI in the playlist with its exact place, in document order. */
export interface UriRef {
  readonly owner: UriOwner;
  readonly uri: string;
  /** Index into lines of the line holding the URI. */
  readonly lineIndex: number;
  /** Span of the URI inside that line's text (inside the quotes for a quoted attribute). */
  readonly start: number;
  readonly end: number;
  /** For an attribute value: whether it was quoted. Always true for URI lines (no quoting needed). */
  readonly quoted: boolean;
  /** Lines that go away together when this link is dropped (a variant is its STREAM-INF and URI lines). */
  readonly lineIndexes: readonly number[];
  /** Position of the owning item in its PlaylistInfo list (variants, renditions, …). */
  readonly item: number;
}

/** An EXT-X-STREAM-INF or EXT-X-I-FRAME-STREAM-INF line, for PATHWAY-ID edits. */
export interface StreamInfTag {
  readonly lineIndex: number;
  readonly iFrame: boolean;
  readonly item: number;
  readonly attrs: readonly Attribute[];
}

/** Everything rewrite.ts needs from one parse, so the rewrite never parses twice. */
export interface Analysis {
  readonly info: PlaylistInfo;
  readonly refs: UriRef[];
  readonly streamInfs: StreamInfTag[];
  /** Lines the rewrite always removes (origin EXT-X-CONTENT-STEERING, EXT-X-PREFETCH). */
  readonly removedLines: number[];
}

type TagClass = "media" | "multivariant" | "neutral";

// RFC 8216bis 4.4.3 (Media Playlist), 4.4.4 (Media Segment), 4.4.5 (Media Metadata) and 4.4.6 (Multivariant) tags.
const MEDIA_TAGS = new Set([
  "EXT-X-TARGETDURATION",
  "EXT-X-MEDIA-SEQUENCE",
  "EXT-X-DISCONTINUITY-SEQUENCE",
  "EXT-X-ENDLIST",
  "EXT-X-PLAYLIST-TYPE",
  "EXT-X-I-FRAMES-ONLY",
  "EXT-X-PART-INF",
  "EXT-X-SERVER-CONTROL",
  "EXTINF",
  "EXT-X-BYTERANGE",
  "EXT-X-DISCONTINUITY",
  "EXT-X-KEY",
  "EXT-X-MAP",
  "EXT-X-PROGRAM-DATE-TIME",
  "EXT-X-GAP",
  "EXT-X-BITRATE",
  "EXT-X-PART",
  "EXT-X-DATERANGE",
  "EXT-X-SKIP",
  "EXT-X-PRELOAD-HINT",
  "EXT-X-RENDITION-REPORT",
  "EXT-X-ALLOW-CACHE",
  "EXT-X-PREFETCH",
  "EXT-X-PREFETCH-DISCONTINUITY",
]);
const MULTIVARIANT_TAGS = new Set([
  "EXT-X-MEDIA",
  "EXT-X-STREAM-INF",
  "EXT-X-I-FRAME-STREAM-INF",
  "EXT-X-SESSION-DATA",
  "EXT-X-SESSION-KEY",
  "EXT-X-CONTENT-STEERING",
]);
// Allowed in both kinds, or widespread vendor tags (SCTE-35 ad markers) that carry no URI.
const NEUTRAL_TAGS = new Set([
  "EXTM3U",
  "EXT-X-VERSION",
  "EXT-X-INDEPENDENT-SEGMENTS",
  "EXT-X-START",
  "EXT-X-DEFINE",
  "EXT-X-CUE-OUT",
  "EXT-X-CUE-OUT-CONT",
  "EXT-X-CUE-IN",
  "EXT-X-CUE",
  "EXT-X-SCTE35",
  "EXT-OATCLS-SCTE35",
  "EXT-X-ASSET",
]);
// Tags that must appear at most once; a repeat is odd but does not change where links point.
const SINGLE_TAGS = new Set([
  "EXT-X-VERSION",
  "EXT-X-INDEPENDENT-SEGMENTS",
  "EXT-X-START",
  "EXT-X-TARGETDURATION",
  "EXT-X-MEDIA-SEQUENCE",
  "EXT-X-DISCONTINUITY-SEQUENCE",
  "EXT-X-ENDLIST",
  "EXT-X-PLAYLIST-TYPE",
  "EXT-X-I-FRAMES-ONLY",
  "EXT-X-PART-INF",
  "EXT-X-SERVER-CONTROL",
  "EXT-X-SKIP",
  "EXT-X-CONTENT-STEERING",
]);

interface TagSpec {
  /** The tag name as an interned literal, so the dispatch switch compares pointers, not text. */
  readonly name: string;
  readonly cls: TagClass;
  readonly single: boolean;
}
const TAG_SPECS = new Map<string, TagSpec>();
for (const [names, cls] of [[MEDIA_TAGS, "media"], [MULTIVARIANT_TAGS, "multivariant"], [NEUTRAL_TAGS, "neutral"]] as const) {
  for (const name of names) TAG_SPECS.set(name, { name, cls, single: SINGLE_TAGS.has(name) });
}

function isDigits(s: string): boolean {
  if (s.length === 0 || s.length > 20) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** decimal-integer, or null. */
function parseInteger(s: string): number | null {
  return isDigits(s) ? Number(s) : null;
}

/** Non-negative decimal-floating-point or decimal-integer (no sign, no exponent), or null. */
function parseDecimal(s: string): number | null {
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) digits++;
    else if (c === 0x2e && dots === 0) dots++;
    else return null;
  }
  return digits === 0 || s.length > 40 ? null : Number(s);
}

function parseByteRange(s: string): ByteRange | null {
  const at = s.indexOf("@");
  const length = parseInteger(at < 0 ? s : s.slice(0, at));
  if (length === null) return null;
  if (at < 0) return { length, offset: null };
  const offset = parseInteger(s.slice(at + 1));
  return offset === null ? null : { length, offset };
}

function parseResolution(s: string): Resolution | null {
  const x = s.indexOf("x");
  if (x < 0) return null;
  const width = parseInteger(s.slice(0, x));
  const height = parseInteger(s.slice(x + 1));
  return width === null || height === null ? null : { width, height };
}

// RFC 8216 4.1: "Playlist files MUST NOT contain UTF-8 control characters (U+0000 to U+001F and
// U+007F to U+009F), with the exceptions of CR (U+000D) and LF (U+000A)." TAB is tolerated because
// rfc8216bis uses it inside RECENTLY-REMOVED-DATERANGES. A lone CR is refused: players disagree on
// whether it ends a line, and a line two parsers split differently can hide a link from the rewrite.
// eslint-disable-next-line no-control-regex
// U+2028 and U+2029 too: JavaScript's `.` stops at them, so regex-based players (hls.js) split lines there.
const FORBIDDEN_CHARS = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]/;
// The same over a whole text, where LF and CRLF are line endings (a plain class scans fastest).
// eslint-disable-next-line no-control-regex
const FORBIDDEN_IN_TEXT = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]/;

function hasForbidden(text: string): boolean {
  if (FORBIDDEN_IN_TEXT.test(text)) return true;
  for (let cr = text.indexOf("\r"); cr >= 0; cr = text.indexOf("\r", cr + 1)) {
    if (text.charCodeAt(cr + 1) !== 0x0a) return true;
  }
  return false;
}

/** Parses lexed lines (or a whole LexedPlaylist, to be warned about a BOM) into PlaylistInfo, or throws PlaylistError. */
export function semanticParse(lexed: readonly Line[] | LexedPlaylist): PlaylistInfo {
  return "lines" in lexed ? analyse(lexed.lines, lexed.bom).info : analyse(lexed).info;
}

/** Lexical plus semantic parse of a whole text, with the size check done before any work. */
export function parsePlaylist(text: string): PlaylistInfo {
  checkSize(text.length);
  return semanticParse(lexicalParse(text));
}

export function checkSize(length: number): void {
  if (length > MAX_PLAYLIST_LENGTH) {
    throw new PlaylistError(`playlist is larger than ${MAX_PLAYLIST_LENGTH} characters`);
  }
}

/**
 * The semantic phase, also returning where every URI sits so the rewrite can edit in place.
 * `text`, when given, must be the text the lines came from; it lets the control-character check run once.
 */
export function analyse(lines: readonly Line[], bom = false, text?: string): Analysis {
  let total = 0;
  for (const line of lines) total += line.text.length + line.eol.length;
  checkSize(total);

  const first = lines[0];
  if (first === undefined || first.kind !== "tag" || first.name !== "EXTM3U" || first.text.trimEnd() !== "#EXTM3U") {
    throw new PlaylistError("the first line is not #EXTM3U", 1);
  }

  const warnings: string[] = [];
  if (bom) warnings.push("playlist starts with a byte order mark (kept)");
  const refs: UriRef[] = [];
  const streamInfs: StreamInfTag[] = [];
  const removedLines: number[] = [];

  const variants: Variant[] = [];
  const iFrameVariants: IFrameVariant[] = [];
  const renditions: Rendition[] = [];
  const sessionData: SessionData[] = [];
  const sessionKeys: Key[] = [];
  const segments: Segment[] = [];
  const parts: Part[] = [];
  const preloadHints: PreloadHint[] = [];
  const renditionReports: RenditionReport[] = [];
  const interstitials: Interstitial[] = [];
  const keys: Key[] = [];
  const maps: MediaInitialization[] = [];
  let contentSteering: PlaylistInfo["contentSteering"] = null;

  let version: number | null = null;
  let targetDuration: number | null = null;
  let mediaSequence = 0;
  let discontinuitySequence = 0;
  let endList = false;
  let playlistType: string | null = null;
  let iFramesOnly = false;
  let partTargetDuration: number | null = null;

  let firstMultivariant: TagLine | null = null;
  let firstMedia: TagLine | null = null;
  const seenSingle = new Set<string>();
  const unknownTags = new Map<string, { count: number; line: number }>();
  let blankCount = 0;
  let commentCount = 0;

  // Segment assembly state.
  let nextSequence = 0;
  let pendingExtinf: { line: number; duration: number; title: string | null } | null = null;
  let pendingByterange: ByteRange | null = null;
  let pendingDiscontinuity = false;
  let pendingGap = false;
  let pendingStreamInf: { index: number; line: TagLine; attrs: Attribute[] } | null = null;
  let longestSegment = 0;

  const attrsOf = (line: TagLine): Attribute[] =>
    line.value === null ? [] : parseAttributeList(line.text, line.valueStart, line.number);

  const requireUri = (line: TagLine, attrs: readonly Attribute[], why: string): Attribute => {
    const uri = getAttr(attrs, "URI");
    if (uri === undefined) throw new PlaylistError(`${line.name} has no URI attribute (${why})`, line.number);
    return uri;
  };

  const checkUriText = (uri: string, lineNumber: number): void => {
    // Variable substitution would rewrite the URI after we mapped it; a {$var} could expand to any host.
    if (uri.includes("{$")) {
      throw new PlaylistError("variable substitution ({$…}) in URIs is not supported", lineNumber);
    }
  };

  const attrRef = (
    owner: UriOwner,
    index: number,
    attr: Attribute,
    lineNumber: number,
    item: number,
    lineIndexes: readonly number[] = [index],
  ): void => {
    checkUriText(attr.value, lineNumber);
    refs.push({
      owner,
      uri: attr.value,
      lineIndex: index,
      start: attr.quoted ? attr.start + 1 : attr.start,
      end: attr.quoted ? attr.end - 1 : attr.end,
      quoted: attr.quoted,
      lineIndexes,
      item,
    });
    if (!attr.quoted) warnings.push(`line ${lineNumber}: URI attribute is not a quoted-string`);
  };

  const str = (attrs: readonly Attribute[], name: string): string | null => getAttr(attrs, name)?.value ?? null;
  const int = (attrs: readonly Attribute[], name: string, line: TagLine): number | null => {
    const a = getAttr(attrs, name);
    if (a === undefined) return null;
    const v = parseInteger(a.value);
    if (v === null) throw new PlaylistError(`${name} is not a decimal-integer`, line.number);
    return v;
  };
  // Required values: a missing or malformed one refuses the playlist, named by tag and attribute.
  const requiredStr = (attrs: readonly Attribute[], name: string, line: TagLine): string => {
    const v = str(attrs, name);
    if (v === null) throw new PlaylistError(`${line.name} has no ${name} attribute`, line.number);
    return v;
  };
  const requiredInt = (attrs: readonly Attribute[], name: string, line: TagLine): number => {
    const v = int(attrs, name, line);
    if (v === null) throw new PlaylistError(`${line.name} has no ${name} attribute`, line.number);
    return v;
  };
  const integerValue = (line: TagLine): number => {
    const v = parseInteger((line.value ?? "").trim());
    if (v === null) throw new PlaylistError(`${line.name} is not a decimal-integer`, line.number);
    return v;
  };

  // One scan of the whole text when the caller has it; per line only when there is a forbidden character.
  const scanLines = text === undefined || hasForbidden(text);
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] as Line;
    const bad = scanLines ? FORBIDDEN_CHARS.exec(line.text) : null;
    if (bad !== null) {
      const code = bad[0].charCodeAt(0);
      throw new PlaylistError(
        code === 0 ? "playlist contains a NUL byte" : code === 0x0d ? "playlist contains a bare carriage return" : `playlist contains control character U+${code.toString(16).padStart(4, "0").toUpperCase()}`,
        line.number,
      );
    }
    if (line.kind === "blank") {
      blankCount++;
      continue;
    }
    if (line.kind === "comment") {
      if (embeddedTag(line.text, 0)) throw embeddedTagError(line);
      commentCount++;
      continue;
    }
    if (line.kind === "uri") {
      checkUriText(line.uri, line.number);
      if (pendingStreamInf !== null) {
        const si = pendingStreamInf;
        pendingStreamInf = null;
        const a = si.attrs;
        const item = variants.length;
        variants.push({
          line: si.line.number,
          uri: line.uri,
          bandwidth: int(a, "BANDWIDTH", si.line) as number,
          averageBandwidth: int(a, "AVERAGE-BANDWIDTH", si.line),
          resolution: resolutionAttr(a),
          codecs: str(a, "CODECS"),
          frameRate: decimalAttr(a, "FRAME-RATE"),
          audio: str(a, "AUDIO"),
          video: str(a, "VIDEO"),
          subtitles: str(a, "SUBTITLES"),
          closedCaptions: str(a, "CLOSED-CAPTIONS"),
          pathwayId: str(a, "PATHWAY-ID"),
        });
        streamInfs.push({ lineIndex: si.index, iFrame: false, item, attrs: a });
        refs.push({
          owner: "variant",
          uri: line.uri,
          lineIndex: index,
          start: line.uriStart,
          end: line.uriEnd,
          quoted: true,
          lineIndexes: [si.index, index],
          item,
        });
      } else if (pendingExtinf !== null) {
        const inf = pendingExtinf;
        pendingExtinf = null;
        const item = segments.length;
        segments.push({
          line: line.number,
          uri: line.uri,
          duration: inf.duration,
          title: inf.title,
          byterange: pendingByterange,
          mediaSequence: nextSequence,
          discontinuity: pendingDiscontinuity,
          gap: pendingGap,
        });
        nextSequence++;
        pendingByterange = null;
        pendingDiscontinuity = false;
        pendingGap = false;
        refs.push({
          owner: "segment",
          uri: line.uri,
          lineIndex: index,
          start: line.uriStart,
          end: line.uriEnd,
          quoted: true,
          lineIndexes: [index],
          item,
        });
      } else {
        throw new PlaylistError("URI line is not preceded by EXTINF or EXT-X-STREAM-INF", line.number);
      }
      continue;
    }

    // A tag line.
    if (embeddedTag(line.text, line.text.indexOf("#") + 1)) throw embeddedTagError(line);
    if (index === 0) continue;
    const spec = TAG_SPECS.get(line.name);
    if (spec === undefined) {
      const u = unknownTags.get(line.name);
      if (u === undefined) unknownTags.set(line.name, { count: 1, line: line.number });
      else u.count++;
      continue;
    }
    const { name, cls } = spec;
    if (cls === "media") {
      if (firstMultivariant !== null) throw mixed(firstMultivariant, line);
      firstMedia ??= line;
    } else if (cls === "multivariant") {
      if (firstMedia !== null) throw mixed(firstMedia, line);
      firstMultivariant ??= line;
    }
    if (spec.single) {
      if (seenSingle.has(name)) warnings.push(`line ${line.number}: ${name} appears more than once`);
      seenSingle.add(name);
    }
    if (pendingStreamInf !== null && name === "EXT-X-STREAM-INF") {
      throw new PlaylistError("EXT-X-STREAM-INF is not followed by a URI line", pendingStreamInf.line.number);
    }

    switch (name) {
      case "EXTM3U":
        warnings.push(`line ${line.number}: repeated #EXTM3U`);
        break;
      case "EXT-X-VERSION": {
        const v = parseInteger((line.value ?? "").trim());
        if (v === null) warnings.push(`line ${line.number}: EXT-X-VERSION is not a decimal-integer`);
        else version ??= v;
        break;
      }
      case "EXT-X-TARGETDURATION": {
        targetDuration ??= integerValue(line);
        break;
      }
      case "EXT-X-MEDIA-SEQUENCE": {
        const v = integerValue(line);
        if (segments.length > 0 || parts.length > 0) {
          warnings.push(`line ${line.number}: EXT-X-MEDIA-SEQUENCE after the first segment is ignored`);
        } else {
          mediaSequence = v;
          nextSequence = v;
        }
        break;
      }
      case "EXT-X-DISCONTINUITY-SEQUENCE": {
        discontinuitySequence = integerValue(line);
        break;
      }
      case "EXT-X-ENDLIST":
        endList = true;
        break;
      case "EXT-X-PLAYLIST-TYPE":
        playlistType = (line.value ?? "").trim();
        break;
      case "EXT-X-I-FRAMES-ONLY":
        iFramesOnly = true;
        break;
      case "EXT-X-PART-INF": {
        const a = attrsOf(line);
        const pt = getAttr(a, "PART-TARGET");
        const v = pt === undefined ? null : parseDecimal(pt.value);
        if (v === null) throw new PlaylistError("EXT-X-PART-INF has no valid PART-TARGET", line.number);
        partTargetDuration = v;
        break;
      }
      case "EXT-X-SERVER-CONTROL":
        attrsOf(line);
        break;
      case "EXT-X-SKIP": {
        const a = attrsOf(line);
        nextSequence += requiredInt(a, "SKIPPED-SEGMENTS", line);
        break;
      }
      case "EXTINF": {
        if (pendingExtinf !== null) throw new PlaylistError("EXTINF is not followed by a URI line", pendingExtinf.line);
        const value = line.value ?? "";
        const comma = value.indexOf(",");
        const durationText = (comma < 0 ? value : value.slice(0, comma)).trim();
        const duration = parseDecimal(durationText);
        if (duration === null) {
          throw new PlaylistError(`EXTINF duration "${durationText.slice(0, 20)}" is not a non-negative number`, line.number);
        }
        const title = comma < 0 ? null : value.slice(comma + 1).trim() || null;
        pendingExtinf = { line: line.number, duration, title };
        if (duration > longestSegment) longestSegment = duration;
        break;
      }
      case "EXT-X-BYTERANGE": {
        const br = parseByteRange((line.value ?? "").trim());
        if (br === null) throw new PlaylistError("EXT-X-BYTERANGE is not <n>[@<o>]", line.number);
        pendingByterange = br;
        break;
      }
      case "EXT-X-DISCONTINUITY":
        pendingDiscontinuity = true;
        break;
      case "EXT-X-GAP":
        pendingGap = true;
        break;
      case "EXT-X-KEY": {
        const a = attrsOf(line);
        const method = requiredStr(a, "METHOD", line);
        const uri = getAttr(a, "URI");
        if (uri === undefined && method !== "NONE") {
          throw new PlaylistError("EXT-X-KEY has no URI attribute (required unless METHOD is NONE)", line.number);
        }
        if (uri !== undefined) {
          if (method === "NONE") warnings.push(`line ${line.number}: EXT-X-KEY with METHOD=NONE has a URI`);
          attrRef("key", index, uri, line.number, keys.length);
        }
        keys.push({ line: line.number, method, uri: uri?.value ?? null, keyFormat: str(a, "KEYFORMAT") });
        break;
      }
      case "EXT-X-MAP": {
        const a = attrsOf(line);
        const uri = requireUri(line, a, "required");
        const brAttr = getAttr(a, "BYTERANGE");
        const byterange = brAttr === undefined ? null : parseByteRange(brAttr.value);
        if (brAttr !== undefined && byterange === null) throw new PlaylistError("EXT-X-MAP BYTERANGE is not <n>@<o>", line.number);
        attrRef("map", index, uri, line.number, maps.length);
        maps.push({ line: line.number, uri: uri.value, byterange });
        break;
      }
      case "EXT-X-PART": {
        const a = attrsOf(line);
        const uri = requireUri(line, a, "required");
        const d = getAttr(a, "DURATION");
        const duration = d === undefined ? null : parseDecimal(d.value);
        if (duration === null) throw new PlaylistError("EXT-X-PART has no valid DURATION", line.number);
        const brAttr = getAttr(a, "BYTERANGE");
        const byterange = brAttr === undefined ? null : parseByteRange(brAttr.value);
        if (brAttr !== undefined && byterange === null) throw new PlaylistError("EXT-X-PART BYTERANGE is not <n>[@<o>]", line.number);
        attrRef("part", index, uri, line.number, parts.length);
        parts.push({
          line: line.number,
          uri: uri.value,
          duration,
          independent: str(a, "INDEPENDENT") === "YES",
          gap: str(a, "GAP") === "YES",
          byterange,
          mediaSequence: nextSequence,
        });
        break;
      }
      case "EXT-X-PRELOAD-HINT": {
        const a = attrsOf(line);
        const type = requiredStr(a, "TYPE", line);
        const uri = requireUri(line, a, "required");
        attrRef("preload-hint", index, uri, line.number, preloadHints.length);
        preloadHints.push({
          line: line.number,
          type,
          uri: uri.value,
          byterangeStart: int(a, "BYTERANGE-START", line),
          byterangeLength: int(a, "BYTERANGE-LENGTH", line),
        });
        break;
      }
      case "EXT-X-RENDITION-REPORT": {
        const a = attrsOf(line);
        const uri = requireUri(line, a, "required");
        attrRef("rendition-report", index, uri, line.number, renditionReports.length);
        renditionReports.push({
          line: line.number,
          uri: uri.value,
          lastMsn: int(a, "LAST-MSN", line),
          lastPart: int(a, "LAST-PART", line),
        });
        break;
      }
      case "EXT-X-DATERANGE": {
        const a = attrsOf(line);
        const assetUri = getAttr(a, "X-ASSET-URI");
        const assetList = getAttr(a, "X-ASSET-LIST");
        if (assetUri === undefined && assetList === undefined) break;
        if (assetUri !== undefined && assetList !== undefined) {
          warnings.push(`line ${line.number}: EXT-X-DATERANGE has both X-ASSET-URI and X-ASSET-LIST (both rewritten)`);
        }
        const item = interstitials.length;
        if (assetUri !== undefined) attrRef("interstitial-asset", index, assetUri, line.number, item);
        if (assetList !== undefined) attrRef("interstitial-asset-list", index, assetList, line.number, item);
        interstitials.push({ line: line.number, id: str(a, "ID"), assetUri: assetUri?.value ?? null, assetList: assetList?.value ?? null });
        break;
      }
      case "EXT-X-START":
      case "EXT-X-DEFINE":
        // Parsed only to refuse attribute lists that players could read differently.
        attrsOf(line);
        break;
      case "EXT-X-PREFETCH":
        // LHLS prefetch hint: carries a URI in a shape no rewrite rule covers, so it is removed.
        removedLines.push(index);
        warnings.push(`line ${line.number}: EXT-X-PREFETCH removed (unsupported tag that carries a URI)`);
        break;
      case "EXT-X-MEDIA": {
        const a = attrsOf(line);
        const type = requiredStr(a, "TYPE", line);
        const groupId = requiredStr(a, "GROUP-ID", line);
        const uri = getAttr(a, "URI");
        if (uri === undefined && type === "SUBTITLES") {
          throw new PlaylistError("EXT-X-MEDIA has no URI attribute (required when TYPE is SUBTITLES)", line.number);
        }
        if (type !== "AUDIO" && type !== "VIDEO" && type !== "SUBTITLES" && type !== "CLOSED-CAPTIONS") {
          warnings.push(`line ${line.number}: EXT-X-MEDIA has unknown TYPE ${type}`);
        }
        if (uri !== undefined) {
          if (type === "CLOSED-CAPTIONS") warnings.push(`line ${line.number}: EXT-X-MEDIA with TYPE=CLOSED-CAPTIONS has a URI`);
          attrRef("rendition", index, uri, line.number, renditions.length);
        }
        renditions.push({
          line: line.number,
          type,
          groupId,
          name: str(a, "NAME"),
          language: str(a, "LANGUAGE"),
          uri: uri?.value ?? null,
          default: str(a, "DEFAULT") === "YES",
          autoselect: str(a, "AUTOSELECT") === "YES",
        });
        break;
      }
      case "EXT-X-STREAM-INF": {
        const a = attrsOf(line);
        requiredInt(a, "BANDWIDTH", line);
        pendingStreamInf = { index, line, attrs: a };
        break;
      }
      case "EXT-X-I-FRAME-STREAM-INF": {
        const a = attrsOf(line);
        const bandwidth = requiredInt(a, "BANDWIDTH", line);
        const uri = requireUri(line, a, "required");
        const item = iFrameVariants.length;
        attrRef("i-frame-variant", index, uri, line.number, item);
        streamInfs.push({ lineIndex: index, iFrame: true, item, attrs: a });
        iFrameVariants.push({
          line: line.number,
          uri: uri.value,
          bandwidth,
          averageBandwidth: int(a, "AVERAGE-BANDWIDTH", line),
          resolution: resolutionAttr(a),
          codecs: str(a, "CODECS"),
          video: str(a, "VIDEO"),
          pathwayId: str(a, "PATHWAY-ID"),
        });
        break;
      }
      case "EXT-X-SESSION-DATA": {
        const a = attrsOf(line);
        const uri = getAttr(a, "URI");
        const dataId = str(a, "DATA-ID");
        if (dataId === null) warnings.push(`line ${line.number}: EXT-X-SESSION-DATA has no DATA-ID`);
        if (uri !== undefined) attrRef("session-data", index, uri, line.number, sessionData.length);
        sessionData.push({ line: line.number, dataId, value: str(a, "VALUE"), uri: uri?.value ?? null });
        break;
      }
      case "EXT-X-SESSION-KEY": {
        const a = attrsOf(line);
        const method = requiredStr(a, "METHOD", line);
        const uri = requireUri(line, a, "required");
        attrRef("session-key", index, uri, line.number, sessionKeys.length);
        sessionKeys.push({ line: line.number, method, uri: uri.value, keyFormat: str(a, "KEYFORMAT") });
        break;
      }
      case "EXT-X-CONTENT-STEERING": {
        const a = attrsOf(line);
        contentSteering ??= { serverUri: str(a, "SERVER-URI"), pathwayId: str(a, "PATHWAY-ID") };
        removedLines.push(index);
        break;
      }
      default:
        // Known tag without URIs or attributes we read (PROGRAM-DATE-TIME, BITRATE, CUE-OUT, …).
        break;
    }
  }

  if (pendingStreamInf !== null) {
    throw new PlaylistError("EXT-X-STREAM-INF is not followed by a URI line", pendingStreamInf.line.number);
  }
  if (pendingExtinf !== null) throw new PlaylistError("EXTINF is not followed by a URI line", pendingExtinf.line);

  const kind = firstMultivariant !== null ? "multivariant" : "media";
  if (kind === "media") {
    if (targetDuration === null) throw new PlaylistError("media playlist has no EXT-X-TARGETDURATION");
    if (Math.round(longestSegment) > targetDuration) {
      warnings.push(`an EXTINF duration (${longestSegment}) rounds above EXT-X-TARGETDURATION (${targetDuration})`);
    }
  }
  if (version === null) warnings.push("no EXT-X-VERSION tag (version 1 assumed)");
  for (const [tag, u] of unknownTags) {
    warnings.push(`unknown tag #${tag} passed through (${u.count}×, first on line ${u.line})`);
  }
  if (blankCount > 0) warnings.push(`${blankCount} blank line(s) kept`);
  if (commentCount > 0) warnings.push(`${commentCount} comment line(s) kept`);

  const media = kind === "media";
  const info: PlaylistInfo = {
    kind,
    version,
    targetDuration: media ? targetDuration : null,
    mediaSequence: media ? mediaSequence : null,
    discontinuitySequence: media ? discontinuitySequence : null,
    endList,
    playlistType,
    iFramesOnly,
    partTargetDuration,
    variants,
    iFrameVariants,
    renditions,
    sessionData,
    sessionKeys,
    contentSteering,
    segments,
    parts,
    preloadHints,
    renditionReports,
    interstitials,
    keys,
    maps,
    warnings,
  };
  return { info, refs, streamInfs, removedLines };
}

/**
 * True when `#EXTM3U`, `#EXTINF` or `#EXT-` occurs in `text` at or after `from`. hls.js finds
 * multivariant tags anywhere in the text (its regexes are not anchored to line starts), so such a
 * sequence inside a comment or a tag value could become a link the rewrite never saw.
 */
function embeddedTag(text: string, from: number): boolean {
  for (let i = text.indexOf("#EXT", from); i >= 0; i = text.indexOf("#EXT", i + 1)) {
    const next = text.charCodeAt(i + 4);
    if (next === 0x2d /* - */ || text.startsWith("INF", i + 4) || text.startsWith("M3U", i + 4)) return true;
  }
  return false;
}

function embeddedTagError(line: Line): PlaylistError {
  return new PlaylistError("a tag name (#EXT…) appears inside a comment or a tag value, where some players would read it as a tag", line.number);
}

function mixed(earlier: TagLine, later: TagLine): PlaylistError {
  return new PlaylistError(
    `playlist mixes media-segment and multivariant tags (${earlier.name} on line ${earlier.number}, ${later.name} on line ${later.number})`,
    later.number,
  );
}

function resolutionAttr(attrs: readonly Attribute[]): Resolution | null {
  const a = getAttr(attrs, "RESOLUTION");
  return a === undefined ? null : parseResolution(a.value);
}

function decimalAttr(attrs: readonly Attribute[], name: string): number | null {
  const a = getAttr(attrs, name);
  return a === undefined ? null : parseDecimal(a.value);
}
