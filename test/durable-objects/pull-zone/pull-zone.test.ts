// PullZone (one per node) and PullZoneDirectory (one per event): keys, heartbeats, health, viewers' choices.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { pullZone } from "../../../durable-objects/pull-zone/client";
import { pullZoneDirectory } from "../../../durable-objects/pull-zone-directory/client";

const T0 = 1_800_000_000_000;
let n = 0;
const unique = (prefix: string) => `${prefix}-${++n}-${Math.random().toString(36).slice(2, 8)}`;

function registration(id: string, eventIds: string[], now = T0) {
  return { id, name: `Node ${id}`, baseUrl: "http://10.0.0.5:8080", eventIds, heartbeatIntervalSeconds: 5, now };
}

describe("PullZone", () => {
  it("is not healthy before its first heartbeat, and healthy for two intervals after each one", async () => {
    const id = unique("node");
    const event = unique("event");
    const { nodeKey } = await pullZone(env, id).register(registration(id, [event]));
    expect(await pullZoneDirectory(env, event).healthy(T0 + 1)).toEqual([]);
    expect(await pullZone(env, id).heartbeat(nodeKey, { activeViewers: 3, egressBytes: 100, now: T0 + 1000 })).toEqual({ status: "ok", healthyUntil: T0 + 11_000, eventIds: [event] });
    expect((await pullZoneDirectory(env, event).healthy(T0 + 10_999)).map((e) => e.id)).toEqual([id]);
    expect(await pullZoneDirectory(env, event).healthy(T0 + 11_000)).toEqual([]);
  });

  it("refuses a heartbeat with a wrong key and changes nothing", async () => {
    const id = unique("node");
    const event = unique("event");
    const { nodeKey } = await pullZone(env, id).register(registration(id, [event]));
    await pullZone(env, id).heartbeat(nodeKey, { activeViewers: 1, egressBytes: 10, now: T0 + 1000 });
    const before = await pullZone(env, id).describe();
    const dirBefore = await pullZoneDirectory(env, event).healthy(T0 + 2000);
    expect(await pullZone(env, id).heartbeat("pzk_guess", { activeViewers: 99, egressBytes: 1e9, now: T0 + 2000 })).toEqual({ status: "unauthorized" });
    expect(await pullZone(env, id).describe()).toEqual(before);
    expect(await pullZoneDirectory(env, event).healthy(T0 + 2000)).toEqual(dirBefore);
  });

  it("answers unknown for a node never registered", async () => {
    expect(await pullZone(env, unique("ghost")).heartbeat("pzk_x", { activeViewers: 0, egressBytes: 0 })).toEqual({ status: "unknown" });
    expect(await pullZone(env, unique("ghost")).deregister({ operator: true })).toBe("unknown");
  });

  it("re-registration issues a new key and incarnation, and leaves events no longer served", async () => {
    const id = unique("node");
    const [a, b] = [unique("event"), unique("event")];
    const first = await pullZone(env, id).register(registration(id, [a, b]));
    await pullZone(env, id).heartbeat(first.nodeKey, { activeViewers: 0, egressBytes: 0, now: T0 + 1 });
    const second = await pullZone(env, id).register(registration(id, [a], T0 + 5000));
    expect(second.nodeKey).not.toBe(first.nodeKey);
    expect(second.incarnation).not.toBe(first.incarnation);
    expect((await pullZone(env, id).heartbeat(first.nodeKey, { activeViewers: 0, egressBytes: 0, now: T0 + 6000 })).status).toBe("unauthorized");
    expect((await pullZone(env, id).heartbeat(second.nodeKey, { activeViewers: 0, egressBytes: 0, now: T0 + 6000 })).status).toBe("ok");
    expect((await pullZoneDirectory(env, a).healthy(T0 + 7000)).map((e) => [e.id, e.incarnation])).toEqual([[id, second.incarnation]]);
    expect(await pullZoneDirectory(env, b).healthy(T0 + 7000)).toEqual([]);
  });

  it("deregisters with its key or on the operator's word, not with a wrong key", async () => {
    const id = unique("node");
    const event = unique("event");
    const { nodeKey } = await pullZone(env, id).register(registration(id, [event]));
    await pullZone(env, id).heartbeat(nodeKey, { activeViewers: 0, egressBytes: 0, now: T0 + 1 });
    expect(await pullZone(env, id).deregister({ nodeKey: "pzk_guess" })).toBe("unauthorized");
    expect((await pullZoneDirectory(env, event).healthy(T0 + 2)).length).toBe(1);
    expect(await pullZone(env, id).deregister({ nodeKey })).toBe("removed");
    expect(await pullZoneDirectory(env, event).healthy(T0 + 2)).toEqual([]);
    expect(await pullZone(env, id).describe()).toBeNull();
  });
});

describe("PullZoneDirectory", () => {
  it("remembers each session's node and steering mode, and lists only legacy sessions with a node in the legacy view", async () => {
    const event = unique("event");
    const dir = pullZoneDirectory(env, event);
    await dir.upsert({ id: "north", name: "North", baseUrl: "http://10.0.0.5:8080", incarnation: "a1", healthyUntil: T0 + 10_000, activeViewers: 0, cacheHitRatio: null });
    await dir.choose("ses_1", { cacheId: "north", steering: true }, T0);
    await dir.choose("ses_2", { cacheId: "north", steering: false }, T0);
    await dir.choose("ses_3", { cacheId: null, steering: false }, T0);
    expect(await dir.route("ses_1", T0 + 1)).toMatchObject({ choice: { cacheId: "north", steering: true }, nodes: [{ id: "north" }] });
    expect((await dir.route("ses_unknown", T0 + 1)).choice).toBeNull();
    expect((await dir.legacyView(T0 + 1)).legacy).toEqual({ ses_2: "north" });
    // A new report replaces the old one.
    await dir.choose("ses_2", { cacheId: null, steering: false }, T0 + 2);
    expect((await dir.legacyView(T0 + 3)).legacy).toEqual({});
    // No healthy node: nothing to point anyone at.
    await dir.choose("ses_2", { cacheId: "north", steering: false }, T0 + 4);
    expect(await dir.legacyView(T0 + 10_000)).toEqual({ nodes: [], legacy: {} });
  });
});
