// The EventGate's SQLite tables: the schema (with the columns added since the first version), reading the
// admission model's persisted state, and writing what one call changed.
import type { AdmissionModel, Changes, EndedRecord, Holder, MetaRecord, PersistedState, SessionRecord, TicketRecord } from "./model";

const SCHEMA = [
  "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)",
  "CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, channel_id TEXT NOT NULL, ticket TEXT, granted_at INTEGER NOT NULL, last_seen INTEGER NOT NULL, max_bandwidth INTEGER, cost_bps REAL NOT NULL)",
  "CREATE TABLE IF NOT EXISTS ended (id TEXT PRIMARY KEY, ended_at INTEGER NOT NULL)",
  "CREATE TABLE IF NOT EXISTS tickets (ticket TEXT PRIMARY KEY, seq INTEGER NOT NULL, channel_id TEXT NOT NULL, retry_after_seconds INTEGER NOT NULL)",
];

/** Columns added later, with the value rows written before them take: sessions stored then count as claimed. */
const ADDED_COLUMNS: { table: string; column: string; definition: string }[] = [
  { table: "sessions", column: "holder", definition: "TEXT" },
  { table: "sessions", column: "claimed", definition: "INTEGER NOT NULL DEFAULT 1" },
  { table: "tickets", column: "holder", definition: "TEXT" },
];

/** Creates the tables, adds missing columns, and reads everything the model restores from, plus the report counters. */
export function loadState(sql: SqlStorage): { state: PersistedState; reportCalls: { edge: number; node: number } } {
  for (const statement of SCHEMA) sql.exec(statement);
  for (const { table, column, definition } of ADDED_COLUMNS) {
    const present = sql.exec<{ name: string }>(`PRAGMA table_info(${table})`).toArray().some((c) => c.name === column);
    if (!present) sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
  }
  const meta = sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'state'").toArray()[0];
  const calls = sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'report_calls'").toArray()[0];
  const saved = calls ? (JSON.parse(calls.v) as Partial<{ edge: number; node: number }>) : {};
  const sessions = sql
    .exec<{ id: string; channelId: string; ticket: string | null; grantedAt: number; lastSeen: number; maxBandwidth: number | null; costBps: number; holder: string | null; claimed: number }>(
      "SELECT id, channel_id AS channelId, ticket, granted_at AS grantedAt, last_seen AS lastSeen, max_bandwidth AS maxBandwidth, cost_bps AS costBps, holder, claimed FROM sessions",
    )
    .toArray()
    .map((r): SessionRecord => ({ ...r, holder: r.holder as Holder | null, claimed: r.claimed !== 0 }));
  const ended = sql.exec<{ id: string; endedAt: number }>("SELECT id, ended_at AS endedAt FROM ended").toArray() satisfies EndedRecord[];
  const tickets = sql
    .exec<{ ticket: string; seq: number; channelId: string; retryAfterSeconds: number; holder: string | null }>(
      "SELECT ticket, seq, channel_id AS channelId, retry_after_seconds AS retryAfterSeconds, holder FROM tickets",
    )
    .toArray()
    .map((r): TicketRecord => ({ ...r, holder: r.holder as Holder | null }));
  return {
    state: { meta: meta ? (JSON.parse(meta.v) as MetaRecord) : undefined, sessions, ended, tickets },
    reportCalls: { edge: saved.edge ?? 0, node: saved.node ?? 0 },
  };
}

/** Writes the sessions, tickets and meta that `changes` names, as the model now has them (call inside a transaction). */
export function writeChanges(sql: SqlStorage, model: AdmissionModel, changes: Changes): void {
  for (const id of changes.sessions) {
    const record = model.sessionRecord(id);
    if (record && "active" in record) {
      const s = record.active;
      sql.exec(
        "INSERT OR REPLACE INTO sessions (id, channel_id, ticket, granted_at, last_seen, max_bandwidth, cost_bps, holder, claimed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        s.id, s.channelId, s.ticket, s.grantedAt, s.lastSeen, s.maxBandwidth, s.costBps, s.holder, s.claimed ? 1 : 0,
      );
      continue;
    }
    sql.exec("DELETE FROM sessions WHERE id = ?", id);
    if (record) sql.exec("INSERT OR REPLACE INTO ended (id, ended_at) VALUES (?, ?)", id, record.ended.endedAt);
    else sql.exec("DELETE FROM ended WHERE id = ?", id);
  }
  for (const ticket of changes.tickets) {
    const t = model.ticketRecord(ticket);
    if (t) {
      sql.exec(
        "INSERT OR REPLACE INTO tickets (ticket, seq, channel_id, retry_after_seconds, holder) VALUES (?, ?, ?, ?, ?)",
        t.ticket, t.seq, t.channelId, t.retryAfterSeconds, t.holder,
      );
    } else sql.exec("DELETE FROM tickets WHERE ticket = ?", ticket);
  }
  if (changes.meta) sql.exec("INSERT OR REPLACE INTO meta (k, v) VALUES ('state', ?)", JSON.stringify(model.metaRecord()));
}
