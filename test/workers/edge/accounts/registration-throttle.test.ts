// Registration throttling: 30 registrations per client address within 10 minutes, then 429 with Retry-After.
import { beforeAll, describe, expect, it } from "vitest";
import { api, expectTooManyAttempts, register, uniq, uniqAddress, warmUp } from "./support";

beforeAll(warmUp, 60_000);

const LIMIT = 30;

function registerFrom(ip: string, login = uniq("crowd")): Promise<Response> {
  return api("/auth/register", { method: "POST", json: { login, password: "123456" }, ip });
}

const expectTooMany = (res: Response) => expectTooManyAttempts(res, 600);

describe("registration per client address", () => {
  it("answers the 31st registration from one address within 10 minutes with 429 too_many_attempts and Retry-After", async () => {
    const ip = uniqAddress();
    const statuses = await Promise.all(Array.from({ length: LIMIT }, () => registerFrom(ip).then((r) => r.status)));
    expect(statuses).toEqual(Array<number>(LIMIT).fill(201));
    await expectTooMany(await registerFrom(ip));
  });

  it("counts registrations of taken logins too", async () => {
    const ip = uniqAddress();
    const taken = uniq("taken");
    await register(taken);
    for (let i = 0; i < LIMIT; i++) expect((await registerFrom(ip, taken)).status).toBe(409);
    await expectTooMany(await registerFrom(ip));
  });

  it("leaves other addresses free to register while one is throttled", async () => {
    const ip = uniqAddress();
    const taken = uniq("taken");
    await register(taken);
    for (let i = 0; i < LIMIT; i++) await registerFrom(ip, taken);
    await expectTooMany(await registerFrom(ip));
    expect((await registerFrom(uniqAddress())).status).toBe(201);
  });
});
