// One continuous live media playlist out of several encoders' playlists: when the channel moves from one
// origin to another, viewers keep the playlist they reload and see its media sequence numbers keep rising,
// with EXT-X-DISCONTINUITY where the two encoders' timelines differ and none where they are aligned (the
// same segment names at the same sequence numbers). Pure: rewritten playlist text in, playlist text out.
import { resolveListed } from "./listing";
import { unprefixedKey } from "./origins";

/** One media segment of a playlist: its lines (tags, then the URI line) and where it sits in its source's timeline. */
export interface Block {
  readonly lines: readonly string[];
  /** The segment's play key, resolved against the key the playlist is served under. */
  readonly key: string;
  readonly msn: number;
  /** Discontinuity sequence number of the segment (the tag's value plus every EXT-X-DISCONTINUITY up to and including it). */
  readonly disc: number;
  readonly discontinuity: boolean;
  readonly duration: number;
  /** EXT-X-PROGRAM-DATE-TIME of the segment's first sample in ms, given or carried from the previous segment. */
  readonly pdt: number | null;
  /** The EXT-X-MAP and EXT-X-KEY lines in effect for the segment, so a segment can be moved next to another source's. */
  readonly map: string | null;
  readonly keyLines: readonly string[];
}

export interface SplitPlaylist {
  /** Playlist-level tags before the first segment, EXT-X-MEDIA-SEQUENCE and EXT-X-DISCONTINUITY-SEQUENCE left out. */
  readonly header: readonly string[];
  readonly blocks: readonly Block[];
  /** What follows the last segment: parts of the next one, preload hints, rendition reports, EXT-X-ENDLIST. */
  readonly tail: readonly string[];
  readonly endList: boolean;
}

const HEADER_TAGS = /^#(?:EXTM3U|EXT-X-VERSION|EXT-X-TARGETDURATION|EXT-X-PLAYLIST-TYPE|EXT-X-INDEPENDENT-SEGMENTS|EXT-X-START|EXT-X-SERVER-CONTROL|EXT-X-PART-INF|EXT-X-ALLOW-CACHE|EXT-X-I-FRAMES-ONLY|EXT-X-DEFINE|EXT-X-MEDIA-SEQUENCE|EXT-X-DISCONTINUITY-SEQUENCE)\b/;
/** Low-latency lines: a stitched playlist leaves them out and is served as a regular live playlist. */
const LOW_LATENCY = /^#(?:EXT-X-SERVER-CONTROL|EXT-X-PART-INF|EXT-X-PART|EXT-X-PRELOAD-HINT|EXT-X-RENDITION-REPORT|EXT-X-SKIP)\b/;

function tagValue(line: string, tag: string): string | null {
  return line.startsWith(`#${tag}:`) ? line.slice(tag.length + 2).trim() : null;
}

/** Splits a (rewritten, valid) media playlist served under `servedAs` into its header, segments and tail. */
export function splitMediaPlaylist(text: string, servedAs: string): SplitPlaylist {
  const header: string[] = [];
  const blocks: Block[] = [];
  let pending: string[] = [];
  let inHeader = true;
  let msn = 0;
  let disc = 0;
  let map: string | null = null;
  let keyLines: string[] = [];
  let keysReset = false;
  let nextPdt: number | null = null;
  let endList = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "") continue;
    if (inHeader && HEADER_TAGS.test(line)) {
      const seq = tagValue(line, "EXT-X-MEDIA-SEQUENCE");
      const dseq = tagValue(line, "EXT-X-DISCONTINUITY-SEQUENCE");
      if (seq !== null) msn = Number(seq);
      else if (dseq !== null) disc = Number(dseq);
      else header.push(line);
      continue;
    }
    if (line.startsWith("#") && !line.startsWith("#EXT")) continue; // comments
    inHeader = false;
    if (line === "#EXT-X-ENDLIST") {
      endList = true;
      continue;
    }
    const skipped = tagValue(line, "EXT-X-SKIP");
    if (skipped !== null) {
      // A delta update (RFC 8216bis 6.2.5.1): the first segment listed comes after the skipped ones.
      msn += Number(/SKIPPED-SEGMENTS=(\d+)/.exec(skipped)?.[1] ?? 0);
      continue;
    }
    if (line.startsWith("#")) {
      if (line.startsWith("#EXT-X-MAP:")) map = line;
      if (line.startsWith("#EXT-X-KEY:")) {
        if (!keysReset) keyLines = [];
        keysReset = true;
        keyLines.push(line);
      }
      pending.push(line);
      continue;
    }
    // A URI line ends a segment.
    const lines = [...pending, line];
    pending = [];
    keysReset = false;
    const discontinuity = lines.includes("#EXT-X-DISCONTINUITY");
    if (discontinuity) disc++;
    let duration = 0;
    let pdt: number | null = nextPdt;
    for (const l of lines) {
      const inf = tagValue(l, "EXTINF");
      if (inf !== null) duration = Number.parseFloat(inf) || 0;
      const date = tagValue(l, "EXT-X-PROGRAM-DATE-TIME");
      if (date !== null) {
        const t = Date.parse(date);
        pdt = Number.isFinite(t) ? t : null;
      }
    }
    const key = resolveListed(line, servedAs) ?? line;
    blocks.push({ lines, key, msn, disc, discontinuity, duration, pdt, map, keyLines: keyLines.slice() });
    nextPdt = pdt === null ? null : pdt + duration * 1000;
    msn++;
  }
  return { header, blocks, tail: pending, endList };
}

