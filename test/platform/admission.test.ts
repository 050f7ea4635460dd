// Acceptance of admission control end to end: limits, the FIFO queue, releases, the overload switch,
// the egress budget and lease expiry, through the public API of a running platform.
import HLS from "hls-parser";
import { Agent } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminPut, startSeededPlatform, type Platform } from "../support/platform";

let p: Platform;
// 1,000 simultaneous viewers need 1,000 sockets at once.
const dispatcher = new Agent({ connections: 1200, pipelining: 0 });

beforeAll(async () => {
  p = await startSeededPlatform();
});
afterAll(async () => {
  await p?.stop();
  await dispatcher.close();
});

interface AccessBody {
  status: "granted" | "queued";
  sessionId?: string;
  playbackUrl?: string;
  ticket?: string;
  position?: number;
  estimatedWaitSeconds?: number;
  retryAfterSeconds?: number;
}

async function access(eventId: string, channelId: string, body: Record<string, unknown> = {}): Promise<{ status: number; retryAfter: string | null; body: AccessBody }> {
  const res = await fetch(`${p.edgeUrl}/api/v1/events/${eventId}/channels/${channelId}/access`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    // @ts-expect-error undici's dispatcher option is not in the DOM fetch types
    dispatcher,
  });
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as AccessBody };
}

async function makeEvent(eventId: string, limits: Record<string, number>, channelPath = "/live/x/index.m3u8"): Promise<void> {
  expect((await adminPut(p, `/admin/events/${eventId}`, { title: eventId, limits })).status).toBe(200);
  const res = await adminPut(p, `/admin/events/${eventId}/channels/main`, { title: "main", originUrl: p.originUrl + channelPath, paid: false });
  expect(res.status).toBe(200);
}

const release = (playbackUrl: string, sessionId: string) =>
  fetch(`${p.edgeUrl}/api/v1/sessions/${sessionId}`, { method: "DELETE", headers: { authorization: `Bearer ${playbackUrl.split("/")[2]}` } });

