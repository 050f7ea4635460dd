// LoginRegistry: one owner per normalised login, and the KV copy that logins read.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Account } from "../../../workers/shared/accounts/records";

function account(loginKey: string, id: string): Account {
  return {
    id,
    login: loginKey,
    loginKey,
    password: { alg: "pbkdf2-sha256", iterations: 100_000, salt: "c2FsdHNhbHRzYWx0c2FsdA", hash: `hash-of-${id}` },
    createdAt: new Date(0).toISOString(),
  };
}

describe("LoginRegistry", () => {
  it("gives a login to exactly one of many simultaneous claims", async () => {
    const key = `race-${crypto.randomUUID()}`;
    const stub = env.LOGIN_REGISTRY.get(env.LOGIN_REGISTRY.idFromName(key));
    const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => stub.claim(account(key, `usr_${i}`))));
    expect(outcomes.filter((o) => o.created)).toHaveLength(1);
    const winner = await stub.lookup();
    expect(winner).not.toBeNull();
    expect(await env.ACCOUNTS.get(`user:${key}`, "json")).toEqual(winner);
  });

  it("writes the KV copy again when a lookup finds it missing", async () => {
    const key = `repair-${crypto.randomUUID()}`;
    const stub = env.LOGIN_REGISTRY.get(env.LOGIN_REGISTRY.idFromName(key));
    await stub.claim(account(key, "usr_1"));
    await env.ACCOUNTS.delete(`user:${key}`);
    expect(await stub.lookup()).toMatchObject({ id: "usr_1" });
    expect(await env.ACCOUNTS.get(`user:${key}`, "json")).toMatchObject({ id: "usr_1" });
  });

  it("answers null for a login nobody has, and stores nothing for the question", async () => {
    const stub = env.LOGIN_REGISTRY.get(env.LOGIN_REGISTRY.idFromName(`free-${crypto.randomUUID()}`));
    expect(await stub.lookup()).toBeNull();
    const tables = await runInDurableObject(stub, (_, state) => state.storage.sql.exec("SELECT name FROM sqlite_master").toArray());
    expect(tables).toEqual([]);
  });
});
