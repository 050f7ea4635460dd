// Per-event directory of stadium nodes: which nodes serve the event and until when they count as
// healthy (pushed by each node's PullZone object), and which node each viewer session reported reaching.
import { DurableObject } from "cloudflare:workers";

/** A node as the event sees it. */
export interface DirectoryEntry {
  id: string;
  name: string;
  baseUrl: string;
  incarnation: string;
  healthyUntil: number;
  activeViewers: number;
  cacheHitRatio: number | null;
  /** The capacity the operator provisioned (bounded by the node's own), if any. */
  capacityMbps?: number | null;
  /** The node's egress rate in bits per second, smoothed over about 10 s. */
  egressBps?: number;
  /** Since when the node is full (≥ 90 % of its capacity): viewers who chose it from then on are kept on the edge. */
  fullSince?: number | null;
}

/** Whether a viewer who chose `node` at `chosenAt` is served by it: always, unless it chose a node already full. */
export function servesChoice(node: Pick<DirectoryEntry, "fullSince">, chosenAt: number): boolean {
  return node.fullSince === null || node.fullSince === undefined || chosenAt < node.fullSince;
}

/** A viewer session's report: the node it reached (null: none) and whether its player uses Content Steering. */
export interface SessionChoice {
  cacheId: string | null;
  steering: boolean;
}

/** A stored choice, with when the viewer first named this node (a repeated report keeps the time). */
export interface StoredChoice extends SessionChoice {
  chosenAt: number;
}

/** What the playback path needs for one viewer: the healthy nodes and the viewer's choice. */
export interface RouteView {
  nodes: DirectoryEntry[];
  choice: StoredChoice | null;
}

/** What a media-playlist reload of a player without steering needs, for every such viewer of the event. */
export interface LegacyView {
  nodes: DirectoryEntry[];
  /** sessionId → node id, only for sessions with steering off and a node named that serves them (not full when chosen). */
  legacy: Record<string, string>;
}

/** Choices are forgotten after this long without an update (a playback token lives at most 7 days). */
const CHOICE_MEMORY_MS = 7 * 86_400_000;

const SCHEMA = [
  "CREATE TABLE IF NOT EXISTS nodes (id TEXT PRIMARY KEY, v TEXT NOT NULL)",
  "CREATE TABLE IF NOT EXISTS choices (session_id TEXT PRIMARY KEY, cache_id TEXT, steering INTEGER NOT NULL, updated_at INTEGER NOT NULL)",
  "CREATE INDEX IF NOT EXISTS choices_legacy ON choices (steering) WHERE steering = 0",
];
/** Added after the first schema: objects created before it get the column, with 0 (chosen before any node was full). */
const MIGRATIONS = ["ALTER TABLE choices ADD COLUMN chosen_at INTEGER NOT NULL DEFAULT 0"];

export class PullZoneDirectory extends DurableObject<Env> {
  private readonly nodes = new Map<string, DirectoryEntry>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    for (const s of SCHEMA) sql.exec(s);
    const columns = sql.exec<{ name: string }>("PRAGMA table_info(choices)").toArray().map((c) => c.name);
    if (!columns.includes("chosen_at")) for (const m of MIGRATIONS) sql.exec(m);
    for (const row of sql.exec<{ v: string }>("SELECT v FROM nodes").toArray()) {
      const entry = JSON.parse(row.v) as DirectoryEntry;
      this.nodes.set(entry.id, entry);
    }
  }

  /** A node registered or heartbeat: records its address and how long it counts as healthy. */
  async upsert(entry: DirectoryEntry): Promise<void> {
    this.nodes.set(entry.id, entry);
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO nodes (id, v) VALUES (?, ?)", entry.id, JSON.stringify(entry));
  }

  async remove(nodeId: string): Promise<void> {
    this.nodes.delete(nodeId);
    this.ctx.storage.sql.exec("DELETE FROM nodes WHERE id = ?", nodeId);
  }

  /** The nodes whose heartbeats still arrive, in id order (full ones included: their viewers stay). */
  async healthy(now = Date.now()): Promise<DirectoryEntry[]> {
    return this.healthyAt(now);
  }

  /** Remembers the node a viewer reached (or none); the admission slot is not touched. */
  async choose(sessionId: string, choice: SessionChoice, now = Date.now()): Promise<SessionChoice> {
    const sql = this.ctx.storage.sql;
    // chosen_at moves only when the node changes: a viewer's app repeats its report, and must not lose its place.
    sql.exec(
      `INSERT INTO choices (session_id, cache_id, steering, updated_at, chosen_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (session_id) DO UPDATE SET cache_id = excluded.cache_id, steering = excluded.steering, updated_at = excluded.updated_at,
         chosen_at = CASE WHEN choices.cache_id IS excluded.cache_id THEN choices.chosen_at ELSE excluded.chosen_at END`,
      sessionId, choice.cacheId, choice.steering ? 1 : 0, now, now,
    );
    // Bounded: stale choices go a few at a time with each write, so no alarm is needed.
    sql.exec("DELETE FROM choices WHERE session_id IN (SELECT session_id FROM choices WHERE updated_at < ? LIMIT 50)", now - CHOICE_MEMORY_MS);
    return choice;
  }

  /** One viewer's route: the healthy nodes and its choice (one call per steering-manifest reload). */
  async route(sessionId: string, now = Date.now()): Promise<RouteView> {
    const row = this.ctx.storage.sql
      .exec<{ cacheId: string | null; steering: number; chosenAt: number }>("SELECT cache_id AS cacheId, steering, chosen_at AS chosenAt FROM choices WHERE session_id = ?", sessionId)
      .toArray()[0];
    return { nodes: this.healthyAt(now), choice: row ? { cacheId: row.cacheId, steering: row.steering === 1, chosenAt: row.chosenAt } : null };
  }

  /** Every viewer without steering that named a node: edges read this once a second, not per playlist. */
  async legacyView(now = Date.now()): Promise<LegacyView> {
    const nodes = this.healthyAt(now);
    const legacy: Record<string, string> = {};
    if (nodes.length > 0) {
      const byId = new Map(nodes.map((n) => [n.id, n]));
      const rows = this.ctx.storage.sql
        .exec<{ sessionId: string; cacheId: string; chosenAt: number }>("SELECT session_id AS sessionId, cache_id AS cacheId, chosen_at AS chosenAt FROM choices WHERE steering = 0 AND cache_id IS NOT NULL")
        .toArray();
      for (const r of rows) {
        const node = byId.get(r.cacheId);
        if (node && servesChoice(node, r.chosenAt)) legacy[r.sessionId] = r.cacheId;
      }
    }
    return { nodes, legacy };
  }

  private healthyAt(now: number): DirectoryEntry[] {
    return [...this.nodes.values()].filter((n) => n.healthyUntil > now).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}
