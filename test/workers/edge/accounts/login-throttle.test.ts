// Login brute force: 5 failed attempts per login or per client address within 5 minutes, then 429 with Retry-After.
import { beforeAll, describe, expect, it } from "vitest";
import { expectTooManyAttempts, login, register, uniq, uniqAddress, warmUp, type ApiError } from "./support";

beforeAll(warmUp, 60_000);

const expectTooMany = (res: Response) => expectTooManyAttempts(res, 300);

describe("per login", () => {
  it("answers the sixth wrong password within the window with 429 too_many_attempts and Retry-After", async () => {
    const name = uniq("victim");
    await register(name, "correct-horse");
    for (let i = 0; i < 5; i++) expect((await login(name, `guess-${i}`, uniqAddress())).status).toBe(401);
    await expectTooMany(await login(name, "guess-6", uniqAddress()));
  });

  it("refuses even the right password while the login is throttled", async () => {
    const name = uniq("locked");
    await register(name, "correct-horse");
    for (let i = 0; i < 5; i++) await login(name, `guess-${i}`, uniqAddress());
    await expectTooMany(await login(name, "correct-horse", uniqAddress()));
  });

  it("lets exactly five of ten parallel wrong passwords be checked and answers the rest with 429", async () => {
    const name = uniq("parallel");
    await register(name, "correct-horse");
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => login(name, `guess-${i}`, uniqAddress())));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429, 429, 429]);
    await expectTooMany(await login(name, "guess-11", uniqAddress()));
  });

  it("answers wrong passwords shorter than six characters with 401 invalid_credentials and counts them", async () => {
    const name = uniq("short");
    await register(name, "correct-horse");
    for (const guess of ["", "1", "12", "123", "1234"]) {
      const res = await login(name, guess, uniqAddress());
      expect(res.status, JSON.stringify(guess)).toBe(401);
      expect(((await res.json()) as ApiError).error.code).toBe("invalid_credentials");
    }
    await expectTooMany(await login(name, "12345", uniqAddress()));
  });

  it("does not count successful logins against the limit", async () => {
    const name = uniq("regular");
    await register(name, "correct-horse");
    for (let i = 0; i < 8; i++) expect((await login(name, "correct-horse", uniqAddress())).status).toBe(200);
  });

  it("throttles a login written in another case or width as the same login", async () => {
    const name = uniq("casey");
    await register(name, "correct-horse");
    for (let i = 0; i < 5; i++) await login(i % 2 ? name.toUpperCase() : name, `guess-${i}`, uniqAddress());
    await expectTooMany(await login(name.toUpperCase(), "guess-6", uniqAddress()));
  });
});

describe("per client address", () => {
  it("answers the sixth failure from one address with 429, whichever logins were tried", async () => {
    const ip = uniqAddress();
    for (let i = 0; i < 5; i++) expect((await login(uniq("spray"), "123456", ip)).status).toBe(401);
    await expectTooMany(await login(uniq("spray"), "123456", ip));
  });

  it("answers logins that no registration accepts with 401 invalid_credentials and counts them", async () => {
    const ip = uniqAddress();
    for (const bad of ["ab", "with space", "x".repeat(65), "zero\u200bwidth", ""]) {
      const res = await login(bad, "123456", ip);
      expect(res.status, JSON.stringify(bad)).toBe(401);
      expect(((await res.json()) as ApiError).error.code).toBe("invalid_credentials");
    }
    await expectTooMany(await login(uniq("spray"), "123456", ip));
  });

  it("holds under parallel attempts from one address", async () => {
    const ip = uniqAddress();
    const results = await Promise.all(Array.from({ length: 12 }, () => login(uniq("spray"), "123456", ip)));
    expect(results.filter((r) => r.status === 401)).toHaveLength(5);
    expect(results.filter((r) => r.status === 429)).toHaveLength(7);
  });

  it("leaves the throttled address's victim free to log in from elsewhere", async () => {
    const ip = uniqAddress();
    const name = uniq("bystander");
    await register(name, "correct-horse");
    for (let i = 0; i < 5; i++) await login(uniq("spray"), "123456", ip);
    await expectTooMany(await login(name, "correct-horse", ip));
    expect((await login(name, "correct-horse", uniqAddress())).status).toBe(200);
  });

  it("counts all addresses of one IPv6 /64 as one client", async () => {
    const prefix = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:${Math.floor(Math.random() * 0xffff).toString(16)}`;
    for (let i = 1; i <= 5; i++) expect((await login(uniq("v6"), "123456", `${prefix}::${i}`)).status).toBe(401);
    await expectTooMany(await login(uniq("v6"), "123456", `${prefix}:1:2:3:4`));
  });

  it("does not spend the login's allowance when the address refuses the attempt", async () => {
    const ip = uniqAddress();
    const name = uniq("spared");
    await register(name, "correct-horse");
    for (let i = 0; i < 5; i++) await login(uniq("spray"), "123456", ip);
    for (let i = 0; i < 3; i++) await expectTooMany(await login(name, "wrong-pw", ip));
    // Those three never reached the password check, so the login still has all five attempts elsewhere.
    for (let i = 0; i < 4; i++) expect((await login(name, "wrong-pw", uniqAddress())).status).toBe(401);
    expect((await login(name, "correct-horse", uniqAddress())).status).toBe(200);
  });
});
