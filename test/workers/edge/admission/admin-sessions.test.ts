// An event's sessions in the operator's console: listed per channel with their viewer (or anonymous), and
// ended by the operator exactly as DELETE /sessions/{id} ends them: slot free at once, playback refused.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { adminPut, api, edgeFetch, register, uniq, uniqAddress, warmUp, type ApiError } from "../accounts/support";

beforeAll(async () => {
  await warmUp();
}, 60_000);

interface Granted {
  status: "granted";
  sessionId: string;
  playbackUrl: string;
}
interface Listed {
  total: number;
  sessions: { id: string; channelId: string; viewer: { userId: string; login: string | null } | null; startedAt: string; playsOn: string | null }[];
}

const admin = (path: string, init: { method?: string } = {}) => api(`/admin${path}`, { ...init, bearer: env.ADMIN_TOKEN });

async function makeEvent(limits: Record<string, unknown> = {}): Promise<string> {
  const eventId = uniq("ev");
  await adminPut(`/events/${eventId}`, { title: "Sessions", limits });
  for (const ch of ["main", "second"]) await adminPut(`/events/${eventId}/channels/${ch}`, { title: ch, originUrl: "https://origin.example/live/index.m3u8", paid: false });
  return eventId;
}

async function grant(eventId: string, channelId: string, bearer?: string): Promise<Granted> {
  const res = await api(`/events/${eventId}/channels/${channelId}/access`, { method: "POST", json: {}, ip: uniqAddress(), ...(bearer ? { bearer } : {}) });
  expect(res.status).toBe(200);
  return (await res.json()) as Granted;
}

describe("listing an event's sessions", () => {
  it("lists each session with its channel, its viewer's login or anonymous, and when it started; a channel filter narrows it", async () => {
    const eventId = await makeEvent();
    const login = uniq("fan");
    const viewer = await register(login);
    const before = Date.now();
    const signedIn = await grant(eventId, "main", viewer.token);
    const anonymous = await grant(eventId, "second");

    const res = await admin(`/events/${eventId}/sessions`);
    expect(res.status).toBe(200);
    const all = (await res.json()) as Listed;
    expect(all.total).toBe(2);
    const mine = all.sessions.find((s) => s.id === signedIn.sessionId)!;
    expect(mine.channelId).toBe("main");
    expect(mine.viewer).toEqual({ userId: viewer.user.id, login });
    expect(Date.parse(mine.startedAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(all.sessions.find((s) => s.id === anonymous.sessionId)).toMatchObject({ channelId: "second", viewer: null });

    const second = (await (await admin(`/events/${eventId}/sessions?channelId=second`)).json()) as Listed;
    expect(second.sessions.map((s) => s.id)).toEqual([anonymous.sessionId]);
  });

  it("answers 404 for an unknown event and 400 for a bad filter", async () => {
    expect((await admin(`/events/${uniq("nope")}/sessions`)).status).toBe(404);
    const eventId = await makeEvent();
    const bad = await admin(`/events/${eventId}/sessions?limit=0`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ApiError).error.code).toBe("invalid_request");
  });
});

describe("ending a session from the console", () => {
  it("frees its slot at once, refuses its playback with 410 session_expired, and drops it from the list", async () => {
    const eventId = await makeEvent({ maxSessions: 1 });
    const first = await grant(eventId, "main");
    // The event is full: the next viewer waits.
    const ip = uniqAddress();
    const waiting = await api(`/events/${eventId}/channels/main/access`, { method: "POST", json: {}, ip });
    expect(waiting.status).toBe(202);
    const { ticket } = (await waiting.json()) as { ticket: string };

    const ended = await admin(`/events/${eventId}/sessions/${first.sessionId}`, { method: "DELETE" });
    expect(ended.status).toBe(204);

    const playback = await edgeFetch(`http://edge.test${first.playbackUrl}`);
    expect(playback.status).toBe(410);
    expect(((await playback.json()) as ApiError).error.code).toBe("session_expired");
    // The waiting viewer gets the freed slot.
    expect((await api(`/events/${eventId}/channels/main/access`, { method: "POST", json: { ticket }, ip })).status).toBe(200);
    const listed = (await (await admin(`/events/${eventId}/sessions`)).json()) as Listed;
    expect(listed.sessions.map((s) => s.id)).not.toContain(first.sessionId);
  });

  it("answers 404 for a session the event does not have, and 401 without the operator token", async () => {
    const eventId = await makeEvent();
    const s = await grant(eventId, "main");
    const missing = await admin(`/events/${eventId}/sessions/ses_${"0".repeat(32)}`, { method: "DELETE" });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as ApiError).error.code).toBe("not_found");
    const refused = await api(`/admin/events/${eventId}/sessions/${s.sessionId}`, { method: "DELETE", bearer: "wrong" });
    expect(refused.status).toBe(401);
    // Still playing: still listed.
    expect(((await (await admin(`/events/${eventId}/sessions`)).json()) as Listed).total).toBe(1);
  });
});
