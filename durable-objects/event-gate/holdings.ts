// Who holds which sessions and queue tickets of an event, per signed-in viewer and per client address,
// oldest first: what the per-viewer and per-address limits of the admission model count.

/** A holder key: a signed-in viewer, or the client address of an anonymous one. */
export type Holder = `viewer:${string}` | `address:${string}`;

/** The holder a request counts against: the viewer when signed in, else its address (if known). */
export function holderOf(viewerId: string | undefined, address: string | undefined): Holder | null {
  if (viewerId !== undefined) return `viewer:${viewerId}`;
  if (address !== undefined) return `address:${address}`;
  return null;
}

export function isViewer(holder: Holder | null): holder is `viewer:${string}` {
  return holder !== null && holder.startsWith("viewer:");
}

interface Held<S, T> {
  sessions: Set<S>;
  tickets: Set<T>;
}

/**
 * Sessions and tickets by holder, each set in insertion order (grants and arrivals happen in clock
 * order, so the first entry is the oldest). A holder with nothing left is forgotten, so the index
 * grows with the event's live places only.
 */
export class Holdings<S extends { readonly holder: Holder | null }, T extends { readonly holder: Holder | null }> {
  private readonly byHolder = new Map<Holder, Held<S, T>>();

  addSession(s: S): void {
    if (s.holder !== null) this.entry(s.holder).sessions.add(s);
  }
  removeSession(s: S): void {
    if (s.holder !== null) this.drop(s.holder, (h) => h.sessions.delete(s));
  }
  addTicket(t: T): void {
    if (t.holder !== null) this.entry(t.holder).tickets.add(t);
  }
  removeTicket(t: T): void {
    if (t.holder !== null) this.drop(t.holder, (h) => h.tickets.delete(t));
  }

  /** The holder's sessions, oldest first. */
  sessions(holder: Holder): S[] {
    return [...(this.byHolder.get(holder)?.sessions ?? [])];
  }
  /** The holder's waiting tickets, oldest first. */
  tickets(holder: Holder): T[] {
    return [...(this.byHolder.get(holder)?.tickets ?? [])];
  }
  /** Sessions plus tickets the holder has. */
  places(holder: Holder): number {
    const h = this.byHolder.get(holder);
    return h ? h.sessions.size + h.tickets.size : 0;
  }

  private entry(holder: Holder): Held<S, T> {
    let h = this.byHolder.get(holder);
    if (!h) {
      h = { sessions: new Set(), tickets: new Set() };
      this.byHolder.set(holder, h);
    }
    return h;
  }

  private drop(holder: Holder, remove: (h: Held<S, T>) => void): void {
    const h = this.byHolder.get(holder);
    if (!h) return;
    remove(h);
    if (h.sessions.size === 0 && h.tickets.size === 0) this.byHolder.delete(holder);
  }
}
