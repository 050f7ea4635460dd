// Goods redemption codes: the alphabet people cannot misread, the check character that refuses any one wrong
// character and any two swapped, and the reading of what a person typed or a scanner sent.
import { describe, expect, it } from "vitest";
import { CODE_ALPHABET, formatGoodsCode, generateGoodsCode, parseGoodsCode } from "../../../workers/shared/goods-code";

const codes = Array.from({ length: 200 }, generateGoodsCode);

describe("a generated code", () => {
  it("is 10 characters of an alphabet of 31 without 0, O, 1, I or L, and reads back as itself", () => {
    expect(CODE_ALPHABET).toHaveLength(31);
    expect(CODE_ALPHABET).not.toMatch(/[01OIL]/);
    for (const code of codes) {
      expect(code).toMatch(new RegExp(`^[${CODE_ALPHABET}]{10}$`));
      expect(parseGoodsCode(code)).toEqual({ ok: true, code });
    }
  });

  it("differs from every other of 200 drawn", () => {
    expect(new Set(codes).size).toBe(codes.length);
  });

  it("uses every character of the alphabet in its random part", () => {
    const seen = new Set(codes.flatMap((c) => [...c.slice(0, 9)]));
    expect(seen.size).toBe(31);
  });
});

describe("the check character", () => {
  it("refuses every code with one character replaced by any other of the alphabet", () => {
    for (const code of codes.slice(0, 40)) {
      for (let i = 0; i < code.length; i++) {
        for (const ch of CODE_ALPHABET) {
          if (ch === code[i]) continue;
          expect(parseGoodsCode(code.slice(0, i) + ch + code.slice(i + 1))).toEqual({ ok: false, reason: "check" });
        }
      }
    }
  });

  it("refuses every code with two different characters swapped, neighbours or not", () => {
    for (const code of codes) {
      for (let i = 0; i < code.length; i++) {
        for (let j = i + 1; j < code.length; j++) {
          if (code[i] === code[j]) continue;
          const swapped = [...code];
          [swapped[i], swapped[j]] = [swapped[j]!, swapped[i]!];
          expect(parseGoodsCode(swapped.join("")).ok, `${code} ${i}<->${j}`).toBe(false);
        }
      }
    }
  });
});

describe("reading a typed code", () => {
  it("ignores case, spaces and hyphens", () => {
    const code = codes[0]!;
    expect(parseGoodsCode(` ${formatGoodsCode(code).toLowerCase()} `)).toEqual({ ok: true, code });
    expect(parseGoodsCode(code.replace(/(.{3})/g, "$1 "))).toEqual({ ok: true, code });
  });

  it("refuses a wrong length and a character outside the alphabet before checking", () => {
    const code = codes[0]!;
    expect(parseGoodsCode(code.slice(0, 9))).toEqual({ ok: false, reason: "length" });
    expect(parseGoodsCode(`${code}2`)).toEqual({ ok: false, reason: "length" });
    expect(parseGoodsCode("")).toEqual({ ok: false, reason: "length" });
    for (const bad of ["0", "O", "1", "I", "L", "é", "_"]) expect(parseGoodsCode(bad + code.slice(1))).toEqual({ ok: false, reason: "character" });
  });
});
