// Golden pairs: each fixtures/<case>.m3u8 rewritten with the case's options equals fixtures/<case>.expected.m3u8, byte for byte.
import { describe, expect, it } from "vitest";
import { toPlayKey } from "../../../workers/hls/paths";
import { rewritePlaylist } from "../../../workers/hls/rewrite";
import { GOLDEN_CASES, optionsFor, ORIGIN, readFixture } from "./golden-cases";

describe.each(GOLDEN_CASES)("$name", (c) => {
  // The spec sentence each case exercises is quoted in golden-cases.ts and shown here as the test name.
  describe(c.spec, () => {
    const { input, expected } = readFixture(c.name);

    it(`${c.behaviour}`, () => {
      const result = rewritePlaylist(input, optionsFor(c));
      expect(result.text).toBe(expected);
      for (const w of c.warnings ?? []) {
        expect(result.warnings.some((x) => x.includes(w)), `warning containing "${w}" in ${JSON.stringify(result.warnings)}`).toBe(true);
      }
    });

    it("gives the same bytes on every run", () => {
      expect(rewritePlaylist(input, optionsFor(c)).text).toBe(rewritePlaylist(input, optionsFor(c)).text);
    });

    it("uses the play key toPlayKey gives the playlist's own URL", () => {
      expect(toPlayKey(new URL(c.playlistUrl), ORIGIN)).toBe(c.playlistKey);
    });
  });
});
