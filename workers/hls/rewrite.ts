// Rewrites an origin playlist so every link is a relative play-key reference; every other byte is kept.
//
// Decisions (README.md explains them at more length):
// - Lossless: the output is the input with only URIs replaced (URI lines and URI="…" values),
//   plus the edits below. Same input and options give the same bytes: nothing per viewer goes in,
//   so the result is cacheable and the token rides along in the path of relative references.
// - Each URI is resolved against opts.playlistUrl, mapped with toPlayKey and written as
//   relativeUri(opts.playlistKey, key). Two string-only fast paths skip URL objects: a plain
//   relative URI under a playlist in the origin's directory tree is emitted unchanged, and a URI
//   whose resolved text the URL parser would keep as it is (lower-case host, plain path) is mapped
//   on strings. rewrite-policy.test.ts checks with fast-check that both equal the URL path.
// - Foreign links (host not allowed, non-http(s) scheme, userinfo, a path no play key can carry,
//   an unparsable URI) are never emitted and never fetched:
//   * multivariant playlist: the variant (STREAM-INF and URI lines), rendition, I-frame variant,
//     session-data or session-key line is dropped with a warning. A variant whose AUDIO/VIDEO/
//     SUBTITLES group lost all its renditions this way is dropped too. No variant left: PlaylistError.
//   * media playlist: a foreign segment, EXT-X-KEY, EXT-X-MAP or EXT-X-PART refuses the whole
//     playlist (a hole in the timeline or undecodable media is worse than a clear 502); a foreign
//     EXT-X-PRELOAD-HINT or EXT-X-RENDITION-REPORT is only an optimisation, so its line is dropped,
//     and so is an EXT-X-DATERANGE whose interstitial (X-ASSET-URI, X-ASSET-LIST) is foreign: the
//     primary content plays on without the inserted asset.
//   * EXT-X-KEY / EXT-X-SESSION-KEY URIs with the `data:` or `skd:` scheme name a key for a DRM
//     system rather than a network resource; they are kept verbatim.
// - The origin's EXT-X-CONTENT-STEERING is always removed (it would steer players to the origin's
//   pathways). With opts.steering, the platform's tag goes right after #EXTM3U (after EXT-X-VERSION
//   when that is the next line) and every STREAM-INF / I-FRAME-STREAM-INF gets PATHWAY-ID.
// - With opts.maxBandwidth, variants and I-frame variants above it are removed; if no variant is
//   left, NoVariantFitsError (distinct from PlaylistError: the origin is fine, the budget is not).
import { type ChannelOrigin, type CompiledOrigin, type Refusal, compileOrigin, fromPlayKey, isReservedFirstSegment, mapUrl, MAX_PLAY_KEY_LENGTH, MULTIVARIANT_KEY, PlayKeyError, relativeUri } from "./paths";
import { analyse, checkSize, lexicalParse, type Line, type PlaylistInfo, PlaylistError, type StreamInfTag, type UriOwner, type UriRef } from "./parse";

// Re-exported so callers of the rewrite need one import.
export { PlaylistError } from "./parse";
export type { PlaylistInfo } from "./parse";

export interface SteeringOptions {
  /** SERVER-URI of the platform's steering manifest, as it should appear in the playlist (usually relative). */
  serverUri: string;
  /** Pathway every variant is put on, and the initial PATHWAY-ID of the steering tag. */
  pathwayId: string;
}

export interface RewriteOptions {
  /** Absolute origin URL this playlist was fetched from: the base for its relative URIs. */
  playlistUrl: string;
  /** The play key the player fetched this playlist under: the base for the emitted relative references. */
  playlistKey: string;
  origin: ChannelOrigin;
  /**
   * The key the text is served under when that is not `playlistKey`: a backup origin's playlist served in
   * place of the channel's own (see durable-objects/origin-shield/origins.ts). Emitted references are
   * relative to it; keys are still the origin's own.
   */
  servedAs?: string;
  /** Multivariant only: insert the platform's EXT-X-CONTENT-STEERING and PATHWAY-IDs. */
  steering?: SteeringOptions;
  /** Multivariant only: remove variants whose BANDWIDTH exceeds this many bits per second. */
  maxBandwidth?: number;
}

