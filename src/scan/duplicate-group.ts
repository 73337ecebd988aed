/**
 * A rule of a scanned dump seen at least twice, and how its later copies are confirmed to be the same
 * text (not a fingerprint collision). Internal to the scanner.
 */
import type { TableName } from "../model/ruleset.ts";
import type { RuleView } from "../parse/rule-view.ts";

/** A rule seen at least twice: its text (made at the second copy) and its copies so far. */
export interface Group {
  readonly table: TableName;
  readonly chain: string;
  readonly rule: string;
  /** The text's bytes, to confirm that each later copy is the same text, not a fingerprint collision. */
  readonly bytes: Uint8Array;
  /** `bytes` read 4 at a time. */
  readonly words: DataView;
  count: number;
  readonly lines: number[];
}

/** Whether the rule at `start..end` of the chunk read through `chunk` has the group's text. */
export function sameBytes(group: Group, chunk: DataView, start: number, end: number): boolean {
  const len = group.bytes.length;
  if (len !== end - start) return false;
  const words = group.words;
  let i = 0;
  for (; i + 4 <= len; i += 4) if (words.getInt32(i, true) !== chunk.getInt32(start + i, true)) return false;
  for (; i < len; i++) if (words.getUint8(i) !== chunk.getUint8(start + i)) return false;
  return true;
}

/** A group's text and its bytes for the comparisons. */
export function textBytes(v: RuleView): { bytes: Uint8Array; words: DataView } {
  const bytes = copyBytes(v);
  return { bytes, words: new DataView(bytes.buffer) };
}

/** A copy of the rule's text bytes (`slice` would share them when the chunk is a Node Buffer). */
function copyBytes(v: RuleView): Uint8Array {
  return new Uint8Array(v.bytes.subarray(v.start, v.end));
}
