// Which viewing sessions are over, as one serving tier (edge isolate, stadium node) learned it: their
// next playlist request gets 410 session_expired without asking the event's gate.

/** How long an ended session is remembered (its token may still be presented meanwhile). */
const ENDED_MEMORY_MS = 12 * 3600_000;
const MAX_ENDED = 100_000;

/** A bounded memory of ended session ids. */
export class EndedSessions {
  private readonly ended = new Map<string, number>();

  /** True if the session was marked ended within the memory window. */
  has(sessionId: string, now: number): boolean {
    const at = this.ended.get(sessionId);
    if (at === undefined) return false;
    if (now - at > ENDED_MEMORY_MS) {
      this.ended.delete(sessionId);
      return false;
    }
    return true;
  }

  mark(sessionId: string, now: number): void {
    if (this.ended.size >= MAX_ENDED) this.ended.clear();
    this.ended.set(sessionId, now);
  }
}