export interface RewriteResult {
  text: string;
  /** The origin playlist as parsed (URIs as the origin wrote them). */
  info: PlaylistInfo;
  /** Parse warnings followed by rewrite warnings (dropped links), in document order. */
  warnings: string[];
}

/** Every variant of a multivariant playlist exceeds opts.maxBandwidth. */
export class NoVariantFitsError extends Error {
  override readonly name = "NoVariantFitsError";
  readonly maxBandwidth: number;
  /** BANDWIDTH of the cheapest variant that was otherwise servable. */
  readonly lowestBandwidth: number;
  constructor(maxBandwidth: number, lowestBandwidth: number) {
    super(`no variant fits ${maxBandwidth} bit/s (the lowest needs ${lowestBandwidth} bit/s)`);
    this.maxBandwidth = maxBandwidth;
    this.lowestBandwidth = lowestBandwidth;
  }
}

export type MappedUri = { readonly uri: string } | { readonly refusal: Refusal | "invalid"; readonly detail: string };

// Characters a relative reference may hold for the fast path: the URL parser keeps them as they are.
const PATH_OK = 1;
const QUERY_OK = 2;
const PLAIN = new Uint8Array(128);
for (const ch of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&()*+,;=@") {
  PLAIN[ch.charCodeAt(0)] = PATH_OK | QUERY_OK;
}
PLAIN["'".charCodeAt(0)] = PATH_OK; // percent-encoded in the query of special URLs
for (const ch of ":/?%") PLAIN[ch.charCodeAt(0)] = QUERY_OK;

function plainSegment(raw: string, start: number, end: number): boolean {
  const len = end - start;
  if (len === 0) return false;
  if (len <= 2 && raw.charCodeAt(start) === 0x2e && (len === 1 || raw.charCodeAt(start + 1) === 0x2e)) return false;
  return true;
}

/** A relative path (optionally with a query) the URL parser would resolve by plain concatenation. */
function isPlainRelative(raw: string): boolean {
  const n = raw.length;
  let segStart = 0;
  let i = 0;
  for (; i < n; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x2f) {
      if (!plainSegment(raw, segStart, i)) return false;
      segStart = i + 1;
    } else if (c === 0x3f) {
      break;
    } else if (c >= 128 || ((PLAIN[c] ?? 0) & PATH_OK) === 0) {
      return false;
    }
  }
  if (!plainSegment(raw, segStart, i)) return false;
  for (i++; i < n; i++) {
    const c = raw.charCodeAt(i);
    if (c >= 128 || ((PLAIN[c] ?? 0) & QUERY_OK) === 0) return false;
  }
  return true;
}

/**
 * A lower-case DNS name the URL parser keeps as it is: no port, no userinfo, no empty label, no
 * punycode label (re-validated by the parser), and a last label that cannot be read as an IPv4 number.
 */
function isPlainHost(host: string): boolean {
  const n = host.length;
  if (n === 0) return false;
  let labelStart = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? host.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (i === labelStart) return false;
      if (host.startsWith("xn--", labelStart)) return false;
      labelStart = i + 1;
    } else if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d)) {
      return false;
    }
  }
  const last = host.charCodeAt(host.lastIndexOf(".") + 1);
  return last >= 0x61 && last <= 0x7a;
}

/** Maps the URIs of one playlist to relative play-key references. */
export class UriMapper {
  private readonly base: URL;
  private readonly origin: CompiledOrigin;
  private readonly playlistKey: string;
  /** Directory of playlistKey when the fast path applies, else null. */
  private readonly fastDir: string | null;
  /** The origin playlist's path+query relative to its directory: it maps to index.m3u8, not to itself. */
  private readonly originRel: string;
  /** The origin's key prefix (ChannelOrigin.keyPrefix). */
  private readonly prefix: string;
  /** `scheme://host/dir/` of playlistUrl, for resolving plain relative URIs by concatenation; null with userinfo. */
  private readonly baseDir: string | null;

