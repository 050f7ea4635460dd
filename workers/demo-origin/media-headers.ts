// Content types and cache lifetimes the demo origin answers with, chosen by file extension like a real origin would.

const TYPES: Record<string, string> = {
  m3u8: "application/vnd.apple.mpegurl",
  ts: "video/mp2t",
  m2t: "video/mp2t",
  mp4: "video/mp4",
  m4s: "video/iso.segment",
  aac: "audio/aac",
  key: "application/octet-stream",
  bin: "video/mp2t",
};

/** Playlists change every segment; everything else is addressed by a unique, never-reused URI. */
export const PLAYLIST_CACHE_CONTROL = "public, max-age=1";
export const SEGMENT_CACHE_CONTROL = "public, max-age=31536000, immutable";

export function extensionOf(path: string): string {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const dot = name.lastIndexOf(".");
  return dot < 0 ? "" : name.slice(dot + 1).toLowerCase();
}

export function contentTypeFor(path: string): string {
  return TYPES[extensionOf(path)] ?? "application/octet-stream";
}

/** Segments, init sections and keys: what SEGMENT_DELAY_MS slows down. */
export function isSegmentPath(path: string): boolean {
  const ext = extensionOf(path);
  return ext !== "m3u8" && ext in TYPES;
}

export function mediaHeaders(path: string): Record<string, string> {
  return {
    "content-type": contentTypeFor(path),
    "cache-control": extensionOf(path) === "m3u8" ? PLAYLIST_CACHE_CONTROL : SEGMENT_CACHE_CONTROL,
  };
}
