// X-ASSET-LIST documents (HLS interstitials, rfc8216bis Appendix D): a JSON object whose ASSETS each name the
// URI of an asset's playlist. Rewritten as a playlist is: each asset's URI becomes a reference under the
// viewer's token, and an asset the channel's origin may not serve is left out.
import { PlaylistError } from "./parse";
import { UriMapper, type RewriteOptions } from "./rewrite";

export interface RewrittenAssetList {
  /** The document to serve: the origin's, with each kept asset's URI rewritten. */
  readonly text: string;
  /** The rewritten URIs, as a player resolves them against the document's own play key. */
  readonly uris: string[];
}

/**
 * Rewrites the asset list the origin sent for `playlistKey`. Every other field is kept as written. Throws
 * PlaylistError when it is not a JSON object with an ASSETS array of objects that each have a string URI.
 */
export function rewriteAssetList(text: string, opts: Pick<RewriteOptions, "playlistUrl" | "playlistKey" | "origin">): RewrittenAssetList {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new PlaylistError("asset list is not JSON");
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new PlaylistError("asset list is not a JSON object");
  const assets = (doc as { ASSETS?: unknown }).ASSETS;
  if (!Array.isArray(assets)) throw new PlaylistError("asset list has no ASSETS array");
  const mapper = new UriMapper(opts);
  const kept: Record<string, unknown>[] = [];
  const uris: string[] = [];
  for (const asset of assets) {
    if (typeof asset !== "object" || asset === null || typeof (asset as { URI?: unknown }).URI !== "string") {
      throw new PlaylistError("an asset of the asset list has no URI string");
    }
    const mapped = mapper.map((asset as { URI: string }).URI);
    if (!("uri" in mapped)) continue; // on a host the channel may not use: a player skips an asset list it cannot play
    kept.push({ ...(asset as Record<string, unknown>), URI: mapped.uri });
    uris.push(mapped.uri);
  }
  return { text: JSON.stringify({ ...(doc as Record<string, unknown>), ASSETS: kept }), uris };
}
