// Switching between stadium nodes and the internet edge: the steering manifest (steering.json), the
// multivariant's node pathways, and per-reload media playlists for players without Content Steering.
// See docs/stadium-nodes.md for the decisions (pathway per node incarnation, explicit node variants).
import type { SteeringOptions } from "../../hls/rewrite";
import { addNodePathways, absolutizeUris, setInitialPathway } from "../../hls/pathways";
import { MULTIVARIANT_KEY, STEERING_KEY } from "../../hls/paths";
import type { PlaybackClaims } from "../../shared/playback/token";
import type { ServedRead } from "../../shared/playback/pipeline";
import { NODE_HEADER } from "../../shared/playback/node-header";
import { awaitShared } from "../../shared/cache/await-shared";
import { PLAYBACK_HEADERS, wholeBody } from "../../shared/playback/response";
import { pullZoneDirectory, servesChoice, type DirectoryEntry, type LegacyView, type RouteView } from "../../../durable-objects/pull-zone-directory/client";

/** The internet edge's pathway: every variant of the shared multivariant playlist is on it. */
export const EDGE_PATHWAY = "edge";
const MAX_TTL_SECONDS = 10;
const LEGACY_VIEW_MS = 1000;

/** A node's base pathway (explicit variants in the multivariant) and its pathway for one incarnation. */
export const basePathway = (nodeId: string) => `pz-${nodeId}`;
export const incarnationPathway = (node: Pick<DirectoryEntry, "id" | "incarnation">) => `pz-${node.id}.${node.incarnation}`;

export interface SteeringManifest {
  VERSION: 1;
  TTL: number;
  "RELOAD-URI"?: string;
  "PATHWAY-PRIORITY": string[];
  "PATHWAY-CLONES"?: { "BASE-ID": string; ID: string; "URI-REPLACEMENT": { HOST?: string } }[];
}

/**
 * The steering manifest for one viewer (pure): the node's current-incarnation pathway first while the node
 * is healthy and the viewer reported reaching it, the edge otherwise. A node that died and came back is a
 * new incarnation, so a new pathway id that hls.js has not put in its 300 s penalty box.
 */
export function buildSteeringManifest(route: RouteView, ttlSeconds: number): SteeringManifest {
  const ttl = Math.max(1, Math.min(MAX_TTL_SECONDS, Math.floor(ttlSeconds)));
  const node = chosenNode(route);
  if (!node) return { VERSION: 1, TTL: ttl, "PATHWAY-PRIORITY": [EDGE_PATHWAY] };
  return {
    VERSION: 1,
    TTL: ttl,
    "PATHWAY-PRIORITY": [incarnationPathway(node), EDGE_PATHWAY],
    // Cloned from the node's own base pathway, whose URIs already carry its scheme and port; HOST keeps
    // working if the node's address changed host but not port.
    "PATHWAY-CLONES": [{ "BASE-ID": basePathway(node.id), ID: incarnationPathway(node), "URI-REPLACEMENT": { HOST: new URL(node.baseUrl).hostname } }],
  };
}

/** The healthy node this viewer reported reaching, if any (and if its player steers). */
export function chosenNode(route: RouteView, wantSteering = true): DirectoryEntry | null {
  const choice = route.choice;
  if (!choice?.cacheId || choice.steering !== wantSteering) return null;
  const node = route.nodes.find((n) => n.id === choice.cacheId);
  // A node that was already full when the viewer chose it keeps it on the edge; its earlier viewers stay.
  return node && servesChoice(node, choice.chosenAt) ? node : null;
}

function steeringTtl(env: Env): number {
  const n = Number(env.STEERING_TTL_SECONDS);
  return Number.isFinite(n) && n > 0 ? n : MAX_TTL_SECONDS;
}

/** GET /play/<token>/steering.json: one directory call per reload, and never 429 (hls.js stops polling on it). */
export async function serveSteering(env: Env, claims: PlaybackClaims): Promise<Response> {
  let manifest: SteeringManifest;
  try {
    manifest = buildSteeringManifest(await pullZoneDirectory(env, claims.e).route(claims.s), steeringTtl(env));
  } catch (err) {
    // The directory is unreachable: the edge is always a safe answer, and polling goes on.
    console.error("steering: directory unavailable", err);
    manifest = { VERSION: 1, TTL: steeringTtl(env), "PATHWAY-PRIORITY": [EDGE_PATHWAY] };
  }
  return new Response(JSON.stringify(manifest), {
    headers: { ...PLAYBACK_HEADERS, "content-type": "application/json", "cache-control": "private, no-store" },
  });
}

