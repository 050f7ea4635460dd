// Per-login registry: one object per normalised login decides who gets it. KV cannot compare-and-set, so two
// racing registrations meet here, one wins and the other hears "taken". Holds the account as the source
// of truth and writes the KV copy that logins read.
import { DurableObject } from "cloudflare:workers";
import { accountKeys, AccountSchema, type Account } from "../../workers/shared/accounts/records";

export type ClaimOutcome = { created: true } | { created: false };

export class LoginRegistry extends DurableObject<Env> {
  /** Gives the login to `account` unless someone already has it. */
  async claim(account: Account): Promise<ClaimOutcome> {
    // The read and the insert run with no await between them, so no other call can slip in.
    if (this.read()) return { created: false };
    // One row at most: the account that owns this login. Created here, not in the constructor, so that
    // looking up logins nobody registered (a guesser's favourite) leaves no storage behind.
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS account (slot INTEGER PRIMARY KEY CHECK (slot = 1), record TEXT NOT NULL)");
    this.ctx.storage.sql.exec("INSERT INTO account (slot, record) VALUES (1, ?)", JSON.stringify(account));
    await this.mirror(account);
    return { created: true };
  }

  /** The account that owns this login, or null. Also repairs a missing KV copy. */
  async lookup(): Promise<Account | null> {
    const account = this.read();
    if (account) await this.mirror(account);
    return account;
  }

  private read(): Account | null {
    const table = this.ctx.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'account'").toArray();
    if (table.length === 0) return null;
    const row = this.ctx.storage.sql.exec<{ record: string }>("SELECT record FROM account WHERE slot = 1").toArray()[0];
    if (!row) return null;
    return AccountSchema.parse(JSON.parse(row.record));
  }

  private async mirror(account: Account): Promise<void> {
    try {
      await this.env.ACCOUNTS.put(accountKeys.user(account.loginKey), JSON.stringify(account));
    } catch (err) {
      // The account is already stored here; logins fall back to `lookup`, which writes the copy again.
      console.error("could not write the account's KV copy", err);
    }
  }
}
