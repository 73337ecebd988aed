/** Byte-level helpers of the reader's byte path (internal to the reader). */
import type { DumpLines } from "./dump-lines.ts";
import { BINARY_CHAR } from "./dump-structure.ts";
import { decodeBytes } from "./rule-view.ts";

/** ` - [0:0]`: the end of a user chain's declaration. */
export const USER_DECL_TAIL = [32, 45, 32, 91, 48, 58, 48, 93];

/**
 * Where the text of a `[packets:bytes] -A ...` line starts, or -1 when the prefix is not exactly
 * that (the line is then read as text, which also words the error).
 */
export function counterPrefixEnd(b: Uint8Array, start: number, end: number): number {
  let i = start + 1;
  const digits = (): boolean => {
    const from = i;
    while (i < end && b[i]! >= 48 && b[i]! <= 57) i++;
    return i > from;
  };
  if (!digits() || b[i] !== 58 /* : */) return -1;
  i++;
  if (!digits() || b[i] !== 93 /* ] */ || b[i + 1] !== 32) return -1;
  i += 2;
  return b[i] === 45 && b[i + 1] === 65 && b[i + 2] === 32 ? i : -1;
}

/** Whether `len` bytes at `a` and at `b` of one chunk (read through `words`) are the same. */
export function sameBytes(words: DataView, a: number, b: number, len: number): boolean {
  let i = 0;
  // Four words a step, or-ed: one branch per 16 bytes.
  for (; i + 16 <= len; i += 16) {
    const d =
      (words.getInt32(a + i, true) ^ words.getInt32(b + i, true)) |
      (words.getInt32(a + i + 4, true) ^ words.getInt32(b + i + 4, true)) |
      (words.getInt32(a + i + 8, true) ^ words.getInt32(b + i + 8, true)) |
      (words.getInt32(a + i + 12, true) ^ words.getInt32(b + i + 12, true));
    if (d !== 0) return false;
  }
  for (; i + 4 <= len; i += 4) if (words.getInt32(a + i, true) !== words.getInt32(b + i, true)) return false;
  for (; i < len; i++) if (words.getUint8(a + i) !== words.getUint8(b + i)) return false;
  return true;
}

/** Fails for the line holding a NUL byte at or after `from`, naming that line's first sign of binary data. */
export function checkNul(s: DumpLines, bytes: Uint8Array, from: number): void {
  const at = bytes.indexOf(0, from);
  if (at < 0) return;
  let line = s.lineNo + 1;
  let lineStart = from;
  for (let k = bytes.indexOf(10, from); k >= 0 && k < at; k = bytes.indexOf(10, k + 1)) {
    line++;
    lineStart = k + 1;
  }
  const text = decodeBytes(bytes, lineStart, at + 1);
  const first = BINARY_CHAR.exec(text);
  const col = first === null ? text.length - 1 : first.index;
  s.failBinary(line, col, text.charCodeAt(col));
}

/** Whether two byte ranges hold the same bytes (read through DataViews of their arrays, 4 at a time). */
export function sameRange(
  a: DataView,
  aStart: number,
  aEnd: number,
  b: DataView,
  bStart: number,
  bEnd: number,
): boolean {
  const len = aEnd - aStart;
  if (len !== bEnd - bStart) return false;
  let i = 0;
  for (; i + 4 <= len; i += 4) if (a.getInt32(aStart + i) !== b.getInt32(bStart + i)) return false;
  for (; i < len; i++) if (a.getUint8(aStart + i) !== b.getUint8(bStart + i)) return false;
  return true;
}

/** A DataView of `bytes`, remembered for the next call with the same array. */
export function viewOf(bytes: Uint8Array, last: { bytes?: Uint8Array; view?: DataView }): DataView {
  if (last.bytes !== bytes || last.view === undefined) {
    last.bytes = bytes;
    last.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  return last.view;
}
