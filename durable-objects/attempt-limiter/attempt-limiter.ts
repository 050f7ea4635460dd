// Counts attempts (logins, registrations) for one key (a login or a client address) in a sliding window. An
// attempt is counted the moment it starts, so parallel guesses cannot all pass the check before any of them
// has failed; a successful login is forgiven afterwards. One alarm sweeps expired attempts and empties an idle object.
import { DurableObject } from "cloudflare:workers";

export type AttemptDecision = { allowed: true; attemptId: number } | { allowed: false; retryAfterSeconds: number };

export class AttemptLimiter extends DurableObject<Env> {
  private schemaReady = false;

  /** Starts an attempt at `now` (ms) unless `limit` attempts are already counted within `windowMs`. */
  async attempt(now: number, limit: number, windowMs: number): Promise<AttemptDecision> {
    this.schema();
    this.deleteExpired(now);
    const { n, oldest } = this.ctx.storage.sql
      .exec<{ n: number; oldest: number | null }>("SELECT count(*) AS n, min(expires_at) AS oldest FROM attempts")
      .one();
    if (n >= limit) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(((oldest ?? now) - now) / 1000)) };
    const { id } = this.ctx.storage.sql
      .exec<{ id: number }>("INSERT INTO attempts (expires_at) VALUES (?) RETURNING id", now + windowMs)
      .one();
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(oldest ?? now + windowMs);
    return { allowed: true, attemptId: id };
  }

  /** Uncounts an attempt that succeeded, or that was never made because another key refused it. */
  async forgive(attemptId: number): Promise<void> {
    this.schema();
    this.ctx.storage.sql.exec("DELETE FROM attempts WHERE id = ?", attemptId);
  }

  /** How many attempts count against this key at `now`. */
  async count(now: number): Promise<number> {
    this.schema();
    this.deleteExpired(now);
    return this.ctx.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM attempts").one().n;
  }

  /** Drops expired attempts; re-arms the alarm while some remain, otherwise deletes the object's storage. */
  async sweep(now: number): Promise<void> {
    this.schema();
    this.deleteExpired(now);
    const { oldest } = this.ctx.storage.sql.exec<{ oldest: number | null }>("SELECT min(expires_at) AS oldest FROM attempts").one();
    if (oldest !== null) {
      await this.ctx.storage.setAlarm(oldest);
      return;
    }
    await this.ctx.storage.deleteAlarm();
    // An idle limiter keeps nothing: one object exists per login and address ever tried.
    await this.ctx.storage.deleteAll();
    this.schemaReady = false;
  }

  override async alarm(): Promise<void> {
    await this.sweep(Date.now());
  }

  private schema(): void {
    if (this.schemaReady) return;
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS attempts (id INTEGER PRIMARY KEY AUTOINCREMENT, expires_at INTEGER NOT NULL)");
    this.schemaReady = true;
  }

  private deleteExpired(now: number): void {
    this.ctx.storage.sql.exec("DELETE FROM attempts WHERE expires_at <= ?", now);
  }
}
