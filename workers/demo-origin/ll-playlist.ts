// Pure builders for the demo origin's Low-Latency HLS channel (RFC 8216bis): the clock in, playlist text and decisions out.
import { discontinuitySequence } from "./live-playlist";

/** How the live clock is cut: segment `msn` covers [msn, msn + 1) × segmentMs, in `partsPerSegment` equal parts. */
export interface LlTimeline {
  /** Wall-clock length of one segment in milliseconds. */
  segmentMs: number;
  /** Parts per segment; a part lasts segmentMs / partsPerSegment. */
  partsPerSegment: number;
}

/** A partial segment: part `part` (0-based) of media segment `msn`. */
export interface PartRef {
  msn: number;
  part: number;
}

export function partMs(t: LlTimeline): number {
  return t.segmentMs / t.partsPerSegment;
}

/** Parts counted from the epoch: part p of segment m is number m × partsPerSegment + p. */
export function partNumber(ref: PartRef, t: LlTimeline): number {
  return ref.msn * t.partsPerSegment + ref.part;
}

export function partOfNumber(n: number, t: LlTimeline): PartRef {
  return { msn: Math.floor(n / t.partsPerSegment), part: n % t.partsPerSegment };
}

/** When part `ref` exists: the instant its last frame has happened on the live clock. */
export function partReadyAt(ref: PartRef, t: LlTimeline): number {
  return (partNumber(ref, t) + 1) * partMs(t);
}

/** When segment `msn` is complete: the instant its last part exists. */
export function segmentReadyAt(msn: number, t: LlTimeline): number {
  return (msn + 1) * t.segmentMs;
}

/** The newest part that exists at `now` (the last EXT-X-PART a playlist built then lists). */
export function newestPart(now: number, t: LlTimeline): PartRef {
  return partOfNumber(Math.max(0, Math.floor(now / partMs(t)) - 1), t);
}

/** Server control values, in seconds. */
export interface ServerControl {
  /** PART-HOLD-BACK: how far behind the newest part a player should start; RFC 8216bis wants ≥ 2 × PART-TARGET. */
  partHoldBack: number;
  /** CAN-SKIP-UNTIL, the Skip Boundary; RFC 8216bis wants ≥ 6 × TARGETDURATION. */
  canSkipUntil: number;
}

export interface LlMediaPlaylistOptions extends LlTimeline, ServerControl {
  /** Milliseconds since the Unix epoch. */
  now: number;
  /** Complete segments the playlist lists (the segment in progress comes after them). */
  windowSegments: number;
  /** Length of the source loop: every return to its first file is a discontinuity (timestamps jump back). */
  loopSegments: number;
  /** Media sequence number at which the stream went on air: discontinuities are counted from there. */
  onAirMsn: number;
  mapUri: string;
  segmentUri: (msn: number) => string;
  partUri: (ref: PartRef) => string;
  /** EXTINF of segment `msn`, in seconds. */
  segmentDuration: (msn: number) => number;
  /** EXT-X-PART DURATION of part `ref`, in seconds. */
  partDuration: (ref: PartRef) => number;
  /** URIs of the sibling renditions' media playlists, for EXT-X-RENDITION-REPORT (same clock, same position). */
  renditionReports: readonly string[];
  /** A Playlist Delta Update (`_HLS_skip=YES`): segments beyond the Skip Boundary are replaced by EXT-X-SKIP. */
  skip?: boolean;
}

/** Where an LL playlist built at `now` stands. */
export interface LlWindow {
  /** EXT-X-MEDIA-SEQUENCE. */
  first: number;
  /** Newest complete segment (listed with its URI). */
  lastComplete: number;
  /** Newest part (its segment is lastComplete, or lastComplete + 1 while in progress). */
  newest: PartRef;
  /** The part EXT-X-PRELOAD-HINT names: the one after `newest`. */
  hint: PartRef;
  /** Wall-clock end of the newest part: the end of the playlist. */
  endMs: number;
}

export function llWindow(now: number, t: LlTimeline, windowSegments: number): LlWindow {
  const newest = newestPart(now, t);
  const lastComplete = newest.part === t.partsPerSegment - 1 ? newest.msn : newest.msn - 1;
  return {
    first: Math.max(0, lastComplete - windowSegments + 1),
    lastComplete,
    newest,
    hint: partOfNumber(partNumber(newest, t) + 1, t),
    endMs: partReadyAt(newest, t),
  };
}

/**
 * RFC 8216bis §6.2.5.1: the server "MUST NOT skip … a Media Segment" within the Skip Boundary of the
 * end of the playlist. Counted conservatively: a segment is skipped only when all of it lies beyond.
 */
export function skippedSegments(w: LlWindow, t: LlTimeline, canSkipUntil: number): number {
  let n = 0;
  for (let msn = w.first; msn <= w.lastComplete && segmentReadyAt(msn, t) <= w.endMs - canSkipUntil * 1000; msn++) n++;
  return n;
}

const decimal = (seconds: number) => seconds.toFixed(3);