  constructor(opts: Pick<RewriteOptions, "playlistUrl" | "playlistKey" | "origin" | "servedAs">) {
    this.origin = compileOrigin(opts.origin);
    try {
      this.base = new URL(opts.playlistUrl);
    } catch {
      throw new TypeError(`playlistUrl is not an absolute URL: ${opts.playlistUrl}`);
    }
    let keyUrl: URL;
    try {
      keyUrl = fromPlayKey(opts.playlistKey, opts.origin);
    } catch (e) {
      if (e instanceof PlayKeyError) throw new TypeError(`playlistKey is not a play key of this channel: ${e.reason}`);
      throw e;
    }
    this.playlistKey = opts.servedAs ?? opts.playlistKey;
    this.prefix = this.origin.keyPrefix;
    this.originRel = this.origin.originHref.slice(this.origin.dirHref.length);
    const b = this.base;
    const httpBase = (b.protocol === "http:" || b.protocol === "https:") && b.username === "" && b.password === "";
    this.baseDir = httpBase ? `${b.protocol}//${b.host}${b.pathname.slice(0, b.pathname.lastIndexOf("/") + 1)}` : null;
    // The fast path needs the base to sit in the origin's directory tree at the place its key says
    // (after an origin redirect playlistUrl and playlistKey differ, and only the URL path is right).
    const sameResource = stripFragment(this.base.href) === keyUrl.href;
    const servedElsewhere = opts.servedAs !== undefined && opts.servedAs !== opts.playlistKey;
    if (!sameResource || servedElsewhere || opts.playlistKey.startsWith(`${this.prefix}_ext/`)) {
      this.fastDir = null;
    } else if (opts.playlistKey === this.prefix + MULTIVARIANT_KEY) {
      this.fastDir = this.prefix;
    } else {
      const q = opts.playlistKey.indexOf("?");
      const path = q < 0 ? opts.playlistKey : opts.playlistKey.slice(0, q);
      this.fastDir = path.slice(0, path.lastIndexOf("/") + 1);
    }
  }

  /** The emitted reference for `raw`, or why it cannot be served. */
  map(raw: string): MappedUri {
    const fast = this.fast(raw);
    return fast === null ? this.mapSlow(raw) : { uri: fast };
  }

  /** For EXT-X-KEY / EXT-X-SESSION-KEY: DRM key identifiers (data:, skd:) are kept verbatim. */
  mapKey(raw: string): MappedUri {
    if (/^(?:data|skd):/i.test(raw)) return { uri: raw };
    return this.map(raw);
  }

  /**
   * The answer computed on strings alone, or null when the URL path must decide. Exposed for the
   * equivalence test. Two shapes qualify: a plain relative URI under a playlist that sits in the
   * origin's directory tree at its own key (emitted unchanged), and an absolute, protocol-relative
   * or plain relative URI whose resolved text the URL parser would not change (mapped on strings).
   */
  fast(raw: string): string | null {
    if (this.fastDir !== null && isPlainRelative(raw)) {
      const key = this.fastDir + raw;
      if (key.length > MAX_PLAY_KEY_LENGTH || isEntry(key, this.prefix + this.originRel)) return null;
      if (this.fastDir === this.prefix && isReservedFirstSegment(raw)) return null;
      return raw;
    }
    let abs: string;
    if (raw.startsWith("https://") || raw.startsWith("http://")) abs = raw;
    else if (raw.startsWith("//")) abs = this.base.protocol + raw;
    else if (this.baseDir !== null && isPlainRelative(raw)) abs = this.baseDir + raw;
    else return null;
    const key = this.fastKey(abs);
    return key === null ? null : relativeUri(this.playlistKey, key);
  }

