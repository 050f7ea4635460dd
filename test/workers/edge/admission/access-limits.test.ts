// The hoarding limits through the real access route: events that require login, the per-viewer and
// per-address limits, and grants that end when their playback URL is not used within the claim period.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { api, edgeFetch, register, uniq, uniqAddress, warmUp, type ApiError } from "../accounts/support";

interface AccessAnswer {
  status: "granted" | "queued";
  sessionId?: string;
  ticket?: string;
  position?: number;
}

beforeAll(async () => {
  await warmUp();
}, 60_000);

/** A new event with one free channel `main`. */
async function makeEvent(fields: Record<string, unknown>): Promise<string> {
  const eventId = uniq("ev");
  const put = (path: string, body: unknown) =>
    edgeFetch(`http://edge.test/api/v1/admin${path}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const event = await put(`/events/${eventId}`, { title: "Limits", ...fields });
  expect(event.status).toBe(200);
  expect(await event.json()).toMatchObject(fields);
  expect((await put(`/events/${eventId}/channels/main`, { title: "Main", originUrl: "https://origin.example/live/index.m3u8", paid: false })).status).toBe(200);
  return eventId;
}

function access(eventId: string, options: { ip?: string; bearer?: string; ticket?: string } = {}): Promise<Response> {
  return api(`/events/${eventId}/channels/main/access`, {
    method: "POST",
    json: options.ticket ? { ticket: options.ticket } : {},
    ...(options.ip ? { ip: options.ip } : {}),
    ...(options.bearer ? { bearer: options.bearer } : {}),
  });
}

async function answer(res: Response, status: number): Promise<AccessAnswer> {
  expect(res.status).toBe(status);
  return (await res.json()) as AccessAnswer;
}

describe("requireLogin", () => {
  it("answers 401 unauthenticated on a free channel of an event that requires login, and grants it to a signed-in viewer", async () => {
    const eventId = await makeEvent({ requireLogin: true, limits: {} });
    const refused = await access(eventId);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as ApiError).error.code).toBe("unauthenticated");
    expect((await access(eventId, { bearer: "not-a-token" })).status).toBe(401);
    const { token } = await register(uniq("fan"));
    await answer(await access(eventId, { bearer: token }), 200);
  });
});

describe("maxSessionsPerViewer", () => {
  it("grants a signed-in viewer at its limit at once on a full event, ending its oldest session rather than taking a new slot", async () => {
    const eventId = await makeEvent({ limits: { maxSessions: 2, maxSessionsPerViewer: 2 } });
    const { token } = await register(uniq("switcher"));
    await answer(await access(eventId, { bearer: token }), 200);
    await answer(await access(eventId, { bearer: token }), 200);
    // A third device: the event is full, but the viewer gives up its oldest session for it.
    await answer(await access(eventId, { bearer: token }), 200);
    // Still two sessions in all: an anonymous viewer is queued.
    expect((await answer(await access(eventId, { ip: uniqAddress() }), 202)).position).toBe(1);
  });
});

describe("maxSessionsPerAddress", () => {
  it("gives an address at its limit its own ticket back instead of another place in the queue", async () => {
    const eventId = await makeEvent({ limits: { maxSessions: 0, maxSessionsPerAddress: 2 } });
    const ip = uniqAddress();
    const first = await answer(await access(eventId, { ip }), 202);
    expect((await answer(await access(eventId, { ip }), 202)).position).toBe(2);
    for (let i = 0; i < 3; i++) expect(await answer(await access(eventId, { ip }), 202)).toMatchObject({ ticket: first.ticket, position: 1 });
    expect((await answer(await access(eventId, { ip: uniqAddress() }), 202)).position).toBe(3);
  });

  it("refuses a third anonymous session from one address with 403 address_limit, but grants other addresses and signed-in viewers there", async () => {
    const eventId = await makeEvent({ limits: { maxSessions: 10, maxSessionsPerAddress: 2 } });
    const ip = uniqAddress();
    await answer(await access(eventId, { ip }), 200);
    await answer(await access(eventId, { ip }), 200);
    const refused = await access(eventId, { ip });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as ApiError & { error: { limit: number } }).error).toMatchObject({ code: "address_limit", limit: 2 });
    await answer(await access(eventId, { ip: uniqAddress() }), 200);
    const { token } = await register(uniq("neighbour"));
    await answer(await access(eventId, { ip, bearer: token }), 200);
  });
});

describe("the operator's view", () => {
  it("shows the limits an event runs with in its stats, defaults included", async () => {
    const eventId = await makeEvent({ limits: { maxSessions: 5, maxSessionsPerAddress: 3 } });
    const res = await edgeFetch(`http://edge.test/api/v1/admin/events/${eventId}/stats`, { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { limits: unknown }).limits).toEqual({ maxSessions: 5, maxSessionsPerAddress: 3, leaseSeconds: 60, claimSeconds: 30, maxSessionsPerViewer: 2 });
  });
});

describe("claimSeconds", () => {
  it("frees the slot of a grant whose playback URL is not used within claimSeconds, for the viewer first in the queue", async () => {
    const eventId = await makeEvent({ limits: { maxSessions: 1, claimSeconds: 10 } });
    await answer(await access(eventId, { ip: uniqAddress() }), 200);
    const ip = uniqAddress();
    const waiting = await answer(await access(eventId, { ip }), 202);
    // Poll as a queued viewer does (within Retry-After, 3 s at the head) until past the claim period.
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 2_500));
      await answer(await access(eventId, { ip, ticket: waiting.ticket }), 202);
    }
    await new Promise((r) => setTimeout(r, 3_500));
    await answer(await access(eventId, { ip, ticket: waiting.ticket }), 200);
  }, 30_000);
});
