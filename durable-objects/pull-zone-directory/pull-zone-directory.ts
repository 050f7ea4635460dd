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
}

/** A viewer session's report: the node it reached (null: none) and whether its player uses Content Steering. */
export interface SessionChoice {
  cacheId: string | null;
  steering: boolean;
}

/** What the playback path needs for one viewer: the healthy nodes and the viewer's choice. */
export interface RouteView {
  nodes: DirectoryEntry[];
  choice: SessionChoice | null;
}

/** What a media-playlist reload of a player without steering needs, for every such viewer of the event. */
export interface LegacyView {
  nodes: DirectoryEntry[];
  /** sessionId → node id, only for sessions with steering off and a node named. */
  legacy: Record<string, string>;
}

/** Choices are forgotten after this long without an update (a playback token lives at most 7 days). */
const CHOICE_MEMORY_MS = 7 * 86_400_000;

const SCHEMA = [
  "CREATE TABLE IF NOT EXISTS nodes (id TEXT PRIMARY KEY, v TEXT NOT NULL)",
  "CREATE TABLE IF NOT EXISTS choices (session_id TEXT PRIMARY KEY, cache_id TEXT, steering INTEGER NOT NULL, updated_at INTEGER NOT NULL)",
  "CREATE INDEX IF NOT EXISTS choices_legacy ON choices (steering) WHERE steering = 0",
];

export class PullZoneDirectory extends DurableObject<Env> {
  private readonly nodes = new Map<string, DirectoryEntry>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    for (const s of SCHEMA) sql.exec(s);
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

  /** The nodes whose heartbeats still arrive, in id order. */
  async healthy(now = Date.now()): Promise<DirectoryEntry[]> {
    return this.healthyAt(now);
  }

  /** Remembers the node a viewer reached (or none); the admission slot is not touched. */
  async choose(sessionId: string, choice: SessionChoice, now = Date.now()): Promise<SessionChoice> {
    const sql = this.ctx.storage.sql;
    sql.exec(
      "INSERT OR REPLACE INTO choices (session_id, cache_id, steering, updated_at) VALUES (?, ?, ?, ?)",
      sessionId, choice.cacheId, choice.steering ? 1 : 0, now,
    );
    // Bounded: stale choices go a few at a time with each write, so no alarm is needed.
    sql.exec("DELETE FROM choices WHERE session_id IN (SELECT session_id FROM choices WHERE updated_at < ? LIMIT 50)", now - CHOICE_MEMORY_MS);
    return choice;
  }

  /** One viewer's route: the healthy nodes and its choice (one call per steering-manifest reload). */
  async route(sessionId: string, now = Date.now()): Promise<RouteView> {
    const row = this.ctx.storage.sql
      .exec<{ cacheId: string | null; steering: number }>("SELECT cache_id AS cacheId, steering FROM choices WHERE session_id = ?", sessionId)
      .toArray()[0];
    return { nodes: this.healthyAt(now), choice: row ? { cacheId: row.cacheId, steering: row.steering === 1 } : null };
  }

  /** Every viewer without steering that named a node: edges read this once a second, not per playlist. */
  async legacyView(now = Date.now()): Promise<LegacyView> {
    const nodes = this.healthyAt(now);
    const legacy: Record<string, string> = {};
    if (nodes.length > 0) {
      const rows = this.ctx.storage.sql
        .exec<{ sessionId: string; cacheId: string }>("SELECT session_id AS sessionId, cache_id AS cacheId FROM choices WHERE steering = 0 AND cache_id IS NOT NULL")
        .toArray();
      for (const r of rows) legacy[r.sessionId] = r.cacheId;
    }
    return { nodes, legacy };
  }

  private healthyAt(now: number): DirectoryEntry[] {
    return [...this.nodes.values()].filter((n) => n.healthyUntil > now).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}
