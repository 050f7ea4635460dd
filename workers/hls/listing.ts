// What a playback token may open: the play keys a channel's emitted playlists list, resolved exactly as a
// player resolves them, and the form of a requested key that a playlist must have listed.

/** Attributes whose value is a URI a player may fetch (RFC 8216bis: URI; HLS interstitials: X-ASSET-*). */
const URI_ATTRS = /(?:^|[:,])(?:URI|X-ASSET-URI|X-ASSET-LIST)="([^"]*)"/g;
/** A base no real request has: only what resolves under it is a play key of this channel. */
const BASE = "https://listing.invalid/t/";

/**
 * The play keys a player can reach from a playlist the platform emitted under `playlistKey`: every URI
 * line and URI attribute, resolved against the playlist's own key as a player resolves it (dot segments
 * removed, the query kept as written). URIs that leave the token's path (data:, skd:, another host) are
 * not play keys and are left out.
 */
export function listedKeys(emitted: string, playlistKey: string): string[] {
  const base = BASE + playlistKey;
  const keys: string[] = [];
  const add = (raw: string) => {
    let href: string;
    try {
      href = new URL(raw, base).href;
    } catch {
      return;
    }
    if (href.startsWith(BASE) && href.length > BASE.length) keys.push(stripFragment(href.slice(BASE.length)));
  };
  for (const line of emitted.split(/\r?\n/)) {
    const text = line.trim();
    if (text === "") continue;
    if (!text.startsWith("#")) add(text);
    else if (text.startsWith("#EXT")) for (const m of text.matchAll(URI_ATTRS)) add(m[1]!);
  }
  return keys;
}

/**
 * The form of a requested key that a playlist must have listed: the query parameters players add on their
 * own (`_HLS_msn`, `_HLS_part`, `_HLS_skip` of LL-HLS, `_HLS_pathway` of steering) are dropped; any other
 * query is part of the key, so a query the origin did not write makes a key no playlist lists.
 */
export function listingKey(key: string): string {
  const q = key.indexOf("?");
  if (q < 0 || !key.includes("_HLS_", q)) return key;
  const kept = key
    .slice(q + 1)
    .split("&")
    .filter((p) => !p.startsWith("_HLS_"));
  return kept.length === 0 ? key.slice(0, q) : `${key.slice(0, q)}?${kept.join("&")}`;
}

function stripFragment(key: string): string {
  const hash = key.indexOf("#");
  return hash < 0 ? key : key.slice(0, hash);
}
