// The LL-HLS renditions the demo origin offers, read from the manifest `scripts/make-media.sh ll` writes beside the media.
import { z } from "zod";
import manifestJson from "./ll-media-manifest.json";
import { ON_AIR_MS } from "./renditions";

const LlRendition = z.object({
  id: z.string().regex(/^[a-z0-9-]+$/),
  codecs: z.string().min(1),
  resolution: z.string().regex(/^\d+x\d+$/),
  frameRate: z.number().positive(),
  bandwidth: z.number().int().positive(),
  averageBandwidth: z.number().int().positive(),
  initBytes: z.number().int().positive(),
  initSha256: z.string().regex(/^[0-9a-f]{64}$/),
  segmentBytes: z.array(z.number().int().positive()),
  segmentSha256: z.array(z.string().regex(/^[0-9a-f]{64}$/)),
  /** partBytes[s][p]: size of part p of loop segment s; the segment file is its parts back to back. */
  partBytes: z.array(z.array(z.number().int().positive())),
  partDurations: z.array(z.array(z.number().positive())),
});
export type LlRendition = z.infer<typeof LlRendition>;

const LlManifest = z
  .object({
    segmentSeconds: z.number().positive(),
    partSeconds: z.number().positive(),
    loopSegments: z.number().int().positive(),
    renditions: z.array(LlRendition).min(2),
  })
  .refine((m) => Number.isInteger(m.segmentSeconds / m.partSeconds), { message: "a segment must be a whole number of parts" })
  .refine(
    (m) =>
      m.renditions.every(
        (r) =>
          [r.segmentBytes, r.segmentSha256, r.partBytes, r.partDurations].every((list) => list.length === m.loopSegments) &&
          r.partBytes.every((parts, s) => parts.length === m.segmentSeconds / m.partSeconds && parts.reduce((a, b) => a + b, 0) === r.segmentBytes[s]) &&
          r.partDurations.every((parts) => parts.length === m.segmentSeconds / m.partSeconds),
      ),
    { message: "every rendition must list, per loop segment, a size, a digest and one size and duration per part summing to the segment" },
  );

// Parsed once per isolate: a stale or hand-edited manifest fails at startup, not in the middle of a stream.
export const llMedia = LlManifest.parse(manifestJson);

export const LL_SEGMENT_MS = llMedia.segmentSeconds * 1000;
export const LL_PARTS_PER_SEGMENT = llMedia.segmentSeconds / llMedia.partSeconds;
/** Complete segments in an LL media playlist: 20 s, so a delta update (skip boundary 12 s) has segments to skip. */
export const LL_WINDOW_SEGMENTS = 10;
/** Discontinuities (one per loop wrap) are counted from the same on-air instant as the regular live stream's. */
export const LL_ON_AIR_MSN = Math.floor(ON_AIR_MS / LL_SEGMENT_MS);

export function findLlRendition(id: string): LlRendition | undefined {
  return llMedia.renditions.find((r) => r.id === id);
}

/** Path inside the assets directory of the file live segment `msn` of `r` plays. */
export function llSegmentPath(r: LlRendition, msn: number): string {
  return `/ll/${r.id}/seg-${msn % llMedia.loopSegments}.m4s`;
}

/** Byte span [start, end) of part `part` of live segment `msn` inside its segment file. */
export function llPartSpan(r: LlRendition, msn: number, part: number): { start: number; end: number } {
  const sizes = r.partBytes[msn % llMedia.loopSegments]!;
  const start = sizes.slice(0, part).reduce((a, b) => a + b, 0);
  return { start, end: start + sizes[part]! };
}
