// A byte-bounded LRU with per-entry expiry: the in-memory window of segments and playlists.

export interface Sized {
  readonly size: number;
}

/** Keeps at most `maxBytes` of entries; least recently used go first, expired ones are never returned. */
export class ByteLru<V extends Sized> {
  private readonly map = new Map<string, { value: V; expiresAt: number }>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(key: string, now: number): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= now) {
      this.delete(key);
      return undefined;
    }
    // Re-insert to mark as most recently used (Map keeps insertion order).
    this.map.delete(key);
    this.map.set(key, e);
    return e.value;
  }

  set(key: string, value: V, expiresAt: number): void {
    if (value.size > this.maxBytes) return;
    this.delete(key);
    this.map.set(key, { value, expiresAt });
    this.bytes += value.size;
    while (this.bytes > this.maxBytes) {
      const oldest = this.map.keys().next().value as string;
      this.delete(oldest);
    }
  }

  delete(key: string): void {
    const e = this.map.get(key);
    if (!e) return;
    this.map.delete(key);
    this.bytes -= e.value.size;
  }

  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  get count(): number {
    return this.map.size;
  }
}
