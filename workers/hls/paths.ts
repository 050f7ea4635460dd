// Mapping between origin URLs and play keys (the `<key>` of `/play/<token>/<key>`), and relative links between keys.
// fromPlayKey is a security boundary: it reads attacker-controlled request paths.

/** A channel's origin: where its multivariant playlist lives and which hosts it may link to. */
export interface ChannelOrigin {
  /** Absolute http(s) URL of the origin's multivariant (or single media) playlist. */
  originUrl: string;
  /** Extra hosts the playlists may link to: `host` (default port) or `host:port`, case-insensitive. */
  allowedHosts: string[];
  /**
   * What every key of this origin starts with: "" (or absent) for the channel's own origin, `_b1/`, `_b2/`…
   * for its backups (see origins.ts), so that two encoders' resources never share a key.
   */
  keyPrefix?: string;
}

/** A play key that does not name a resource of this channel; `reason` says which rule refused it. */
export class PlayKeyError extends Error {
  override readonly name = "PlayKeyError";
  readonly reason: string;
  constructor(reason: string) {
    super(`invalid play key: ${reason}`);
    this.reason = reason;
  }
}

export const MAX_PLAY_KEY_LENGTH = 2048;
/** The key of the channel's origin playlist itself. */
export const MULTIVARIANT_KEY = "index.m3u8";
/** Top-level names the edge answers itself; an origin path that would produce them uses the `_ext/` form. */
export const STEERING_KEY = "steering.json";
const EXT_PREFIX = "_ext/";

export interface CompiledOrigin {
  readonly originUrl: string;
  readonly hostsKey: string;
  /** See ChannelOrigin.keyPrefix. */
  readonly keyPrefix: string;
  /** originUrl without its fragment, as the URL parser serialises it. */
  readonly originHref: string;
  /** `scheme://host[:port]` of the origin. */
  readonly authority: string;
  /** Directory of the origin playlist, e.g. `/live/ch/`. */
  readonly dirPath: string;
  /** `authority + dirPath`. */
  readonly dirHref: string;
  /** Allowed `hostname` (default port) and `hostname:port` entries. */
  readonly hosts: ReadonlySet<string>;
}

// Memo per ChannelOrigin object, re-validated against its fields so a mutated origin is recompiled.
const compiled = new WeakMap<ChannelOrigin, CompiledOrigin>();

