// Pure builders for the demo origin's live playlists: the clock in, RFC 8216 text out, no Workers APIs.

/** Where a live window stands at one instant. */
export interface LiveClock {
  /** Milliseconds since the Unix epoch. */
  now: number;
  /** Wall-clock length of one segment in milliseconds. */
  segmentMs: number;
  /** How many segments the playlist lists. */
  windowSegments: number;
}

export interface LiveWindow {
  /** Media sequence number of the first listed segment (EXT-X-MEDIA-SEQUENCE). */
  first: number;
  /** Media sequence number of the newest segment. */
  last: number;
}

/**
 * The sliding window at `now`: segment `msn` covers wall-clock time [msn, msn + 1) × segmentMs, so the
 * newest segment is floor(now / segmentMs) and the window ends there. Before the epoch has room for a
 * full window the list is shorter rather than negative.
 */
export function liveWindow({ now, segmentMs, windowSegments }: LiveClock): LiveWindow {
  const last = Math.floor(now / segmentMs);
  return { first: Math.max(0, last - windowSegments + 1), last };
}

/** How far outside the window a segment may be asked for and still be served. */
export interface Reach {
  /** Segments older than the window that still answer: players and caches lag behind the playlist. */
  behind: number;
  /** Segments newer than the newest listed that still answer: clocks drift, prefetchers guess. */
  ahead: number;
}

export const DEFAULT_REACH: Reach = { behind: 900, ahead: 3 };

/** Whether segment `msn` is servable at this instant: in the window, or lagging / leading it by at most `reach`. */
export function segmentInReach(msn: number, clock: LiveClock, reach: Reach = DEFAULT_REACH): boolean {
  const { first, last } = liveWindow(clock);
  return Number.isSafeInteger(msn) && msn >= 0 && msn >= first - reach.behind && msn <= last + reach.ahead;
}

export interface LiveMediaPlaylistOptions extends LiveClock {
  /** URI of segment `msn`, relative to the playlist. */
  segmentUri: (msn: number) => string;
  /** EXTINF of segment `msn`, in seconds. */
  segmentDuration: (msn: number) => number;
  /**
   * Length of the source loop behind the segments. When set, segment `msn` plays source file
   * `msn % loopSegments`, and every return to file 0 is marked with EXT-X-DISCONTINUITY because the
   * media timestamps jump back there.
   */
  loopSegments?: number;
  /** EXT-X-MAP URI for fMP4 renditions. */
  mapUri?: string;
  /**
   * Media sequence number at which the stream went on air: discontinuities are counted from there.
   * Defaults to 0 (the Unix epoch).
   */
  onAirMsn?: number;
  /** Added to EXT-X-MEDIA-SEQUENCE (another encoder's numbering of the same clock); segmentUri gets the clock's msn. */
  sequenceOffset?: number;
}

/**
 * Number of EXT-X-DISCONTINUITY tags that have slid out of a looping playlist whose first segment is
 * `first`, counting from the stream's on-air segment `onAirMsn`. Tags sit before every msn that is a
 * multiple of `loopSegments`; those strictly between `onAirMsn` and `first` are gone (RFC 8216 §6.2.2:
 * removing a tag increments EXT-X-DISCONTINUITY-SEQUENCE), and the first segment's own tag, if any, is
 * still listed. Before the on-air segment the count stays 0.
 */
export function discontinuitySequence(first: number, loopSegments: number, onAirMsn = 0): number {
  return Math.max(0, Math.floor((first - 1) / loopSegments) - Math.floor(onAirMsn / loopSegments));
}

/** A live media playlist for the window at `now`, every segment with its EXT-X-PROGRAM-DATE-TIME. */
export function buildLiveMediaPlaylist(o: LiveMediaPlaylistOptions): string {
  const { first, last } = liveWindow(o);
  // EXT-X-MAP without EXT-X-I-FRAMES-ONLY needs version 6; decimal EXTINF needs version 3.
  const version = o.mapUri === undefined ? 3 : 6;
  const lines = [
    "#EXTM3U",
    `#EXT-X-VERSION:${version}`,
    `#EXT-X-TARGETDURATION:${targetDuration(o, first, last)}`,
    `#EXT-X-MEDIA-SEQUENCE:${first + (o.sequenceOffset ?? 0)}`,
  ];
  if (o.loopSegments !== undefined) {
    lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${discontinuitySequence(first, o.loopSegments, o.onAirMsn)}`);
  }
  lines.push("#EXT-X-INDEPENDENT-SEGMENTS");
  for (let msn = first; msn <= last; msn++) {
    const wraps = o.loopSegments !== undefined && msn > 0 && msn % o.loopSegments === 0;
    if (wraps) lines.push("#EXT-X-DISCONTINUITY");
    // The map opens the playlist and is restated after each discontinuity, where a new
    // initialisation section could begin, so every discontinuity domain names its own.
    if (o.mapUri !== undefined && (msn === first || wraps)) lines.push(`#EXT-X-MAP:URI="${o.mapUri}"`);
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(msn * o.segmentMs).toISOString()}`);
    lines.push(`#EXTINF:${o.segmentDuration(msn).toFixed(3)},`);
    lines.push(o.segmentUri(msn));
  }
  return lines.join("\n") + "\n";
}

// RFC 8216 §4.3.3.1: every EXTINF rounded to the nearest integer must be at most the target duration.
function targetDuration(o: LiveMediaPlaylistOptions, first: number, last: number): number {
  let max = 1;
  for (let msn = first; msn <= last; msn++) max = Math.max(max, Math.round(o.segmentDuration(msn)));
  return max;
}

/** One EXT-X-STREAM-INF entry of a multivariant playlist. */
export interface Variant {
  uri: string;
  bandwidth: number;
  averageBandwidth: number;
  codecs: string;
  resolution: string;
  frameRate: number;
}

/** A multivariant playlist listing `variants` in the given order (players treat the first as the start hint). */
export function buildMultivariantPlaylist(variants: readonly Variant[]): string {
  const lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"];
  for (const v of variants) {
    lines.push(
      `#EXT-X-STREAM-INF:BANDWIDTH=${v.bandwidth},AVERAGE-BANDWIDTH=${v.averageBandwidth},` +
        `CODECS="${v.codecs}",RESOLUTION=${v.resolution},FRAME-RATE=${v.frameRate.toFixed(3)}`,
      v.uri,
    );
  }
  return lines.join("\n") + "\n";
}