  /** The play key of an absolute http(s) URL already in the URL parser's serialised form, else null. */
  private fastKey(abs: string): string | null {
    const schemeEnd = abs.indexOf("://");
    const scheme = abs.slice(0, schemeEnd);
    if (scheme !== "https" && scheme !== "http") return null;
    const hostStart = schemeEnd + 3;
    const slash = abs.indexOf("/", hostStart);
    if (slash < 0) return null;
    const host = abs.slice(hostStart, slash);
    if (!isPlainHost(host)) return null;
    const hosts = this.origin.hosts;
    if (!hosts.has(host) && !hosts.has(`${host}:${scheme === "https" ? "443" : "80"}`)) return null;
    if (!isPlainRelative(abs.slice(slash + 1))) return null;
    const pathAndQuery = abs.slice(slash);
    let key: string | null = null;
    if (abs.startsWith(this.origin.dirHref)) {
      const rel = pathAndQuery.slice(this.origin.dirPath.length);
      if (isEntry(rel, this.originRel)) return null; // the origin playlist itself (a query added too): index.m3u8, left to the URL path
      if (!isReservedFirstSegment(rel)) key = rel;
    }
    key ??= `_ext/${scheme}/${host}${pathAndQuery}`;
    return key.length > MAX_PLAY_KEY_LENGTH ? null : this.prefix + key;
  }

  /** Resolve with URL, map with toPlayKey's rules, emit relativeUri. */
  mapSlow(raw: string): MappedUri {
    let abs: URL;
    try {
      abs = new URL(raw, this.base);
    } catch {
      return { refusal: "invalid", detail: "it is not a valid URI" };
    }
    const r = mapUrl(abs, this.origin);
    if ("refusal" in r) return r;
    return { uri: relativeUri(this.playlistKey, r.key) };
  }
}

/** Whether `rel` is the origin playlist `entry` itself, or it with a query (the entry's blocking reloads). */
function isEntry(rel: string, entry: string): boolean {
  return rel === entry || (rel.startsWith(entry) && rel[entry.length] === (entry.includes("?") ? "&" : "?"));
}

function stripFragment(href: string): string {
  const hash = href.indexOf("#");
  return hash < 0 ? href : href.slice(0, hash);
}

const OWNER_NAMES: Record<UriOwner, string> = {
  variant: "variant (EXT-X-STREAM-INF)",
  segment: "segment",
  "i-frame-variant": "I-frame variant (EXT-X-I-FRAME-STREAM-INF)",
  rendition: "rendition (EXT-X-MEDIA)",
  "session-data": "EXT-X-SESSION-DATA",
  "session-key": "EXT-X-SESSION-KEY",
  key: "EXT-X-KEY",
  map: "EXT-X-MAP",
  part: "EXT-X-PART",
  "preload-hint": "EXT-X-PRELOAD-HINT",
  "rendition-report": "EXT-X-RENDITION-REPORT",
  "interstitial-asset": "interstitial (EXT-X-DATERANGE X-ASSET-URI)",
  "interstitial-asset-list": "interstitial (EXT-X-DATERANGE X-ASSET-LIST)",
};

// Links a player can do without: dropping the line costs an optimisation or an inserted asset, never primary media.
const OPTIONAL_OWNERS: ReadonlySet<UriOwner> = new Set(["preload-hint", "rendition-report", "interstitial-asset", "interstitial-asset-list"]);

function refusalSentence(refusal: Refusal | "invalid", detail: string): string {
  switch (refusal) {
    case "host":
      return `links to a host outside the channel's origin (${detail})`;
    case "invalid":
      return "has a URI that is not valid";
    default:
      return `links to a URL the platform does not serve (${detail})`;
  }
}

// RFC 8216bis 7.1 (Pathway IDs) allows only these characters; a quote or line break would corrupt the tag.
const PATHWAY_ID = /^[A-Za-z0-9._-]+$/;

