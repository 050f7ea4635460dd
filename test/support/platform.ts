// Test helpers for whole-platform tests: start the real workers on workerd, seed demo data, talk HTTP.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPlatform, type Platform, type PlatformOptions } from "../../scripts/lib/platform";
import { seedDemo } from "../../scripts/lib/seed";

export type { Platform };

/** Starts origin + edge on free ports with the demo catalog. */
export async function startSeededPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const platform = await startPlatform(options);
  await seedDemo({ edgeUrl: platform.edgeUrl, originUrl: platform.originUrl, adminToken: platform.adminToken });
  return platform;
}

/**
 * Starts origin + edge with the demo catalog, the edge's storage in a fresh temporary folder, so that
 * `restartEdge()` brings its Durable Objects back with what they stored; `stop()` removes the folder.
 */
export async function startRestartablePlatform(options: Omit<PlatformOptions, "persistTo"> = {}): Promise<Platform> {
  const state = mkdtempSync(join(tmpdir(), "balancer-restartable-"));
  try {
    const platform = await startSeededPlatform({ ...options, persistTo: state });
    const stop = platform.stop;
    platform.stop = async () => {
      await stop();
      rmSync(state, { recursive: true, force: true });
    };
    return platform;
  } catch (err) {
    rmSync(state, { recursive: true, force: true });
    throw err;
  }
}

/** Operator PUT through the public API. */
export async function adminPut(p: Platform, path: string, body: unknown): Promise<Response> {
  return fetch(`${p.edgeUrl}/api/v1${path}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${p.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** Registers a free channel in event `demo` pointing at `originUrl`. */
export async function addChannel(p: Platform, channelId: string, originUrl: string, allowedHosts: string[] = []): Promise<void> {
  const res = await adminPut(p, `/admin/events/demo/channels/${channelId}`, { title: channelId, originUrl, paid: false, allowedHosts });
  if (res.status !== 200) throw new Error(`adding channel ${channelId}: ${res.status} ${await res.text()}`);
}

/** Asks for access to a free channel; returns the absolute playback URL. */
export async function openChannel(p: Platform, channelId: string, eventId = "demo"): Promise<{ playbackUrl: string; sessionId: string; token: string }> {
  const res = await fetch(`${p.edgeUrl}/api/v1/events/${eventId}/channels/${channelId}/access`, { method: "POST" });
  if (res.status !== 200) throw new Error(`access ${channelId}: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { playbackUrl: string; sessionId: string };
  const token = body.playbackUrl.split("/")[2]!;
  return { playbackUrl: p.edgeUrl + body.playbackUrl, sessionId: body.sessionId, token };
}

/** The demo origin's request counts by path. */
export async function originStats(p: Platform): Promise<{ total: number; byPath: Record<string, number> }> {
  return (await (await fetch(`${p.originUrl}/_stats`)).json()) as { total: number; byPath: Record<string, number> };
}

export async function resetOriginStats(p: Platform): Promise<void> {
  await fetch(`${p.originUrl}/_stats/reset`, { method: "POST" });
}

export async function bytes(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}
