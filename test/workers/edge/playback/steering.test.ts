// The steering manifest: stadium pathway first while the viewer's node is healthy and reached, the edge otherwise.
import { describe, expect, it } from "vitest";
import { buildSteeringManifest } from "../../../../workers/edge/playback/steering";
import { isSteeringKey } from "../../../../workers/shared/playback/pipeline";
import type { DirectoryEntry } from "../../../../durable-objects/pull-zone-directory/client";

const north: DirectoryEntry = { id: "north", name: "North", baseUrl: "http://10.0.0.5:8080", incarnation: "k1", healthyUntil: 0, activeViewers: 0, cacheHitRatio: null };

describe("buildSteeringManifest", () => {
  it("puts the node's incarnation pathway first, cloned from its base pathway with its host, for a viewer who reached it", () => {
    expect(buildSteeringManifest({ nodes: [north], choice: { cacheId: "north", steering: true, chosenAt: 0 } }, 5)).toEqual({
      VERSION: 1,
      TTL: 5,
      "PATHWAY-PRIORITY": ["pz-north.k1", "edge"],
      "PATHWAY-CLONES": [{ "BASE-ID": "pz-north", ID: "pz-north.k1", "URI-REPLACEMENT": { HOST: "10.0.0.5" } }],
    });
  });

  it("lists only the edge when the viewer reached no node, a node that is not healthy, or plays without steering", () => {
    for (const route of [
      { nodes: [north], choice: null },
      { nodes: [north], choice: { cacheId: null, steering: true, chosenAt: 0 } },
      { nodes: [], choice: { cacheId: "north", steering: true, chosenAt: 0 } },
      { nodes: [north], choice: { cacheId: "south", steering: true, chosenAt: 0 } },
      { nodes: [north], choice: { cacheId: "north", steering: false, chosenAt: 0 } },
      // The node was full when the viewer chose it.
      { nodes: [{ ...north, fullSince: 100 }], choice: { cacheId: "north", steering: true, chosenAt: 100 } },
    ]) {
      expect(buildSteeringManifest(route, 5)).toEqual({ VERSION: 1, TTL: 5, "PATHWAY-PRIORITY": ["edge"] });
    }
  });

  it("keeps a viewer who chose a node before it was full on it", () => {
    const route = { nodes: [{ ...north, fullSince: 100 }], choice: { cacheId: "north", steering: true, chosenAt: 99 } };
    expect(buildSteeringManifest(route, 5)["PATHWAY-PRIORITY"]).toEqual(["pz-north.k1", "edge"]);
  });

  it("keeps the TTL between 1 and 10 seconds", () => {
    expect(buildSteeringManifest({ nodes: [], choice: null }, 60).TTL).toBe(10);
    expect(buildSteeringManifest({ nodes: [], choice: null }, 0.2).TTL).toBe(1);
  });

  it("recognises the steering key with the query hls.js adds, and nothing else", () => {
    expect(isSteeringKey("steering.json")).toBe(true);
    expect(isSteeringKey("steering.json?_HLS_pathway=edge&_HLS_throughput=1")).toBe(true);
    expect(isSteeringKey("a/steering.json")).toBe(false);
    expect(isSteeringKey("steering.jsonx")).toBe(false);
  });
});
