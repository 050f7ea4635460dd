// Deterministic filler bodies for the synthetic benchmark streams, built once per size and kept in memory.

/** Largest synthetic segment, so a typo in a benchmark URL cannot ask the isolate for gigabytes. */
export const MAX_SYNTHETIC_BYTES = 8 * 1024 * 1024;
// Bound on all cached bodies together; past it the oldest size is dropped and rebuilt when asked again.
const MAX_CACHED_BYTES = 64 * 1024 * 1024;

const TS_PACKET_BYTES = 188;
const cache = new Map<number, Uint8Array>();
let cachedBytes = 0;

/**
 * `size` bytes of MPEG-TS null packets (PID 0x1FFF), cut at `size`: a body a TS demuxer skips, with
 * the same bytes for the same size every time.
 */
export function fillerBytes(size: number): Uint8Array {
  const hit = cache.get(size);
  if (hit) return hit;
  const bytes = new Uint8Array(size);
  bytes.fill(0xff);
  for (let at = 0; at < size; at += TS_PACKET_BYTES) {
    bytes.set([0x47, 0x1f, 0xff, 0x10].slice(0, size - at), at);
  }
  for (const [oldSize, old] of cache) {
    if (cachedBytes + size <= MAX_CACHED_BYTES) break;
    cache.delete(oldSize);
    cachedBytes -= old.byteLength;
  }
  cache.set(size, bytes);
  cachedBytes += size;
  return bytes;
}
