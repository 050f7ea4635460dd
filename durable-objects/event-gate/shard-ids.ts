// Session ids and queue tickets of a sharded event name their shard (a ticket its arrival time too), so
// a poll, a release or an edge's report goes to the right shard without a lookup. No imports: callers load
// this before the edge's modules (workers/shared/ids.ts builds zod schemas that must come after zod-openapi).

const SESSION = /^ses_[0-9a-f]{32}\.(\d{1,2})$/;
const TICKET = /^tkt_[0-9a-f]{32}\.(\d{1,2})\.(\d{1,15})$/;

/** A session id granted by `shard`, from a random `ses_<hex>` id: `ses_<hex>.<shard>`. */
export function shardSessionId(randomSessionId: string, shard: number): string {
  return `${randomSessionId}.${shard}`;
}

/** A ticket issued by `shard`, from a random `tkt_<hex>` id, to a viewer that arrived at `arrivedAt` (ms): `tkt_<hex>.<shard>.<arrivedAt>`. */
export function shardTicket(randomTicket: string, shard: number, arrivedAt: number): string {
  return `${randomTicket}.${shard}.${Math.floor(arrivedAt)}`;
}

/** The shard a session id names, or null for a session of an unsharded event. */
export function sessionShard(sessionId: string): number | null {
  const m = SESSION.exec(sessionId);
  return m ? Number(m[1]) : null;
}

/** The shard and arrival time a ticket names, or null for a ticket of an unsharded event (or no ticket). */
export function ticketShard(ticket: string): { shard: number; arrivedAt: number } | null {
  const m = TICKET.exec(ticket);
  return m ? { shard: Number(m[1]), arrivedAt: Number(m[2]) } : null;
}
