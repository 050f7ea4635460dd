// Caller-side helper for the origin shield: the only place that builds its ids and stubs.
export type { OriginsSnapshot, PlaylistVariant, ShieldReply, ShieldRequest } from "./origin-shield";

/** The origin shield of one channel (one object per event/channel pair). */
export function originShield(env: Env, eventId: string, channelId: string) {
  return env.ORIGIN_SHIELD.get(env.ORIGIN_SHIELD.idFromName(`${eventId}/${channelId}`));
}
