// An independent parser (kuu/hls-parser) reads every rewritten golden playlist: each link stays under the
// viewer's /play/TOKEN/ prefix and names, through fromPlayKey, the origin URL the original link resolved to.
import HLS from "hls-parser";
import { describe, expect, it } from "vitest";
import { fromPlayKey } from "../../../workers/hls/paths";
import { rewritePlaylist } from "../../../workers/hls/rewrite";
import { GOLDEN_CASES, optionsFor, ORIGIN, readFixture } from "./golden-cases";

const EDGE_PREFIX = "https://edge.example/play/TOKEN/";

// hls-parser keeps a date range's client attributes by name; these two are interstitial links (rfc8216bis Appendix D.2).
const URI_KEYS = new Set(["uri", "X-ASSET-URI", "X-ASSET-LIST"]);

/** Every link anywhere in hls-parser's object graph (variants, renditions, keys, maps, parts, hints, reports, session data, interstitials). */
function collectUris(root: unknown): string[] {
  const found: string[] = [];
  const seen = new Set<object>();
  const walk = (value: unknown): void => {
    if (value === null || typeof value !== "object" || seen.has(value)) return;
    seen.add(value);
    for (const [k, v] of Object.entries(value)) {
      if (URI_KEYS.has(k) && typeof v === "string" && v !== "") found.push(v);
      else if (k !== "source") walk(v);
    }
  };
  walk(root);
  return found;
}

function isHttp(uri: string): boolean {
  return /^https?:/i.test(uri) || !/^[a-z][a-z0-9+.-]*:/i.test(uri);
}

function withoutFragment(u: URL): string {
  u.hash = "";
  return u.href;
}

// hls-parser reports spec nits of the origin fixtures on the console; the assertions below are what matter.
HLS.setOptions({ silent: true });

describe.each(GOLDEN_CASES)("$name", (c) => {
  const { input } = readFixture(c.name);
  const output = rewritePlaylist(input, optionsFor(c)).text;
  const inputUris = collectUris(HLS.parse(input));
  const outputUris = collectUris(HLS.parse(output));

  it("finds the same links through hls-parser as the rewrite kept, minus the ones it had to drop", () => {
    const originTargets = new Set(inputUris.filter(isHttp).map((u) => withoutFragment(new URL(u, c.playlistUrl))));
    for (const d of c.dropped ?? []) {
      expect(originTargets.has(d), `${d} is in the origin playlist`).toBe(true);
      originTargets.delete(d);
    }
    const reached = new Set<string>();
    for (const uri of outputUris.filter(isHttp)) {
      const resolved = new URL(uri, `${EDGE_PREFIX}${c.playlistKey}`);
      expect(resolved.href.startsWith(EDGE_PREFIX), `${uri} stays under ${EDGE_PREFIX}`).toBe(true);
      const key = resolved.href.slice(EDGE_PREFIX.length);
      reached.add(fromPlayKey(key, ORIGIN).href);
    }
    expect(reached.size).toBeGreaterThan(0);
    expect([...reached].sort()).toEqual([...originTargets].sort());
  });

  it("emits no absolute http(s) link and keeps non-http key identifiers verbatim", () => {
    for (const uri of outputUris) {
      if (isHttp(uri)) expect(uri).not.toMatch(/^(?:[a-z]+:)?\/\//i);
      else expect(inputUris).toContain(uri);
    }
  });
});
