// What a playback token may open: the play keys a channel's emitted playlists list, resolved exactly as a
// player resolves them, and the form of a requested key that a playlist must have listed.

/** Attributes whose value is a URI a player may fetch (RFC 8216bis: URI; HLS interstitials: X-ASSET-*). */
const URI_ATTRS = /(?:^|[:,])(URI|X-ASSET-URI|X-ASSET-LIST)="([^"]*)"/g;
/** A base no real request has: only what resolves under it is a play key of this channel. */
const BASE = "https://listing.invalid/t/";

/** A play key a playlist lists, with the BANDWIDTH of the variant that lists it (multivariant playlists only). */
export interface ListedKey {
  readonly key: string;
  /** From EXT-X-STREAM-INF (its URI line) or EXT-X-I-FRAME-STREAM-INF; renditions and media playlists' keys have none. */
  readonly bandwidth?: number;
  /** Named by X-ASSET-LIST: a JSON document of interstitial assets, whose own URIs the platform rewrites and lists. */
  readonly assetList?: true;
}

/**
 * The play keys a player can reach from a playlist the platform emitted under `playlistKey`: every URI
 * line and URI attribute, resolved against the playlist's own key as a player resolves it (dot segments
 * removed, the query kept as written). URIs that leave the token's path (data:, skd:, another host) are
 * not play keys and are left out.
 */
export function listedKeys(emitted: string, playlistKey: string): string[] {
  return listedEntries(emitted, playlistKey).map((e) => e.key);
}

/** listedKeys, with each variant's BANDWIDTH beside the key of its media playlist (for the quality cap). */
export function listedEntries(emitted: string, playlistKey: string): ListedKey[] {
  const keys: ListedKey[] = [];
  const add = (raw: string, bandwidth: number | undefined, assetList = false) => {
    const key = resolveListed(raw, playlistKey);
    if (key === null) return;
    keys.push({ key, ...(bandwidth === undefined ? {} : { bandwidth }), ...(assetList ? { assetList: true as const } : {}) });
  };
  // The BANDWIDTH of the EXT-X-STREAM-INF tag waiting for its URI line.
  let variantBandwidth: number | undefined;
  for (const line of emitted.split(/\r?\n/)) {
    const text = line.trim();
    if (text === "") continue;
    if (!text.startsWith("#")) {
      add(text, variantBandwidth);
      variantBandwidth = undefined;
    } else if (text.startsWith("#EXT-X-STREAM-INF:")) variantBandwidth = bandwidthOf(text);
    else if (text.startsWith("#EXT")) {
      const bandwidth = text.startsWith("#EXT-X-I-FRAME-STREAM-INF:") ? bandwidthOf(text) : undefined;
      for (const m of text.matchAll(URI_ATTRS)) add(m[2]!, bandwidth, m[1] === "X-ASSET-LIST");
    }
  }
  return keys;
}

/**
 * The play key `raw` names when it is found in a document served under `fromKey`, resolved as a player
 * resolves it; null when it leaves the token's path (data:, skd:, another host, above the token).
 */
export function resolveListed(raw: string, fromKey: string): string | null {
  let href: string;
  try {
    href = new URL(raw, BASE + fromKey).href;
  } catch {
    return null;
  }
  if (!href.startsWith(BASE) || href.length <= BASE.length) return null;
  return stripFragment(href.slice(BASE.length));
}

/** The BANDWIDTH of a tag line (not AVERAGE-BANDWIDTH), or undefined. */
function bandwidthOf(tag: string): number | undefined {
  const m = /[:,]BANDWIDTH=(\d+)/.exec(tag);
  return m ? Number(m[1]) : undefined;
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
