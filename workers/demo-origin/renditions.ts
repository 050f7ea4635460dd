// The live renditions the demo origin offers, read from the manifest scripts/make-media.sh writes beside the media.
import { z } from "zod";
import manifestJson from "./media-manifest.json";

const Rendition = z.object({
  id: z.string().regex(/^[a-z0-9-]+$/),
  container: z.enum(["ts", "fmp4"]),
  segmentExtension: z.enum(["ts", "m4s"]),
  codecs: z.string().min(1),
  resolution: z.string().regex(/^\d+x\d+$/),
  frameRate: z.number().positive(),
  bandwidth: z.number().int().positive(),
  averageBandwidth: z.number().int().positive(),
  initBytes: z.number().int().positive().nullable(),
  initSha256: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  segmentBytes: z.array(z.number().int().positive()),
  segmentSha256: z.array(z.string().regex(/^[0-9a-f]{64}$/)),
  segmentDurations: z.array(z.number().positive()),
});
export type Rendition = z.infer<typeof Rendition>;

const Manifest = z
  .object({
    segmentSeconds: z.number().positive(),
    loopSegments: z.number().int().positive(),
    renditions: z.array(Rendition).min(1),
  })
  .refine((m) => m.renditions.every((r) => [r.segmentDurations, r.segmentBytes, r.segmentSha256].every((list) => list.length === m.loopSegments)), {
    message: "every rendition must list one size, digest and duration per loop segment",
  });

// Parsed once per isolate: a hand-edited or stale manifest fails at startup, not in the middle of a stream.
export const media = Manifest.parse(manifestJson);

/** Wall-clock length of one live segment, in milliseconds. */
export const SEGMENT_MS = media.segmentSeconds * 1000;
/** Segments in a live playlist window. */
export const WINDOW_SEGMENTS = 6;
/**
 * When the demo live stream "went on air": its discontinuities are counted from here. Counted from the
 * Unix epoch, EXT-X-DISCONTINUITY-SEQUENCE would be about 1.8e8, and hls.js 1.7 copies an array indexed
 * by it, freezing the page for seconds; from here the count grows by 8,640 a day.
 */
export const ON_AIR_MS = Date.UTC(2026, 10, 1);
export const ON_AIR_MSN = Math.floor(ON_AIR_MS / SEGMENT_MS);

export function findRendition(id: string): Rendition | undefined {
  return media.renditions.find((r) => r.id === id);
}

/** Path inside the assets directory of the source file that live segment `msn` plays. */
export function sourceSegmentPath(r: Rendition, msn: number): string {
  return `/live/${r.id}/seg-${msn % media.loopSegments}.${r.segmentExtension}`;
}
