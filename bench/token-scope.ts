// What the token-scope check costs (workers/hls/listing.ts, PlaylistWindow.isListed): it runs at the origin
// shield, on misses only; a cache hit at the edge or a stadium node runs none of it (their caches are keyed
// per channel). Run: npx tsx bench/token-scope.ts
import { PlaylistWindow } from "../durable-objects/origin-shield/playlist-window";
import { listedKeys } from "../workers/hls/listing";

const SEGMENTS = 2000;
const origin = { originUrl: "https://origin.example/live/ch/index.m3u8", allowedHosts: [] };
const lines = ["#EXTM3U", "#EXT-X-TARGETDURATION:4", "#EXT-X-MEDIA-SEQUENCE:100000", '#EXT-X-MAP:URI="init.mp4"'];
for (let i = 0; i < SEGMENTS; i++) lines.push("#EXTINF:4.000,", `seg-${100000 + i}.m4s`);
const media = `${lines.join("\n")}\n`;

const window = new PlaylistWindow();
const kept = window.store("720p/index.m3u8", origin, { text: media, url: new URL("https://origin.example/live/ch/720p/index.m3u8") }, Date.now());
if ("code" in kept) throw new Error("not stored");

/** Nanoseconds per call of `f`, the best of 5 rounds of `n` calls (the honest figure on a loaded machine). */
function perCall(n: number, f: (i: number) => unknown): number {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) f(i);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / n);
  }
  return best;
}

const listed = Array.from({ length: 1024 }, (_, i) => `720p/seg-${100000 + ((i * 7) % SEGMENTS)}.m4s`);
const blocking = Array.from({ length: 1024 }, (_, i) => `720p/index.m3u8?_HLS_msn=${100000 + i}&_HLS_part=2`);
const junk = Array.from({ length: 1024 }, (_, i) => `720p/seg-${100000 + i}.m4s?bust=${i}`);
let sink = 0;
const rows: [string, number][] = [
  ["isListed, a listed segment", perCall(1_000_000, (i) => (sink += window.isListed(listed[i & 1023]!) ? 1 : 0))],
  ["isListed, a blocking reload (_HLS_ parameters dropped)", perCall(1_000_000, (i) => (sink += window.isListed(blocking[i & 1023]!) ? 1 : 0))],
  ["isListed, a made-up query", perCall(1_000_000, (i) => (sink += window.isListed(junk[i & 1023]!) ? 1 : 0))],
  [`listedKeys of a ${SEGMENTS}-segment playlist (once per origin fetch)`, perCall(50, () => (sink += listedKeys(kept.stored.rendered.get("{}")!, "720p/index.m3u8").length))],
];
for (const [what, ns] of rows) console.log(`${what}: ${ns >= 10_000 ? `${(ns / 1e6).toFixed(2)} ms` : `${ns.toFixed(0)} ns`}`);
if (sink < 0) console.log(sink);
