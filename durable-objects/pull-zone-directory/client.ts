// Caller-side helper for the per-event pull-zone directory: the only place that builds its ids and stubs.

/** The stadium nodes of one event and its viewers' node choices (one object per event). */
export function pullZoneDirectory(env: Env, eventId: string) {
  return env.PULL_ZONE_DIRECTORY.get(env.PULL_ZONE_DIRECTORY.idFromName(eventId));
}

// The types callers name, so that no caller imports the object's own modules.
export type { DirectoryEntry, LegacyView, RouteView, SessionChoice, StoredChoice } from "./pull-zone-directory";
export { servesChoice } from "./pull-zone-directory";