/** A segment as published in the stitched playlist: its block and its numbers there. */
interface Published {
  readonly block: Block;
  readonly source: number;
  readonly msn: number;
  readonly disc: number;
  /** An EXT-X-DISCONTINUITY the stitch put before it (the encoders' timelines differ). */
  readonly addedDiscontinuity: boolean;
}

/** How one source's numbers map onto the stitched playlist's: kept across a shield restart. */
export interface TimelineState {
  readonly source: number;
  readonly msnOffset: number;
  readonly discOffset: number;
}

/** Published segments kept beyond the current window, for the next switch. */
const MAX_PUBLISHED = 64;
/** Two program date times this close are the same moment (encoders round differently). */
const PDT_TOLERANCE_MS = 250;

/**
 * The stitched playlist of one playlist key (a rendition, or a channel's lone media playlist). Each update
 * gives it the playlist of the origin serving now, rewritten to be served under that key; while that is the
 * key's own origin and nothing was ever stitched, the text goes out as it came.
 */
export class StitchedTimeline {
  private state: TimelineState | null;
  private published: Published[] = [];
  private stitched: boolean;
  /** The last update's source and text, and what it gave. */
  private last: { source: number; in: string; out: string } | null = null;

  /** `origin`: the index of the origin whose keys the playlist key belongs to (0 for the primary's). */
  constructor(private readonly origin: number, restored?: TimelineState) {
    this.state = restored ?? null;
    this.stitched = restored !== undefined && (restored.source !== origin || restored.msnOffset !== 0 || restored.discOffset !== 0);
  }

  /** Whether the playlist is served stitched now (not as its own origin sends it). */
  isStitched(): boolean {
    return this.stitched;
  }

  /** What must survive a restart of the shield for the numbers to keep rising; null while nothing was stitched. */
  persisted(): TimelineState | null {
    return this.stitched ? this.state : null;
  }

  /**
   * The playlist to serve, given the serving origin's playlist for this key (`text`, already rewritten for
   * it). Returns the same text while nothing needs stitching; `switched` is set on the update that moved
   * to another source, with whether the two were aligned.
   */
  update(source: number, text: string, servedAs: string): { text: string; switched?: { aligned: boolean } } {
    // The same copy again (every viewer's reload while it is fresh): nothing new to publish.
    if (this.last !== null && this.last.source === source && this.last.in === text) return { text: this.last.out };
    const result = this.advance(source, text, servedAs);
    this.last = { source, in: text, out: result.text };
    return result;
  }

  private advance(source: number, text: string, servedAs: string): { text: string; switched?: { aligned: boolean } } {
    const split = splitMediaPlaylist(text, servedAs);
    if (this.state === null) this.state = { source, msnOffset: 0, discOffset: 0 };
    let switched: { aligned: boolean } | undefined;
    if (source !== this.state.source) {
      switched = { aligned: this.switchTo(source, split) };
      this.stitched = true;
    } else if (!this.stitched && source !== this.origin) {
      this.stitched = true; // a backup serving a key it never had: its segments still carry its own prefix
    }
    this.append(source, split);
    if (this.stitched && this.isPlain(source, split)) this.stitched = false;
    // Nothing published yet (a restart, then an empty window): the source's text is all there is to say.
    if (!this.stitched || this.published.length === 0) return { text, ...(switched ? { switched } : {}) };
    return { text: this.render(split), ...(switched ? { switched } : {}) };
  }

