// Login normal form and the password hash: one account per login whatever its case or Unicode form.
import { describe, expect, it } from "vitest";
import { CredentialsSchema, loginKey } from "../../../../workers/edge/accounts/credentials";
import { hashPassword, PBKDF2_ITERATIONS, verifyPassword } from "../../../../workers/edge/accounts/password";

describe("loginKey", () => {
  it("maps case, full-width and decomposed forms of one login to one key", () => {
    expect(loginKey("FDPD6")).toBe("fdpd6");
    expect(loginKey("ｆｄｐｄ６")).toBe("fdpd6");
    expect(loginKey("Zoe\u0308")).toBe(loginKey("ZOË"));
    expect(loginKey("ǅemal")).toBe(loginKey("džemal"));
  });
});

describe("CredentialsSchema", () => {
  it("accepts the prototype's fdpd6 / 123456", () => {
    expect(CredentialsSchema.safeParse({ login: "fdpd6", password: "123456" }).success).toBe(true);
  });

  it("refuses a password under six characters and one over 256", () => {
    expect(CredentialsSchema.safeParse({ login: "fdpd6", password: "12345" }).success).toBe(false);
    expect(CredentialsSchema.safeParse({ login: "fdpd6", password: "x".repeat(257) }).success).toBe(false);
  });
});

describe("password hashes", () => {
  it("use PBKDF2-SHA256 with 100,000 iterations and a fresh salt each time", async () => {
    const [a, b] = await Promise.all([hashPassword("123456"), hashPassword("123456")]);
    expect(a).toMatchObject({ alg: "pbkdf2-sha256", iterations: PBKDF2_ITERATIONS });
    expect(PBKDF2_ITERATIONS).toBe(100_000);
    expect(a.salt).not.toBe(b.salt);
    expect(a.hash).not.toBe(b.hash);
  });

  it("verify the right password only, and never verify against a missing account", async () => {
    const h = await hashPassword("correct horse");
    expect(await verifyPassword("correct horse", h)).toBe(true);
    expect(await verifyPassword("correct horsE", h)).toBe(false);
    expect(await verifyPassword("correct horse", null)).toBe(false);
    expect(await verifyPassword("anything", { ...h, salt: "!!" })).toBe(false);
  });
});
