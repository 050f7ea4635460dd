// Entitlement checks as the access and catalog routes need them: for the request's viewer, if any.
import type { Context } from "hono";
import { DomainError } from "../../shared/errors";
import type { Channel } from "../catalog/schemas";
import { lookupViewer, requireViewer, type Viewer } from "../middleware/viewer-auth";
import type { EdgeEnv } from "../types";
import { unlockedChannels } from "./entitlements";

/**
 * For a paid channel: the signed-in viewer who owns it. Throws 401 `unauthenticated` without a valid
 * viewer token and 403 `entitlement_required` (with the productId to buy) without the entitlement.
 */
export async function requireEntitlement(c: Context<EdgeEnv>, channel: Channel): Promise<Viewer> {
  const viewer = await requireViewer(c);
  const unlocked = await unlockedChannels(c.env, viewer.userId, [channel]);
  if (!unlocked.has(channel.id)) throw new DomainError({ code: "entitlement_required", productId: channel.productId ?? "" });
  return viewer;
}

/**
 * The paid channels among `channels` the caller may open. The Bearer token is optional here: without
 * one, or with one that is no longer valid, the caller is anonymous and owns nothing.
 */
export async function unlockedForCaller(c: Context<EdgeEnv>, channels: readonly Channel[]): Promise<Set<string>> {
  if (!channels.some((ch) => ch.paid)) return new Set();
  const found = await lookupViewer(c);
  if (found.status !== "ok") return new Set();
  return unlockedChannels(c.env, found.viewer.userId, channels);
}
