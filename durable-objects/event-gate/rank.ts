// Queue positions in O(log n): a Fenwick tree that counts live tickets by their sequence number.

/**
 * Counts live sequence numbers at or below a given one. Sequence numbers are handed out in
 * increasing order and only ever removed, so a ticket's rank (its queue position) can only fall.
 */
export class RankIndex {
  private base = 0;
  private tree = new Int32Array(1025);
  private live = 0;

  /** `liveSeqs` lists the sequence numbers currently held, used to rebuild when the range outgrows the tree. */
  constructor(private readonly liveSeqs: () => Iterable<number>) {}

  get size(): number {
    return this.live;
  }

  /** Adds `seq`, which must be greater than every sequence number added before it. */
  add(seq: number): void {
    if (seq < this.base) throw new RangeError(`sequence ${seq} is below the index base ${this.base}`);
    if (seq - this.base + 1 >= this.tree.length) this.rebuild(seq);
    this.bump(seq - this.base + 1, 1);
    this.live++;
  }

  remove(seq: number): void {
    this.bump(seq - this.base + 1, -1);
    this.live--;
  }

  /** How many live sequence numbers are at or below `seq`. */
  rank(seq: number): number {
    let i = Math.min(seq - this.base + 1, this.tree.length - 1);
    let sum = 0;
    for (; i > 0; i -= i & -i) sum += this.tree[i]!;
    return sum;
  }

  clear(): void {
    this.base = 0;
    this.tree = new Int32Array(1025);
    this.live = 0;
  }

  private bump(i: number, delta: number): void {
    for (; i < this.tree.length; i += i & -i) this.tree[i]! += delta;
  }

  /** Re-bases the tree at the oldest live ticket, sized for twice the live range plus `incoming`. */
  private rebuild(incoming: number): void {
    const seqs = [...this.liveSeqs()];
    const base = seqs.reduce((a, b) => Math.min(a, b), incoming);
    let cap = 1024;
    while (cap < 2 * (incoming - base + 1)) cap *= 2;
    const tree = new Int32Array(cap + 1);
    for (const s of seqs) tree[s - base + 1]! += 1;
    for (let i = 1; i <= cap; i++) {
      const j = i + (i & -i);
      if (j <= cap) tree[j]! += tree[i]!;
    }
    this.base = base;
    this.tree = tree;
  }
}