  private append(source: number, split: SplitPlaylist): void {
    const { msnOffset, discOffset } = this.state!;
    for (const block of split.blocks) {
      const msn = block.msn + msnOffset;
      if (msn <= (this.published.at(-1)?.msn ?? Number.NEGATIVE_INFINITY)) continue;
      this.published.push({ block, source, msn, disc: block.disc + discOffset, addedDiscontinuity: false });
    }
    if (this.published.length > MAX_PUBLISHED) this.published.splice(0, this.published.length - MAX_PUBLISHED);
  }

  /**
   * Moves to `source`: aligned when it lists the last published segment under the same name at the same
   * sequence number (then it simply continues); otherwise its segments follow the last published one with
   * an EXT-X-DISCONTINUITY, from the first whose program date time is not earlier than the end of that one
   * (or its newest segment when either has no dates). Returns whether the two were aligned.
   */
  private switchTo(source: number, split: SplitPlaylist): boolean {
    const last = this.published.at(-1);
    if (last === undefined || split.blocks.length === 0) {
      this.state = { source, msnOffset: this.state!.msnOffset, discOffset: this.state!.discOffset };
      return false;
    }
    const srcMsn = last.msn - this.state!.msnOffset;
    const same = split.blocks.find((b) => b.msn === srcMsn);
    if (same !== undefined && unprefixedKey(same.key) === unprefixedKey(last.block.key)) {
      this.state = { source, msnOffset: this.state!.msnOffset, discOffset: last.disc - same.disc };
      return true;
    }
    let first: Block = split.blocks.at(-1)!;
    if (last.block.pdt !== null) {
      const lastEnd = last.block.pdt + last.block.duration * 1000;
      const next = split.blocks.find((b) => b.pdt !== null && b.pdt >= lastEnd - PDT_TOLERANCE_MS);
      if (next !== undefined) first = next;
    }
    const msnOffset = last.msn + 1 - first.msn;
    const discOffset = last.disc + 1 - first.disc;
    this.state = { source, msnOffset, discOffset };
    // Segments of the new source before `first` are never published; `first` carries the discontinuity.
    this.published.push({ block: first, source, msn: last.msn + 1, disc: last.disc + 1, addedDiscontinuity: !first.discontinuity });
    return false;
  }

  /** Whether the window shown now is the key's own origin's, numbered as it numbers it: then no stitching is needed. */
  private isPlain(source: number, split: SplitPlaylist): boolean {
    const { msnOffset, discOffset } = this.state!;
    if (source !== this.origin || msnOffset !== 0 || discOffset !== 0) return false;
    return this.published.slice(-Math.max(1, split.blocks.length)).every((p) => p.source === source && !p.addedDiscontinuity);
  }

  /** The stitched text: the source's header, its window's length of published segments, its tail's end. */
  private render(split: SplitPlaylist): string {
    const windowLength = Math.max(1, split.blocks.length);
    const shown = this.published.slice(-windowLength);
    const first = shown[0]!;
    const startDisc = first.disc - (first.block.discontinuity || first.addedDiscontinuity ? 1 : 0);
    const out: string[] = [];
    for (const line of split.header) if (!LOW_LATENCY.test(line)) out.push(line);
    out.push(`#EXT-X-MEDIA-SEQUENCE:${first.msn}`, `#EXT-X-DISCONTINUITY-SEQUENCE:${startDisc}`);
    let map: string | null = null;
    let keys = "";
    for (const p of shown) {
      const b = p.block;
      if (p.addedDiscontinuity) out.push("#EXT-X-DISCONTINUITY");
      // The map and keys in effect travel with the segment: the previous one may come from another encoder.
      if (b.map !== null && b.map !== map && !b.lines.includes(b.map)) out.push(b.map);
      map = b.map;
      const k = b.keyLines.join("\n");
      if (k !== keys && !b.keyLines.every((l) => b.lines.includes(l))) out.push(...b.keyLines);
      keys = k;
      for (const line of b.lines) if (!LOW_LATENCY.test(line)) out.push(line);
    }
    if (split.endList) out.push("#EXT-X-ENDLIST");
    return out.join("\n") + "\n";
  }
}