// Isolate copy of each event's legacy view, refreshed at most once a second: media playlist reloads
// of every viewer read it, so they cost no Durable Object call each. Readers wait on it with awaitShared:
// the call may belong to another request.
const legacyViews = new Map<string, { at: number; view: Promise<LegacyView | null> }>();

function legacyView(env: Env, eventId: string, now: number): Promise<LegacyView | null> {
  const hit = legacyViews.get(eventId);
  if (hit && now - hit.at < LEGACY_VIEW_MS) return hit.view;
  if (legacyViews.size > 1000) legacyViews.clear();
  const view = pullZoneDirectory(env, eventId)
    .legacyView(now)
    .catch(() => null);
  legacyViews.set(eventId, { at: now, view });
  return view;
}

/**
 * The steering decision for one request of the multivariant playlist, made once: null when the shared
 * bytes are right (a node's own request, an event without healthy nodes, a player without steering);
 * otherwise the viewer's route, which tags the shared bytes for steering and adds the node pathways.
 */
export async function multivariantSteering(request: Request, env: Env, claims: PlaybackClaims): Promise<RouteView | null> {
  if (request.headers.get(NODE_HEADER)) return null;
  let route: RouteView | null;
  try {
    // Events without nodes (most of them) cost no call per viewer: the isolate's copy says so.
    const view = await awaitShared(legacyView(env, claims.e, Date.now()));
    if (!view || view.nodes.length === 0) return null;
    route = await pullZoneDirectory(env, claims.e).route(claims.s);
  } catch (err) {
    console.error("steering: directory unavailable", err);
    return null;
  }
  if (route.nodes.length === 0 || route.choice?.steering === false) return null;
  return route;
}

/** The shield variant of a multivariant playlist steered by the platform. */
export const STEERING_TAG: SteeringOptions = { serverUri: STEERING_KEY, pathwayId: EDGE_PATHWAY };

/** The multivariant playlist for a steering viewer: the shared one with each healthy node's pathways, starting on the viewer's node. */
export async function steeredMultivariant(route: RouteView, token: string, read: ServedRead): Promise<Response | null> {
  const shared = new TextDecoder().decode(await wholeBody(read));
  if (!shared.includes("#EXT-X-CONTENT-STEERING:")) return null;
  let text = addNodePathways(
    shared,
    route.nodes.map((n) => ({ pathwayIds: [basePathway(n.id), incarnationPathway(n)], playlistUrl: `${n.baseUrl}/play/${token}/${MULTIVARIANT_KEY}` })),
  );
  const node = chosenNode(route);
  // Start on the node at once, so the first segments already come from the venue.
  if (node) text = setInitialPathway(text, incarnationPathway(node));
  return personalResponse(text, read);
}

/**
 * A media playlist whose links point at the viewer's node, for players without Content Steering, decided at
 * every reload; null when the viewer plays from the edge (or the request is a node's own).
 */
export async function nodeMediaPlaylist(request: Request, env: Env, claims: PlaybackClaims, token: string, key: string, read: ServedRead, now: number): Promise<Response | null> {
  if (request.headers.get(NODE_HEADER)) return null;
  const view = await awaitShared(legacyView(env, claims.e, now));
  const nodeId = view?.legacy[claims.s];
  const node = nodeId ? view!.nodes.find((n) => n.id === nodeId) : undefined;
  if (!node) return null;
  const shared = new TextDecoder().decode(await wholeBody(read));
  return personalResponse(absolutizeUris(shared, `${node.baseUrl}/play/${token}/${key}`), read);
}

/** A playlist made for one viewer carries the token in absolute URLs: private, never stored. */
function personalResponse(text: string, read: ServedRead): Response {
  const body = new TextEncoder().encode(text);
  return new Response(body, {
    headers: {
      ...PLAYBACK_HEADERS,
      "content-type": read.contentType,
      "content-length": String(body.byteLength),
      "cache-control": "private, no-store",
      "x-cache": read.hit ? "HIT" : "MISS",
    },
  });
}
