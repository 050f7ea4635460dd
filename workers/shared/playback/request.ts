// Reading a playback request the same way on every tier (edge and stadium node): the /play/<token>/<key>
// path, split without decoding anything (the key is matched byte for byte), and its Range header.

export interface PlayPath {
  token: string;
  /** The play key with the request's query, exactly as sent (`720p/seg-1.ts?x=1`). */
  key: string;
}

/** Returns null for anything that is not `/play/<token>/<non-empty key>`. */
export function parsePlayUrl(url: string): PlayPath | null {
  const scheme = url.indexOf("://");
  const pathStart = url.indexOf("/", scheme + 3);
  if (pathStart < 0 || !url.startsWith("/play/", pathStart)) return null;
  const tokenStart = pathStart + 6;
  const slash = url.indexOf("/", tokenStart);
  if (slash <= tokenStart) return null;
  const token = url.slice(tokenStart, slash);
  let key = url.slice(slash + 1);
  const hash = key.indexOf("#");
  if (hash >= 0) key = key.slice(0, hash);
  if (key.length === 0 || key.startsWith("?")) return null;
  return { token, key };
}

/** Parses a single `bytes=a-b` range against a body of `size` bytes; null means "serve it whole". */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | "unsatisfiable" | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return null; // multi-range or malformed: whole body is a valid answer
  let start: number;
  let end: number;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0) return "unsatisfiable";
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return "unsatisfiable";
  return { start, end };
}

/** Whether a URL's path starts with /play/ (checked on the raw URL, as parsePlayUrl reads it). */
export function isPlayPath(url: string): boolean {
  const pathStart = url.indexOf("/", url.indexOf("://") + 3);
  return pathStart >= 0 && url.startsWith("/play/", pathStart);
}