/** An LL-HLS media playlist at `now`: parts of the last three target durations, a preload hint, rendition reports. */
export function buildLlMediaPlaylist(o: LlMediaPlaylistOptions): string {
  const w = llWindow(o.now, o, o.windowSegments);
  const targetDuration = Math.ceil(o.segmentMs / 1000);
  const lines = [
    "#EXTM3U",
    // Version 9: EXT-X-SKIP (RFC 8216bis §7); EXT-X-MAP needs 6, which 9 includes.
    "#EXT-X-VERSION:9",
    `#EXT-X-TARGETDURATION:${targetDuration}`,
    `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=${o.canSkipUntil.toFixed(1)},PART-HOLD-BACK=${o.partHoldBack.toFixed(3)}`,
    `#EXT-X-PART-INF:PART-TARGET=${decimal(partMs(o) / 1000)}`,
    `#EXT-X-MEDIA-SEQUENCE:${w.first}`,
    // Counted from the full window's first segment: a delta update skips segments, not the count.
    `#EXT-X-DISCONTINUITY-SEQUENCE:${discontinuitySequence(w.first, o.loopSegments, o.onAirMsn)}`,
    "#EXT-X-INDEPENDENT-SEGMENTS",
  ];
  const skipped = o.skip ? skippedSegments(w, o, o.canSkipUntil) : 0;
  if (skipped > 0) lines.push(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${skipped}`);
  // RFC 8216bis §4.4.4.9: parts more than three target durations from the end SHOULD be removed.
  const partsFrom = w.endMs - 3 * targetDuration * 1000;
  const firstListed = w.first + skipped;
  for (let msn = firstListed; msn <= w.newest.msn; msn++) {
    const wraps = msn > 0 && msn % o.loopSegments === 0;
    if (wraps) lines.push("#EXT-X-DISCONTINUITY");
    // Stated first and after each discontinuity, so every discontinuity domain (and a delta update) names its own.
    if (msn === firstListed || wraps) lines.push(`#EXT-X-MAP:URI="${o.mapUri}"`);
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(msn * o.segmentMs).toISOString()}`);
    const complete = msn <= w.lastComplete;
    if (!complete || segmentReadyAt(msn, o) > partsFrom) {
      const lastPart = complete ? o.partsPerSegment - 1 : w.newest.part;
      for (let part = 0; part <= lastPart; part++) {
        const ref = { msn, part };
        // Every part opens on a key frame (scripts/make-media.sh), so each one is INDEPENDENT.
        lines.push(`#EXT-X-PART:DURATION=${decimal(o.partDuration(ref))},URI="${o.partUri(ref)}",INDEPENDENT=YES`);
      }
    }
    if (complete) lines.push(`#EXTINF:${decimal(o.segmentDuration(msn))},`, o.segmentUri(msn));
  }
  lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${o.partUri(w.hint)}"`);
  for (const uri of o.renditionReports) {
    lines.push(`#EXT-X-RENDITION-REPORT:URI="${uri}",LAST-MSN=${w.newest.msn},LAST-PART=${w.newest.part}`);
  }
  return lines.join("\n") + "\n";
}

/** A blocking playlist reload's delivery directives (RFC 8216bis §6.2.5.2), already validated as numbers. */
export interface DeliveryDirectives {
  msn?: number;
  part?: number;
}

export type ReloadDecision =
  /** Answer with the playlist built at `at` (now, or later once the asked-for part exists). */
  | { kind: "answer"; at: number }
  /** 400: the request cannot be honoured (part without msn, or too far ahead of the playlist). */
  | { kind: "refuse"; message: string };

/**
 * When a playlist request with `directives` can be answered. `_HLS_msn=M` alone waits for segment M to
 * be complete; with `_HLS_part=P`, for part P of M (a P past M's last part means a part of a later
 * segment, counted on). RFC 8216bis §6.2.5.2: an M more than two segments past the playlist's last, or
 * a P more than the Advance Part Limit (3 s of parts) past its last part, is refused at once; so the
 * longest hold is bounded by those limits (under three target durations).
 */
export function reloadDecision(directives: DeliveryDirectives, now: number, t: LlTimeline): ReloadDecision {
  const { msn, part } = directives;
  if (msn === undefined) {
    if (part !== undefined) return { kind: "refuse", message: "_HLS_part needs _HLS_msn." };
    return { kind: "answer", at: now };
  }
  const newest = newestPart(now, t);
  if (msn > newest.msn + 2) {
    return { kind: "refuse", message: `_HLS_msn=${msn} is more than two segments past the playlist's last (${newest.msn}).` };
  }
  if (part === undefined) return { kind: "answer", at: Math.max(now, segmentReadyAt(msn, t)) };
  const advancePartLimit = Math.ceil(3000 / partMs(t));
  const asked = partNumber({ msn, part }, t);
  if (asked > partNumber(newest, t) + advancePartLimit) {
    return { kind: "refuse", message: `_HLS_msn=${msn}&_HLS_part=${part} is more than ${advancePartLimit} parts past the playlist's last.` };
  }
  return { kind: "answer", at: Math.max(now, partReadyAt(partOfNumber(asked, t), t)) };
}

export type PartAvailability = { kind: "ready" } | { kind: "hold"; until: number } | { kind: "missing" };

/**
 * Whether part `ref` can be served at `now`: it exists, or it is the part the preload hint names (its
 * request is held until it exists, at most one part's time), or it does not exist yet.
 */
export function partAvailability(ref: PartRef, now: number, t: LlTimeline): PartAvailability {
  const readyAt = partReadyAt(ref, t);
  if (readyAt <= now) return { kind: "ready" };
  if (readyAt - now <= partMs(t)) return { kind: "hold", until: readyAt };
  return { kind: "missing" };
}
