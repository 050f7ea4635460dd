// An insertion-ordered list with O(1) append, unlink and front. JS Maps used as queues slow down
// when entries are deleted from the front (each first-entry lookup skips the deleted slots).

export interface Link<T> {
  readonly value: T;
  prev: Link<T> | null;
  next: Link<T> | null;
}

export class OrderedList<T> {
  private head: Link<T> | null = null;
  private tail: Link<T> | null = null;

  /** Appends `value` and returns its link, which `unlink` takes. */
  push(value: T): Link<T> {
    const link: Link<T> = { value, prev: this.tail, next: null };
    if (this.tail) this.tail.next = link;
    else this.head = link;
    this.tail = link;
    return link;
  }

  unlink(link: Link<T>): void {
    if (link.prev) link.prev.next = link.next;
    else if (this.head === link) this.head = link.next;
    else return; // already unlinked
    if (link.next) link.next.prev = link.prev;
    else this.tail = link.prev;
    link.prev = link.next = null;
  }

  first(): T | undefined {
    return this.head?.value;
  }
}
