// Drill (issue 14 e): an event's EventGate restarted mid-event. The edge's workerd process is stopped and
// started again on the same port and storage, so the gate keeps only what it stored: a full event's
// granted viewers keep playing and renewing past their lease, queued viewers keep their tickets and
// positions, and a release admits the first in line.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminPut, startRestartablePlatform, type Platform } from "../support/platform";

let p: Platform;
beforeAll(async () => {
  p = await startRestartablePlatform();
});
afterAll(async () => {
  await p?.stop();
});

const EVENT = "gate-drill";
const MAX_SESSIONS = 3;
const QUEUED = 5;
// A short lease, so the viewers below play for longer than a lease after the restart: only renewals
// that reach the restarted gate keep them playing.
const LEASE_SECONDS = 10;
// The lease plus the report allowance (durable-objects/event-gate/model.ts: at least 5 s).
const LEASE_END_MS = LEASE_SECONDS * 1000 + 5_000;

interface Answer {
  status: number;
  body: { sessionId?: string; playbackUrl?: string; ticket?: string; position?: number };
}

async function access(body: Record<string, unknown> = {}): Promise<Answer> {
  const res = await fetch(`${p.edgeUrl}/api/v1/events/${EVENT}/channels/main/access`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Answer["body"] };
}

/** One reload of a granted viewer's media playlist, as a player does every target duration. */
async function reload(grant: Answer): Promise<number> {
  const res = await fetch(p.edgeUrl + grant.body.playbackUrl!.replace(/index\.m3u8$/, "ts-360p/index.m3u8"));
  await res.arrayBuffer();
  return res.status;
}

async function stats(): Promise<{ activeSessions: number; queued: number }> {
  const res = await fetch(`${p.edgeUrl}/api/v1/admin/events/${EVENT}/stats`, { headers: { authorization: `Bearer ${p.adminToken}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as { activeSessions: number; queued: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("drill: the event's gate restarted mid-event", () => {
  it("keeps granted viewers playing past their lease, queued viewers in their places, and admits the first in line at a release", async () => {
    expect((await adminPut(p, `/admin/events/${EVENT}`, { title: EVENT, limits: { maxSessions: MAX_SESSIONS, leaseSeconds: LEASE_SECONDS } })).status).toBe(200);
    expect((await adminPut(p, `/admin/events/${EVENT}/channels/main`, { title: "main", originUrl: `${p.originUrl}/live/${EVENT}/index.m3u8`, paid: false })).status).toBe(200);

    // A full event: three viewers playing, five waiting in line.
    const granted: Answer[] = [];
    for (let i = 0; i < MAX_SESSIONS; i++) granted.push(await access());
    expect(granted.map((g) => g.status)).toEqual(Array(MAX_SESSIONS).fill(200));
    const queued: Answer[] = [];
    for (let i = 0; i < QUEUED; i++) queued.push(await access());
    expect(queued.map((q) => q.status)).toEqual(Array(QUEUED).fill(202));
    expect(queued.map((q) => q.body.position)).toEqual([1, 2, 3, 4, 5]);
    // The granted viewers play long enough for the edge's report to tell the gate they claimed their grants.
    for (let round = 0; round < 2; round++) {
      expect(await Promise.all(granted.map(reload))).toEqual(Array(MAX_SESSIONS).fill(200));
      await sleep(1_500);
    }
    expect(await stats()).toMatchObject({ activeSessions: MAX_SESSIONS, queued: QUEUED });

    const stopped = Date.now();
    await p.restartEdge();
    const restartMs = Date.now() - stopped;

    // The operator sees the same event; a newcomer finds it full and joins at the back.
    expect(await stats()).toMatchObject({ activeSessions: MAX_SESSIONS, queued: QUEUED });
    const late = await access();
    expect(late.status).toBe(202);
    expect(late.body.position).toBe(QUEUED + 1);
    const line = [...queued, late];

    // For longer than a lease, the granted viewers reload every 2 s and the queued ones poll with their
    // tickets (last in line first, so a position cannot come from the order of polls).
    const playedFrom = Date.now();
    const reloads: number[] = [];
    const polls: { status: number; ticket?: string; position?: number }[][] = [];
    while (Date.now() - playedFrom < LEASE_END_MS + 3_000) {
      reloads.push(...(await Promise.all(granted.map(reload))));
      const round: { status: number; ticket?: string; position?: number }[] = [];
      for (const q of [...line].reverse()) {
        const a = await access({ ticket: q.body.ticket });
        round.unshift({ status: a.status, ticket: a.body.ticket, position: a.body.position });
      }
      polls.push(round);
      await sleep(2_000);
    }
    const playedMs = Date.now() - playedFrom;
    expect(reloads.every((s) => s === 200), `reload statuses after the restart: ${reloads.join(",")}`).toBe(true);
    for (const round of polls) {
      expect(round).toEqual(line.map((q, i) => ({ status: 202, ticket: q.body.ticket, position: i + 1 })));
    }
    expect(await stats()).toMatchObject({ activeSessions: MAX_SESSIONS, queued: QUEUED + 1 });

    // One viewer leaves. Its slot goes to the first in line, not to whoever polls first.
    const leaving = granted[0]!;
    const released = await fetch(`${p.edgeUrl}/api/v1/sessions/${leaving.body.sessionId}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${leaving.body.playbackUrl!.split("/")[2]}` },
    });
    expect(released.status).toBe(204);
    expect(await reload(leaving)).toBe(410);
    const second = await access({ ticket: line[1]!.body.ticket });
    expect([second.status, second.body.position]).toEqual([202, 2]);
    const first = await access({ ticket: line[0]!.body.ticket });
    expect(first.status).toBe(200);
    expect(await reload(first)).toBe(200);
    const after = await Promise.all(line.slice(1).map((q) => access({ ticket: q.body.ticket })));
    expect(after.map((a) => [a.status, a.body.position])).toEqual([[202, 1], [202, 2], [202, 3], [202, 4], [202, 5]]);

    console.log(
      `drill e (EventGate restart): edge process restarted in ${restartMs} ms; before and after it ${MAX_SESSIONS} sessions active and ` +
        `${QUEUED} queued at positions 1–${QUEUED}; the ${MAX_SESSIONS} granted viewers then played ${(playedMs / 1000).toFixed(1)} s ` +
        `(lease ${LEASE_SECONDS} s + 5 s allowance) with ${reloads.length}/${reloads.length} playlist reloads answered 200; ` +
        `${polls.length} rounds of ${line.length} ticket polls kept every position; a release admitted position 1 and moved the rest up by one`,
    );
  });
});