function checkSteering(s: SteeringOptions): void {
  if (!PATHWAY_ID.test(s.pathwayId)) throw new TypeError(`steering.pathwayId is not a legal Pathway ID: ${s.pathwayId}`);
  // eslint-disable-next-line no-control-regex
  if (s.serverUri === "" || /["\x00-\x1f\x7f]/.test(s.serverUri)) throw new TypeError("steering.serverUri cannot be written in a quoted-string");
}

interface Edit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

function lineSpan(line: Line): [number, number] {
  return [line.offset, line.offset + line.text.length + line.eol.length];
}

/**
 * Rewrites one origin playlist for the platform. Throws PlaylistError for a playlist that cannot
 * be served safely, NoVariantFitsError when maxBandwidth removes every variant, TypeError for
 * invalid options (a programming error, never caused by playlist text).
 */
export function rewritePlaylist(text: string, opts: RewriteOptions): RewriteResult {
  const mapper = new UriMapper(opts);
  if (opts.steering !== undefined) checkSteering(opts.steering);
  checkSize(text.length);
  const { lines, bom } = lexicalParse(text);
  const { info, refs, streamInfs, removedLines } = analyse(lines, bom, text);
  const multivariant = info.kind === "multivariant";
  const warnings = info.warnings.slice();

  const drop = new Uint8Array(lines.length);
  for (const i of removedLines) drop[i] = 1;
  const mapped: (string | null)[] = new Array<string | null>(refs.length);
  const variantRefs: UriRef[] = [];
  const iFrameRefs: UriRef[] = [];
  const droppedRenditions = new Uint8Array(info.renditions.length);

  for (let r = 0; r < refs.length; r++) {
    const ref = refs[r] as UriRef;
    if (ref.owner === "variant") variantRefs[ref.item] = ref;
    else if (ref.owner === "i-frame-variant") iFrameRefs[ref.item] = ref;
    const m = ref.owner === "key" || ref.owner === "session-key" ? mapper.mapKey(ref.uri) : mapper.map(ref.uri);
    if ("uri" in m) {
      mapped[r] = m.uri;
      continue;
    }
    mapped[r] = null;
    const lineNumber = (lines[ref.lineIndex] as Line).number;
    const what = OWNER_NAMES[ref.owner];
    const droppable = multivariant || OPTIONAL_OWNERS.has(ref.owner);
    if (!droppable) throw new PlaylistError(`${what} ${refusalSentence(m.refusal, m.detail)}`, lineNumber);
    // Both assets of one EXT-X-DATERANGE share its line: it is dropped, and reported, once.
    if (ref.lineIndexes.every((i) => drop[i] === 1)) continue;
    for (const i of ref.lineIndexes) drop[i] = 1;
    if (ref.owner === "rendition") droppedRenditions[ref.item] = 1;
    warnings.push(`line ${lineNumber}: ${what} removed: it ${refusalSentence(m.refusal, m.detail)}`);
  }

  if (multivariant) {
    dropOrphanedVariants(info, variantRefs, iFrameRefs, droppedRenditions, drop, warnings);
    const alive = info.variants.filter((_, i) => drop[(variantRefs[i] as UriRef).lineIndex] === 0);
    if (info.variants.length === 0) throw new PlaylistError("multivariant playlist has no EXT-X-STREAM-INF variant");
    if (alive.length === 0) throw new PlaylistError("no variant can be served: every one links outside the channel's origin");
    const max = opts.maxBandwidth;
    if (max !== undefined) {
      let fits = 0;
      info.variants.forEach((v, i) => {
        const ref = variantRefs[i] as UriRef;
        if (drop[ref.lineIndex] === 1) return;
        if (v.bandwidth > max) for (const l of ref.lineIndexes) drop[l] = 1;
        else fits++;
      });
      if (fits === 0) throw new NoVariantFitsError(max, Math.min(...alive.map((v) => v.bandwidth)));
      info.iFrameVariants.forEach((v, i) => {
        if (v.bandwidth > max) drop[(iFrameRefs[i] as UriRef).lineIndex] = 1;
      });
    }
  }

  const edits: Edit[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (drop[i] === 1) {
      const [start, end] = lineSpan(lines[i] as Line);
      edits.push({ start, end, text: "" });
    }
  }
  for (let r = 0; r < refs.length; r++) {
    const ref = refs[r] as UriRef;
    const uri = mapped[r];
    if (uri === null || uri === undefined || uri === ref.uri || drop[ref.lineIndex] === 1) continue;
    const offset = (lines[ref.lineIndex] as Line).offset;
    edits.push({ start: offset + ref.start, end: offset + ref.end, text: ref.quoted ? uri : `"${uri}"` });
  }
  if (multivariant && opts.steering !== undefined) steeringEdits(lines, streamInfs, drop, opts.steering, edits);

  edits.sort((a, b) => a.start - b.start || a.end - b.end);
  let out = "";
  let cursor = 0;
  for (const e of edits) {
    out += text.slice(cursor, e.start) + e.text;
    cursor = e.end;
  }
  out += text.slice(cursor);
  return { text: out, info, warnings };
}

/** Drops variants that reference a rendition group emptied by the foreign-link policy. */
function dropOrphanedVariants(
  info: PlaylistInfo,
  variantRefs: readonly UriRef[],
  iFrameRefs: readonly UriRef[],
  droppedRenditions: Uint8Array,
  drop: Uint8Array,
  warnings: string[],
): void {
  if (!droppedRenditions.includes(1)) return;
  const before = new Set<string>();
  const after = new Set<string>();
  info.renditions.forEach((r, i) => {
    const k = `${r.type}\n${r.groupId}`;
    before.add(k);
    if (droppedRenditions[i] === 0) after.add(k);
  });
  const emptied = (type: string, group: string | null): boolean =>
    group !== null && before.has(`${type}\n${group}`) && !after.has(`${type}\n${group}`);
  const check = (ref: UriRef, line: number, groups: [string, string | null][]): void => {
    if (drop[ref.lineIndex] === 1) return;
    for (const [type, group] of groups) {
      if (!emptied(type, group)) continue;
      for (const l of ref.lineIndexes) drop[l] = 1;
      warnings.push(`line ${line}: variant removed: every rendition of its ${type} group "${group}" was removed`);
      return;
    }
  };
  info.variants.forEach((v, i) => {
    check(variantRefs[i] as UriRef, v.line, [["AUDIO", v.audio], ["VIDEO", v.video], ["SUBTITLES", v.subtitles]]);
  });
  info.iFrameVariants.forEach((v, i) => check(iFrameRefs[i] as UriRef, v.line, [["VIDEO", v.video]]));
}

function steeringEdits(
  lines: readonly Line[],
  streamInfs: readonly StreamInfTag[],
  drop: Uint8Array,
  steering: SteeringOptions,
  edits: Edit[],
): void {
  const quotedId = `"${steering.pathwayId}"`;
  for (const si of streamInfs) {
    if (drop[si.lineIndex] === 1) continue;
    const offset = (lines[si.lineIndex] as Line).offset;
    const existing = si.attrs.find((a) => a.name === "PATHWAY-ID");
    if (existing !== undefined) {
      if (!existing.quoted || existing.value !== steering.pathwayId) {
        edits.push({ start: offset + existing.start, end: offset + existing.end, text: quotedId });
      }
    } else {
      const last = si.attrs[si.attrs.length - 1];
      const at = offset + (last === undefined ? (lines[si.lineIndex] as Line).text.length : last.end);
      edits.push({ start: at, end: at, text: `,PATHWAY-ID=${quotedId}` });
    }
  }
  // Right after #EXTM3U, or after EXT-X-VERSION when it is the very next line.
  const second = lines[1];
  const anchor = (second !== undefined && second.kind === "tag" && second.name === "EXT-X-VERSION" ? second : lines[0]) as Line;
  const [, end] = lineSpan(anchor);
  const tag = `#EXT-X-CONTENT-STEERING:SERVER-URI="${steering.serverUri}",PATHWAY-ID=${quotedId}`;
  const eol = anchor.eol === "" ? "\n" : anchor.eol;
  edits.push({ start: end, end, text: anchor.eol === "" ? eol + tag : tag + eol });
}