const setOverload = (eventId: string, enabled: boolean) =>
  fetch(`${p.edgeUrl}/api/v1/admin/events/${eventId}/overload`, {
    method: "PUT",
    headers: { authorization: `Bearer ${p.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ enabled }),
  });

describe("the session limit and the FIFO queue", () => {
  it("grants exactly maxSessions of 1,000 simultaneous viewers and queues the rest with positions 1 to 900", async () => {
    await makeEvent("crowd", { maxSessions: 100 });
    const answers = await Promise.all(Array.from({ length: 1000 }, () => access("crowd", "main")));
    const granted = answers.filter((a) => a.status === 200);
    const queued = answers.filter((a) => a.status === 202);
    expect(granted.length).toBe(100);
    expect(queued.length).toBe(900);
    expect(queued.map((a) => a.body.position).sort((x, y) => x! - y!)).toEqual(Array.from({ length: 900 }, (_, i) => i + 1));
    for (const q of queued) {
      expect(Number(q.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(q.retryAfter)).toBeLessThanOrEqual(10);
      expect(q.body.retryAfterSeconds).toBe(Number(q.retryAfter));
      expect(q.body.estimatedWaitSeconds).toBeGreaterThan(0);
      expect(q.body.ticket).toMatch(/^tkt_[0-9a-f]{32}$/);
    }

    // Ten viewers leave; at their next poll exactly the ten earliest tickets get in, the rest move up by ten.
    const leaving = granted.slice(0, 10);
    for (const g of leaving) expect((await release(g.body.playbackUrl!, g.body.sessionId!)).status).toBe(204);
    const byPosition = [...queued].sort((x, y) => x.body.position! - y.body.position!);
    const polls = await Promise.all(byPosition.map((q) => access("crowd", "main", { ticket: q.body.ticket })));
    const nowGranted = polls.map((r, i) => ({ r, was: byPosition[i]!.body.position! })).filter((x) => x.r.status === 200);
    expect(nowGranted.map((x) => x.was).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    polls.forEach((r, i) => {
      if (r.status === 202) expect(r.body.position).toBe(byPosition[i]!.body.position! - 10);
    });
  });

  it("hands out positions in arrival order and keeps a viewer's place when it polls with its ticket", async () => {
    await makeEvent("order", { maxSessions: 1 });
    expect((await access("order", "main")).status).toBe(200);
    const tickets: string[] = [];
    for (let i = 1; i <= 5; i++) {
      const a = await access("order", "main");
      expect(a.body.position).toBe(i);
      tickets.push(a.body.ticket!);
    }
    const again = await access("order", "main", { ticket: tickets[2] });
    expect(again.status).toBe(202);
    expect(again.body.position).toBe(3);
    expect(again.body.ticket).toBe(tickets[2]);
  });

  it("treats a made-up ticket as a new arrival at the back of the queue", async () => {
    await makeEvent("forged", { maxSessions: 1 });
    await access("forged", "main");
    await access("forged", "main");
    const made = await access("forged", "main", { ticket: "tkt_00000000000000000000000000000000" });
    expect(made.status).toBe(202);
    expect(made.body.position).toBe(2);
  });
});

describe("the overload switch", () => {
  it("queues every new viewer at once while playing viewers keep playing, then admits the queue in order", async () => {
    await makeEvent("switch", { maxSessions: 1000 });
    const playing = await access("switch", "main");
    expect(playing.status).toBe(200);
    expect((await setOverload("switch", true)).status).toBe(200);

    const waiting = [await access("switch", "main"), await access("switch", "main")];
    expect(waiting.map((w) => w.status)).toEqual([202, 202]);
    expect(waiting.map((w) => w.body.position)).toEqual([1, 2]);
    // The playing viewer does not notice.
    expect((await fetch(p.edgeUrl + playing.body.playbackUrl)).status).toBe(200);

    const off = await setOverload("switch", false);
    expect(await off.json()).toEqual({ enabled: false });
    const first = await access("switch", "main", { ticket: waiting[0]!.body.ticket });
    const second = await access("switch", "main", { ticket: waiting[1]!.body.ticket });
    expect([first.status, second.status]).toEqual([200, 200]);
  });

  it("toggles through the prototype's link with the operator token in the query, and refuses it without", async () => {
    await makeEvent("legacy", {});
    expect((await fetch(`${p.edgeUrl}/access_queue_swith?event=legacy`)).status).toBe(401);
    expect((await fetch(`${p.edgeUrl}/access_queue_swith?event=legacy&token=wrong`)).status).toBe(401);
    const on = await fetch(`${p.edgeUrl}/access_queue_swith?event=legacy&token=${p.adminToken}`);
    expect(await on.json()).toEqual({ enabled: true });
    expect((await access("legacy", "main")).status).toBe(202);
    const off = await fetch(`${p.edgeUrl}/access_queue_swith?event=legacy`, { headers: { authorization: `Bearer ${p.adminToken}` } });
    expect(await off.json()).toEqual({ enabled: false });
  });
});

describe("the egress budget", () => {
  it("offers a new viewer only the renditions that fit, and queues it when even the lowest does not", async () => {
    // The demo ladder is about 235, 411 and 508 kbit/s; 0.3 Mbit/s fits only the lowest.
    await makeEvent("budget", { maxEgressMbps: 0.3 });
    const first = await access("budget", "main");
    expect(first.status).toBe(200);
    const playlist = HLS.parse(await (await fetch(p.edgeUrl + first.body.playbackUrl)).text());
    if (!playlist.isMasterPlaylist) throw new Error("expected a multivariant playlist");
    expect(playlist.variants.length).toBe(1);
    expect(playlist.variants[0]!.bandwidth).toBeLessThanOrEqual(300_000);
    // The first viewer's estimated cost now fills the budget.
    expect((await access("budget", "main")).status).toBe(202);
  });
});

describe("the quality cap", () => {
  it("refuses a capped viewer the renditions above its cap when it asks for them by name, playlists and segments alike", async () => {
    await makeEvent("cap-direct", { maxEgressMbps: 0.3 });
    await makeEvent("cap-open", {});
    const capped = await access("cap-direct", "main");
    const open = await access("cap-open", "main");
    expect([capped.status, open.status]).toEqual([200, 200]);
    // The origin's own ladder: its top rendition, and a segment in the middle of that rendition's live window.
    const originEntry = `${p.originUrl}/live/x/index.m3u8`;
    const ladder = HLS.parse(await (await fetch(originEntry)).text());
    if (!ladder.isMasterPlaylist) throw new Error("expected a multivariant playlist");
    const byRate = [...ladder.variants].sort((a, b) => a.bandwidth - b.bandwidth);
    const top = byRate.at(-1)!.uri;
    const lowest = byRate[0]!.uri;
    const topMedia = HLS.parse(await (await fetch(new URL(top, originEntry))).text());
    if (topMedia.isMasterPlaylist) throw new Error("expected a media playlist");
    const topSegment = top.replace(/[^/]*$/, "") + topMedia.segments[Math.floor(topMedia.segments.length / 2)]!.uri;
    const base = (grant: AccessBody) => p.edgeUrl + grant.playbackUrl!.replace(/index\.m3u8$/, "");
    // The keys are real: a viewer of an uncapped event on the same origin opens them...
    for (const key of [top, topSegment]) expect((await fetch(base(open.body) + key)).status, key).toBe(200);
    // The entry asked as an LL-HLS blocking reload is the same ladder: it must not open the top either.
    expect((await fetch(base(capped.body) + "index.m3u8?_HLS_msn=1")).status).toBe(200);
    // ...a capped one is refused them, on the first request (a miss) and on the next (from the edge's cache),
    // and still plays the rendition that fits.
    for (const key of [top, topSegment, top, topSegment]) {
      const res = await fetch(base(capped.body) + key);
      expect(res.status, key).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("forbidden");
    }
    expect((await fetch(base(capped.body) + lowest)).status).toBe(200);
  });
});

describe("leases", () => {
  it("ends a session that stops playing for its lease: its next playlist request gets 410 session_expired", async () => {
    await makeEvent("lease", { leaseSeconds: 10 });
    const granted = await access("lease", "main");
    const url = p.edgeUrl + granted.body.playbackUrl;
    expect((await fetch(url)).status).toBe(200);
    // A lease ends leaseSeconds plus the report allowance (5 s here) after the last report naming the
    // session, 15 s; if the gate's object was evicted meanwhile, up to a quarter lease later.
    await new Promise((r) => setTimeout(r, 17_500));
    let status = 0;
    let code = "";
    const deadline = Date.now() + 8_000;
    while (Date.now() < deadline) {
      const res = await fetch(url);
      status = res.status;
      code = ((await res.json().catch(() => ({}))) as { error?: { code: string } }).error?.code ?? "";
      if (status === 410) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(status).toBe(410);
    expect(code).toBe("session_expired");
  });

  it("frees the slot at once on DELETE and refuses to delete someone else's session", async () => {
    await makeEvent("delete", { maxSessions: 1 });
    const a = await access("delete", "main");
    const waiting = await access("delete", "main");
    expect(waiting.status).toBe(202);
    const other = await access("order", "main");
    // A playback token of another session cannot end this one.
    const foreign = await fetch(`${p.edgeUrl}/api/v1/sessions/${a.body.sessionId}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${(other.body.playbackUrl ?? "/play/x.y/").split("/")[2]}` },
    });
    expect(foreign.status === 404 || foreign.status === 401).toBe(true);
    expect((await release(a.body.playbackUrl!, a.body.sessionId!)).status).toBe(204);
    // The freed slot goes to the viewer who was waiting, not to a newcomer.
    expect((await access("delete", "main")).status).toBe(202);
    expect((await access("delete", "main", { ticket: waiting.body.ticket })).status).toBe(200);
    // Deleting again is harmless (idempotent), and the slot stays with the viewer who got it.
    expect((await release(a.body.playbackUrl!, a.body.sessionId!)).status).toBe(204);
    expect((await access("delete", "main")).status).toBe(202);
  });
});

describe("claims", () => {
  it("keeps grants whose playback URL is used within claimSeconds, however late in the edge's report period they start, and frees one that is never used", async () => {
    await makeEvent("claims", { claimSeconds: 10, leaseSeconds: 60, maxSessions: 3 });
    const early = await access("claims", "main");
    expect((await fetch(p.edgeUrl + early.body.playbackUrl)).status).toBe(200);
    // A viewer that starts a few seconds after the edge's last report for the event.
    await new Promise((r) => setTimeout(r, 3_000));
    const late = await access("claims", "main");
    expect((await fetch(p.edgeUrl + late.body.playbackUrl)).status).toBe(200);
    expect((await access("claims", "main")).status).toBe(200); // never played
    await new Promise((r) => setTimeout(r, 11_000));
    const res = await fetch(`${p.edgeUrl}/api/v1/admin/events/claims/stats`, { headers: { authorization: `Bearer ${p.adminToken}` } });
    expect(((await res.json()) as { activeSessions: number }).activeSessions).toBe(2);
    expect((await access("claims", "main")).status).toBe(200);
  });
});

describe("operator figures", () => {
  it("reports active sessions, the queue and origin requests", async () => {
    await makeEvent("figures", { maxSessions: 2 });
    const a = await access("figures", "main");
    await access("figures", "main");
    await access("figures", "main");
    await (await fetch(p.edgeUrl + a.body.playbackUrl)).text();
    const res = await fetch(`${p.edgeUrl}/api/v1/admin/events/figures/stats`, { headers: { authorization: `Bearer ${p.adminToken}` } });
    expect(res.status).toBe(200);
    const stats = (await res.json()) as Record<string, unknown>;
    expect(stats).toMatchObject({ activeSessions: 2, queued: 1, admittedTotal: 2, overload: false, gateReportCalls: { edge: 1, node: 0 } });
    expect(stats.originRequests).toBeGreaterThanOrEqual(1);
    expect((await fetch(`${p.edgeUrl}/api/v1/admin/events/figures/stats`)).status).toBe(401);
  });
});
