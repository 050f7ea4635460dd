// LL-HLS delivery directives (RFC 8216bis 6.2.5): what a blocking playlist reload asks for, and whether a
// playlist already holds it, so a cache answers from a copy it has instead of asking upstream.
import type { PlaylistInfo } from "./parse";

export interface BlockingReload {
  /** _HLS_msn: the Media Sequence Number the playlist must reach. */
  readonly msn: number;
  /** _HLS_part: the Partial Segment of `msn` it must reach; absent, the whole segment. */
  readonly part?: number;
  /** _HLS_skip asks for a delta update: an answer rendered for it, never a whole copy. */
  readonly skip: boolean;
}

const WHOLE_NUMBER = /^\d{1,15}$/;

/** The blocking reload a play key asks for (its `_HLS_msn`, `_HLS_part`, `_HLS_skip`), or null when it asks for none or asks it malformed. */
export function blockingReloadOf(key: string): BlockingReload | null {
  const q = key.indexOf("?");
  if (q < 0) return null;
  const params = new URLSearchParams(key.slice(q + 1));
  const msn = params.get("_HLS_msn");
  const part = params.get("_HLS_part");
  if (msn === null || !WHOLE_NUMBER.test(msn) || (part !== null && !WHOLE_NUMBER.test(part))) return null;
  return { msn: Number(msn), ...(part === null ? {} : { part: Number(part) }), skip: params.has("_HLS_skip") };
}

/**
 * Whether a media playlist already answers `reload`: it lists segment `msn` whole (or a later one), or, for a
 * part, that part of `msn` or anything after it. A part past the last of a finished segment is the next
 * segment's first (RFC 8216bis 6.2.5.2), so it is not there yet. A server holds a reload only until it is.
 */
export function satisfiesReload(info: PlaylistInfo, reload: BlockingReload): boolean {
  if (info.kind !== "media") return false;
  const lastSegment = info.segments.at(-1)?.mediaSequence ?? -1;
  if (reload.part === undefined) return lastSegment >= reload.msn;
  if (lastSegment > reload.msn) return true;
  let partsOfMsn = 0;
  for (const p of info.parts) {
    if (p.mediaSequence > reload.msn) return true;
    if (p.mediaSequence === reload.msn) partsOfMsn++;
  }
  if (partsOfMsn > reload.part) return true;
  // Finished, and its parts no longer listed (long past): whatever part was asked is in it.
  return lastSegment === reload.msn && partsOfMsn === 0;
}