/** Resolves and validates a ChannelOrigin once; throws TypeError on a misconfigured channel. */
export function compileOrigin(origin: ChannelOrigin): CompiledOrigin {
  const hostsKey = origin.allowedHosts.join(",");
  const keyPrefix = origin.keyPrefix ?? "";
  const hit = compiled.get(origin);
  if (hit !== undefined && hit.originUrl === origin.originUrl && hit.hostsKey === hostsKey && hit.keyPrefix === keyPrefix) return hit;
  if (keyPrefix !== "" && !/^_b[1-9]\/$/.test(keyPrefix)) throw new TypeError(`keyPrefix is not a backup prefix: ${keyPrefix}`);

  let url: URL;
  try {
    url = new URL(origin.originUrl);
  } catch {
    throw new TypeError(`originUrl is not an absolute URL: ${origin.originUrl}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError("originUrl must be http or https");
  if (url.username !== "" || url.password !== "") throw new TypeError("originUrl must not carry userinfo");
  url.hash = "";
  const href = stripFragment(url.href);
  const authority = `${url.protocol}//${url.host}`;
  const dirPath = url.pathname.slice(0, url.pathname.lastIndexOf("/") + 1);
  const hosts = new Set<string>([url.port === "" ? url.hostname : `${url.hostname}:${url.port}`]);
  for (const entry of origin.allowedHosts) hosts.add(normaliseHostEntry(entry));
  const result: CompiledOrigin = {
    originUrl: origin.originUrl,
    hostsKey,
    keyPrefix,
    originHref: href,
    authority,
    dirPath,
    dirHref: authority + dirPath,
    hosts,
  };
  compiled.set(origin, result);
  return result;
}

function normaliseHostEntry(entry: string): string {
  const e = entry.trim().toLowerCase();
  let host = e;
  let port = "";
  const close = e.startsWith("[") ? e.indexOf("]") : -1;
  const colon = e.indexOf(":", close < 0 ? 0 : close);
  if (colon >= 0) {
    host = e.slice(0, colon);
    port = e.slice(colon + 1);
    if (!/^[0-9]{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
      throw new TypeError(`allowedHosts entry has a bad port: ${entry}`);
    }
    port = String(Number(port));
  }
  let hostname: string;
  try {
    const u = new URL(`http://${host}/`);
    if (u.port !== "" || u.username !== "" || u.pathname !== "/") throw new Error("not a bare host");
    hostname = u.hostname;
  } catch {
    throw new TypeError(`allowedHosts entry is not a host or host:port: ${entry}`);
  }
  return port === "" ? hostname : `${hostname}:${port}`;
}

function defaultPort(protocol: string): string {
  return protocol === "https:" ? "443" : "80";
}

/**
 * True if the edge may fetch `url` for this channel: http(s), no userinfo, and on the host of its
 * originUrl or one of its allowedHosts (the same rule the rewrite applies to playlist links).
 */
export function isAllowedOriginUrl(url: URL, origin: ChannelOrigin): boolean {
  if (url.protocol !== "http:" && url.protocol !== "https:") return false;
  if (url.username !== "" || url.password !== "") return false;
  try {
    return hostAllowed(url, compileOrigin(origin));
  } catch {
    return false; // a channel whose origin does not compile fetches nothing
  }
}

function hostAllowed(abs: URL, c: CompiledOrigin): boolean {
  if (abs.port === "") return c.hosts.has(abs.hostname) || c.hosts.has(`${abs.hostname}:${defaultPort(abs.protocol)}`);
  return c.hosts.has(`${abs.hostname}:${abs.port}`);
}

function stripFragment(href: string): string {
  const hash = href.indexOf("#");
  return hash < 0 ? href : href.slice(0, hash);
}

function firstSegment(rel: string): string {
  let end = rel.length;
  const slash = rel.indexOf("/");
  if (slash >= 0 && slash < end) end = slash;
  const q = rel.indexOf("?");
  if (q >= 0 && q < end) end = q;
  return rel.slice(0, end);
}

/** True for a relative key whose first segment the edge reserves for itself. */
export function isReservedFirstSegment(rel: string): boolean {
  const seg = firstSegment(rel);
  return seg === MULTIVARIANT_KEY || seg === STEERING_KEY || seg.startsWith("_");
}

export type Refusal = "scheme" | "userinfo" | "host" | "path";
/** A key, or why there is none (`detail` is the host for a "host" refusal, else a phrase). */
export type KeyResult = { readonly key: string } | { readonly refusal: Refusal; readonly detail: string };

/** What `bare` adds to the origin's entry URL as query parameters, or null when it is not the entry with a query. */
function entryQueryOf(bare: string, c: CompiledOrigin): string | null {
  const sep = c.originHref.includes("?") ? "&" : "?";
  if (!bare.startsWith(c.originHref + sep)) return null;
  const query = bare.slice(c.originHref.length + 1);
  return query === "" ? null : query;
}

/** toPlayKey with the reason for a refusal; rewrite.ts uses it to word its errors. */
export function mapUrl(abs: URL, c: CompiledOrigin): KeyResult {
  if (abs.protocol !== "http:" && abs.protocol !== "https:") {
    return { refusal: "scheme", detail: `scheme ${abs.protocol} is not http or https` };
  }
  if (abs.username !== "" || abs.password !== "") return { refusal: "userinfo", detail: "URL carries userinfo" };
  if (!hostAllowed(abs, c)) return { refusal: "host", detail: abs.host };
  const bare = stripFragment(abs.href);
  if (bare === c.originHref) return { key: c.keyPrefix + MULTIVARIANT_KEY };
  // The entry with a query added (an LL-HLS blocking reload of a channel whose entry is a media playlist).
  const entryQuery = entryQueryOf(bare, c);
  if (entryQuery !== null) return { key: `${c.keyPrefix}${MULTIVARIANT_KEY}?${entryQuery}` };
  const authority = `${abs.protocol}//${abs.host}`;
  // With no userinfo, the serialisation is authority + path + query (+ fragment).
  const pathAndQuery = bare.slice(authority.length);
  let key: string | null = null;
  if (authority === c.authority && pathAndQuery.startsWith(c.dirPath)) {
    const rel = pathAndQuery.slice(c.dirPath.length);
    if (rel !== "" && rel.charCodeAt(0) !== 0x3f /* ? */ && !isReservedFirstSegment(rel)) key = rel;
  }
  key ??= `${EXT_PREFIX}${abs.protocol.slice(0, -1)}/${abs.host}${pathAndQuery}`;
  const bad = keySyntaxError(key);
  return bad === null ? { key: c.keyPrefix + key } : { refusal: "path", detail: `no play key can name it (${bad})` };
}

/**
 * The play key naming `abs`, or null when the platform must not serve it: a scheme other than
 * http/https, userinfo, a host outside the channel's origin, or a path no key can carry
 * (empty segments, encoded `/` or `\`, control characters, over-long).
 */
export function toPlayKey(abs: URL, origin: ChannelOrigin): string | null {
  const r = mapUrl(abs, compileOrigin(origin));
  return "key" in r ? r.key : null;
}

function isHex(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);
}

/** Why `key` is not a well-formed play key, or null. Pure syntax: hosts are checked by the caller. */
function keySyntaxError(key: string): string | null {
  if (key.length === 0) return "empty key";
  if (key.length > MAX_PLAY_KEY_LENGTH) return `longer than ${MAX_PLAY_KEY_LENGTH} characters`;
  const q = key.indexOf("?");
  const pathEnd = q < 0 ? key.length : q;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return "control character";
    if (c > 0x7e) return "non-ASCII character";
    if (c === 0x20) return "space";
    if (c === 0x5c) return "backslash";
    if (c === 0x23) return "fragment";
    if (c === 0x22) return "double quote";
    if (c === 0x25 /* % */ && i < pathEnd) {
      const h1 = key.charCodeAt(i + 1);
      const h2 = key.charCodeAt(i + 2);
      if (i + 2 < pathEnd && isHex(h1) && isHex(h2)) {
        const byte = parseInt(key.slice(i + 1, i + 3), 16);
        if (byte === 0x2f) return "percent-encoded slash";
        if (byte === 0x5c) return "percent-encoded backslash";
        if (byte < 0x20 || byte === 0x7f) return "percent-encoded control character";
      }
    }
  }
  const path = key.slice(0, pathEnd);
  const segments = path.split("/");
  const last = segments.length - 1;
  for (let i = 0; i <= last; i++) {
    const seg = segments[i] as string;
    if (seg === "") {
      // A trailing slash names a directory-like resource; any other empty segment is `//` or a leading `/`.
      if (i === last && i > 0) continue;
      return "empty path segment";
    }
    if (seg.length <= 6 && (seg === "." || seg === ".." || /^(?:\.|%2e){1,2}$/i.test(seg))) return "dot segment";
  }
  const first = segments[0] as string;
  if (first === "_ext") {
    if (segments.length < 4) return "incomplete _ext key";
    const scheme = segments[1] as string;
    if (scheme !== "http" && scheme !== "https") return "_ext scheme is not http or https";
    const host = segments[2] as string;
    if (host.includes("@")) return "userinfo";
    const close = host.startsWith("[") ? host.indexOf("]") : -1;
    const colon = host.indexOf(":", close < 0 ? 0 : close);
    if (colon >= 0) {
      const port = host.slice(colon + 1);
      if (!/^[0-9]{1,5}$/.test(port) || Number(port) > 65535 || Number(port) < 1) return "port out of range";
    }
    return null;
  }
  if (key !== MULTIVARIANT_KEY && !key.startsWith(`${MULTIVARIANT_KEY}?`) && isReservedFirstSegment(key)) return "reserved name";
  return null;
}

/**
 * The origin URL a play key names. Throws PlayKeyError for anything toPlayKey would not have
 * produced: traversal (`..`, `.`, their percent-encoded forms), empty segments, backslashes,
 * encoded `/` or `\`, control characters, userinfo, `_ext/` with another scheme, hosts outside
 * the channel's origin, bad ports, over-long or non-canonical spellings. For every URL u that
 * toPlayKey accepts, fromPlayKey(toPlayKey(u)) equals u without its fragment.
 */
export function fromPlayKey(prefixedKey: string, origin: ChannelOrigin): URL {
  const c = compileOrigin(origin);
  if (!prefixedKey.startsWith(c.keyPrefix)) throw new PlayKeyError("not a key of this origin");
  const key = prefixedKey.slice(c.keyPrefix.length);
  const bad = keySyntaxError(key);
  if (bad !== null) throw new PlayKeyError(bad);
  if (key === MULTIVARIANT_KEY) return new URL(c.originHref);
  if (key.startsWith(`${MULTIVARIANT_KEY}?`)) {
    const query = key.slice(MULTIVARIANT_KEY.length + 1);
    if (query === "") throw new PlayKeyError("empty query");
    return new URL(c.originHref + (c.originHref.includes("?") ? "&" : "?") + query);
  }
  let text: string;
  if (key.startsWith(EXT_PREFIX)) {
    const schemeEnd = key.indexOf("/", EXT_PREFIX.length);
    const hostEnd = key.indexOf("/", schemeEnd + 1);
    text = `${key.slice(EXT_PREFIX.length, schemeEnd)}://${key.slice(schemeEnd + 1, hostEnd)}${key.slice(hostEnd)}`;
  } else {
    text = c.dirHref + key;
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new PlayKeyError("does not form a valid URL");
  }
  const back = mapUrl(url, c);
  if ("refusal" in back) {
    throw new PlayKeyError(back.refusal === "host" ? `host ${back.detail} is outside the channel's origin` : back.detail);
  }
  // One resource, one key: any spelling the URL parser normalises (case, default ports, dot forms) is refused.
  if (back.key !== prefixedKey) throw new PlayKeyError("not the canonical key of its URL");
  return url;
}

/**
 * The relative reference that, resolved against `/play/T/<fromKey>`, gives `/play/T/<toKey>`
 * (query included). Climbs with `../` at most as deep as fromKey, so it never leaves `/play/T/`.
 * Both keys must be play keys (from toPlayKey).
 */
export function relativeUri(fromKey: string, toKey: string): string {
  const fq = fromKey.indexOf("?");
  const fromDirEnd = fromKey.lastIndexOf("/", fq < 0 ? fromKey.length : fq - 1) + 1;
  if (toKey.startsWith(fromKey.slice(0, fromDirEnd))) return sameDir(toKey.slice(fromDirEnd));

  // Longest shared run of whole directory segments, then one "../" per directory of fromKey left over.
  const tq = toKey.indexOf("?");
  const toDirEnd = toKey.lastIndexOf("/", tq < 0 ? toKey.length : tq - 1) + 1;
  const limit = Math.min(fromDirEnd, toDirEnd);
  let common = 0;
  for (let i = 0; i < limit; i++) {
    const c = fromKey.charCodeAt(i);
    if (c !== toKey.charCodeAt(i)) break;
    if (c === 0x2f) common = i + 1;
  }
  let ups = 0;
  for (let i = common; i < fromDirEnd; i++) if (fromKey.charCodeAt(i) === 0x2f) ups++;
  const tail = toKey.slice(common);
  return ups === 0 ? sameDir(tail) : "../".repeat(ups) + tail;
}

function sameDir(rest: string): string {
  // "" or "?q" would resolve to the referring playlist itself; "a:b" would parse as a scheme.
  if (rest === "" || rest.charCodeAt(0) === 0x3f) return `./${rest}`;
  if (firstSegment(rest).includes(":")) return `./${rest}`;
  return rest;
}
