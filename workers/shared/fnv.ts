// FNV-1a, 32 bits: a cheap, stable hash for spreading keys over a fixed number of owners (a node's processes,
// an event's admission shards). Not for anything an attacker must not steer.

/** FNV-1a over the UTF-16 code units of `text`, as an unsigned 32-bit integer. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
