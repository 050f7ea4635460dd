// PullZone (one per node) and PullZoneDirectory (one per event): keys, heartbeats, health, viewers' choices.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { pullZone } from "../../../durable-objects/pull-zone/client";
import { pullZoneDirectory } from "../../../durable-objects/pull-zone-directory/client";

const T0 = 1_800_000_000_000;
let n = 0;
const unique = (prefix: string) => `${prefix}-${++n}-${Math.random().toString(36).slice(2, 8)}`;

/** Provisions the node for `eventIds` (the operator's PUT) and registers it with its key; returns the node key. */
async function provisionAndRegister(id: string, eventIds: string[], now = T0, capacityMbps?: number) {
  const { registrationKey } = await pullZone(env, id).provision({ id, name: `Node ${id}`, eventIds, capacityMbps, now });
  return register(id, registrationKey!, now);
}
async function register(id: string, key: string, now = T0) {
  const result = await pullZone(env, id).register(key, { baseUrl: "http://10.0.0.5:8080", heartbeatIntervalSeconds: 5, now });
  if (result.status !== "ok") throw new Error(`registration refused: ${result.status}`);
  return result;
}

describe("PullZone", () => {
  it("is not healthy before its first heartbeat, and healthy for two intervals after each one", async () => {
    const id = unique("node");
    const event = unique("event");
    const { nodeKey } = await provisionAndRegister(id, [event]);
    expect(await pullZoneDirectory(env, event).healthy(T0 + 1)).toEqual([]);
    expect(await pullZone(env, id).heartbeat(nodeKey, { activeViewers: 3, egressBytes: 100, now: T0 + 1000 })).toEqual({ status: "ok", healthyUntil: T0 + 11_000, eventIds: [event], acceptedBytes: 100, clampedBytes: 0, periodMs: 1000 });
    expect((await pullZoneDirectory(env, event).healthy(T0 + 10_999)).map((e) => e.id)).toEqual([id]);
    expect(await pullZoneDirectory(env, event).healthy(T0 + 11_000)).toEqual([]);
  });

  it("refuses a heartbeat with a wrong key and changes nothing", async () => {
    const id = unique("node");
    const event = unique("event");
    const { nodeKey } = await provisionAndRegister(id, [event]);
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

  it("re-registration issues a new key and incarnation; a provisioning change takes the node out of events it no longer serves", async () => {
    const id = unique("node");
    const [a, b] = [unique("event"), unique("event")];
    const { registrationKey } = await pullZone(env, id).provision({ id, name: "N", eventIds: [a, b], now: T0 });
    const first = await register(id, registrationKey!);
    await pullZone(env, id).heartbeat(first.nodeKey, { activeViewers: 0, egressBytes: 0, now: T0 + 1 });
    expect((await pullZoneDirectory(env, b).healthy(T0 + 2)).map((e) => e.id)).toEqual([id]);
    const changed = await pullZone(env, id).provision({ id, name: "N", eventIds: [a], now: T0 + 2 });
    expect(changed.created).toBe(false);
    expect(changed.registrationKey).toBeUndefined();
    expect(await pullZoneDirectory(env, b).healthy(T0 + 3)).toEqual([]);
    const second = await register(id, registrationKey!, T0 + 5000);
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
    const { nodeKey } = await provisionAndRegister(id, [event]);
    await pullZone(env, id).heartbeat(nodeKey, { activeViewers: 0, egressBytes: 0, now: T0 + 1 });
    expect(await pullZone(env, id).deregister({ nodeKey: "pzk_guess" })).toBe("unauthorized");
    expect((await pullZoneDirectory(env, event).healthy(T0 + 2)).length).toBe(1);
    expect(await pullZone(env, id).deregister({ nodeKey })).toBe("removed");
    expect(await pullZoneDirectory(env, event).healthy(T0 + 2)).toEqual([]);
    expect(await pullZone(env, id).describe()).toBeNull();
    // Offline, still provisioned.
    expect(await pullZone(env, id).status()).toMatchObject({ id, registered: false });
  });

  it("clamps reported egress to what the capacity carries over the interval (plus a second), and marks the node full at 90 %", async () => {
    const id = unique("node");
    const event = unique("event");
    // 8 Mbit/s = 1,000,000 bytes a second.
    const { nodeKey } = await provisionAndRegister(id, [event], T0, 8);
    const beat = (egressBytes: number, now: number) => pullZone(env, id).heartbeat(nodeKey, { activeViewers: 1, egressBytes, now });
    expect(await beat(1e15, T0 + 60_000)).toMatchObject({ acceptedBytes: 61_000_000, clampedBytes: 1e15 - 61_000_000 });
    expect((await pullZone(env, id).status())!.fullSince).toBe(T0 + 60_000);
    expect((await pullZoneDirectory(env, event).healthy(T0 + 60_001))[0]).toMatchObject({ fullSince: T0 + 60_000, capacityMbps: 8 });
    // One quiet second does not make room (the rate is smoothed over about 10 s); a quiet minute does.
    await beat(0, T0 + 61_000);
    expect((await pullZone(env, id).status())!.fullSince).toBe(T0 + 60_000);
    await beat(0, T0 + 121_000);
    expect(await pullZone(env, id).status()).toMatchObject({ fullSince: null, clampedBytesTotal: 1e15 - 61_000_000, egressBytesTotal: 61_000_000 });
    expect((await pullZoneDirectory(env, event).healthy(T0 + 121_001))[0]).toMatchObject({ fullSince: null });
  });

  it("the operator's capacity bounds the node's own claim", async () => {
    const id = unique("node");
    const { registrationKey } = await pullZone(env, id).provision({ id, name: "N", eventIds: [unique("event")], capacityMbps: 8, now: T0 });
    const reg = await pullZone(env, id).register(registrationKey!, { baseUrl: "http://10.0.0.5:8080", capacityMbps: 100_000, heartbeatIntervalSeconds: 5, now: T0 });
    if (reg.status !== "ok") throw new Error("refused");
    expect(await pullZone(env, id).heartbeat(reg.nodeKey, { activeViewers: 0, egressBytes: 1e12, now: T0 + 1000 })).toMatchObject({ acceptedBytes: 2_000_000 });
  });

  it("a decommissioned node can neither register nor heartbeat; a rotated key replaces the old one", async () => {
    const id = unique("node");
    const { registrationKey } = await pullZone(env, id).provision({ id, name: "N", eventIds: [unique("event")], now: T0 });
    const rotated = (await pullZone(env, id).rotateRegistrationKey())!;
    expect((await pullZone(env, id).register(registrationKey!, { baseUrl: "http://10.0.0.5:8080", heartbeatIntervalSeconds: 5 })).status).toBe("unauthorized");
    const { nodeKey } = await register(id, rotated);
    expect(await pullZone(env, id).decommission(T0 + 1)).toBe(true);
    expect((await pullZone(env, id).register(rotated, { baseUrl: "http://10.0.0.5:8080", heartbeatIntervalSeconds: 5 })).status).toBe("unauthorized");
    expect((await pullZone(env, id).heartbeat(nodeKey, { activeViewers: 0, egressBytes: 0 })).status).toBe("unknown");
    expect(await pullZone(env, id).status()).toBeNull();
    expect(await pullZone(env, id).rotateRegistrationKey()).toBeNull();
    expect(await pullZone(env, id).decommission()).toBe(false);
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
    // A repeated report keeps the time of the first; a new node is a new time.
    await dir.choose("ses_1", { cacheId: "north", steering: true }, T0 + 5);
    expect((await dir.route("ses_1", T0 + 6)).choice).toEqual({ cacheId: "north", steering: true, chosenAt: T0 });
    await dir.choose("ses_1", { cacheId: null, steering: true }, T0 + 7);
    await dir.choose("ses_1", { cacheId: "north", steering: true }, T0 + 8);
    expect((await dir.route("ses_1", T0 + 9)).choice!.chosenAt).toBe(T0 + 8);
    // No healthy node: nothing to point anyone at.
    await dir.choose("ses_2", { cacheId: "north", steering: false }, T0 + 4);
    expect(await dir.legacyView(T0 + 10_000)).toEqual({ nodes: [], legacy: {} });
  });

  it("keeps a full node's earlier viewers on it and points later ones at nobody", async () => {
    const event = unique("event");
    const dir = pullZoneDirectory(env, event);
    const node = { id: "north", name: "North", baseUrl: "http://10.0.0.5:8080", incarnation: "a1", healthyUntil: T0 + 10_000, activeViewers: 0, cacheHitRatio: null };
    await dir.upsert(node);
    await dir.choose("ses_before", { cacheId: "north", steering: false }, T0);
    await dir.upsert({ ...node, fullSince: T0 + 100 });
    await dir.choose("ses_after", { cacheId: "north", steering: false }, T0 + 200);
    await dir.choose("ses_before", { cacheId: "north", steering: false }, T0 + 300);
    expect((await dir.legacyView(T0 + 400)).legacy).toEqual({ ses_before: "north" });
    // Room again: everyone who chose it is served.
    await dir.upsert({ ...node, fullSince: null });
    expect((await dir.legacyView(T0 + 500)).legacy).toEqual({ ses_before: "north", ses_after: "north" });
  });
});
