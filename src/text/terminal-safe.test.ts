import { describe, expect, test } from "vitest";
import { clipText, terminalSafe } from "./terminal-safe.ts";

// The characters a terminal acts on, listed from the standards rather than from the implementation:
// ECMA-48 C0 (0x00-0x1F) and C1 (0x80-0x9F) control sets, DEL (0x7F), Unicode bidi controls
// (UAX #9: ALM U+061C, LRM U+200E, RLM U+200F, LRE..RLO U+202A-U+202E, LRI..PDI U+2066-U+2069),
// LINE/PARAGRAPH SEPARATOR (U+2028/U+2029), zero-width space/joiners (U+200B-U+200D), word joiner
// U+2060 and the BOM U+FEFF.
const MUST_ESCAPE: number[] = [
  ...Array.from({ length: 0x20 }, (_, i) => i),
  0x7f,
  ...Array.from({ length: 0x20 }, (_, i) => 0x80 + i),
  0x061c,
  0x200b,
  0x200c,
  0x200d,
  0x200e,
  0x200f,
  0x2028,
  0x2029,
  0x202a,
  0x202b,
  0x202c,
  0x202d,
  0x202e,
  0x2060,
  0x2066,
  0x2067,
  0x2068,
  0x2069,
  0xfeff,
];

describe("terminalSafe()", () => {
  test("leaves no character a terminal would act on", () => {
    for (const code of MUST_ESCAPE) {
      const out = terminalSafe(`a${String.fromCharCode(code)}b`);
      expect(out.startsWith("a\\") && out.endsWith("b"), `U+${code.toString(16)}`).toBe(true);
      for (const ch of out)
        expect(MUST_ESCAPE.includes(ch.charCodeAt(0)), `U+${code.toString(16)}`).toBe(false);
    }
  });

  test("keeps printable text, accents and CJK as they are", () => {
    const text = '-A KUBE-SVC-X -m comment --comment "café 服务 ns/svc:p80" -j ACCEPT ~!@#$%^&*()';
    expect(terminalSafe(text)).toBe(text);
  });

  test("a forged verdict line stays on the line of its value", () => {
    const out = terminalSafe("10.42.1.23:8848\nVERDICT: OK \u202eevil");
    expect(out).toBe("10.42.1.23:8848\\nVERDICT: OK \\u202eevil");
    expect(out.includes("\n")).toBe(false);
  });

  test("ESC sequences and CR are shown, not sent", () => {
    expect(terminalSafe("x\x1b[2J\ry\t")).toBe("x\\x1b[2J\\ry\\t");
  });
});

describe("clipText()", () => {
  test("escapes before clipping so the cut never splits an escape from its text", () => {
    expect(clipText("\x1b".repeat(100), 20)).toBe(`${"\\x1b".repeat(4)}...`);
    expect(clipText("abc".repeat(100), 20)).toBe(`${"abc".repeat(5)}ab...`);
    expect(clipText("short")).toBe("short");
  });
});
