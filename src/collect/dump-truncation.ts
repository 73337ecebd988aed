/**
 * A dump cut short (a paste, a full disk): its last table has no COMMIT. A fix plan refuses it; a
 * scan counts it as far as it goes, with a `truncated` warning that says where it ends.
 */
import type { ParseWarning } from "../model/ruleset.ts";
import type { DumpHandler, DumpReader } from "../parse/dump-reader.ts";
import type { Truncation } from "../parse/sniff-format.ts";

/** Longest line text kept for the warning's evidence. */
const MAX_TEXT = 4096;

/** The refusal of a truncated dump (when the sniffer saw the whole input). */
export function truncatedMessage(t: Truncation): string {
  return (
    `Cannot parse dump at line ${t.lastLine}: the dump ends inside table "${t.table}" (opened at line ${t.openedAt}) ` +
    "without COMMIT: it is truncated (a paste cut short?); take the whole iptables-save output, as a file"
  );
}

function isSpace(b: number): boolean {
  return b === 10 || b === 13 || b === 32 || b === 9;
}

/**
 * The last line of the input with something on it, kept while the bytes stream past: a copy of at
 * most {@linkcode MAX_TEXT} bytes per chunk, so chunks may be reused after {@linkcode LastLine.see}.
 */
export class LastLine {
  #line: Buffer = Buffer.alloc(0);
  /** The input so far ends with a line feed (or is empty). */
  endsWithNewline = true;

  see(chunk: Uint8Array): void {
    const n = chunk.length;
    if (n === 0) return;
    const continues = !this.endsWithNewline;
    this.endsWithNewline = chunk[n - 1] === 10;
    let end = n;
    while (end > 0 && isSpace(chunk[end - 1]!)) end--;
    if (end === 0) return;
    const nl = chunk.lastIndexOf(10, end - 1);
    const part = Buffer.from(chunk.subarray(Math.max(nl + 1, end - MAX_TEXT), end));
    // A line that started in an earlier chunk keeps its beginning.
    this.#line = nl < 0 && continues ? Buffer.concat([this.#line, part]).subarray(0, MAX_TEXT) : part;
  }

  get text(): string {
    return this.#line.toString("utf8");
  }
}

/** The warning for a dump read up to its cut end. */
function truncatedWarning(
  table: string,
  last: { line: number; text: string },
  t: Truncation | undefined,
): ParseWarning {
  const lastLine = last.line;
  const opened = t === undefined ? "" : ` (opened at line ${t.openedAt})`;
  const cut = t?.cutLine === undefined ? "" : `; line ${t.cutLine} was cut mid-line and left out`;
  return {
    line: lastLine,
    text: last.text,
    reason: `The dump ends inside table "${table}"${opened} without COMMIT (truncated): the counts cover lines 1-${lastLine} only${cut}`,
    kind: "truncated",
  };
}

/**
 * When the input ended inside an iptables-save table: closes it (a COMMIT line after the last one)
 * and warns the handler, so the reader's end accepts what was read.
 */
export function closeTruncated(
  reader: DumpReader,
  context: {
    readonly handler: DumpHandler;
    readonly last: LastLine;
    readonly truncation?: Truncation | undefined;
  },
): void {
  const open = reader.openTable;
  if (open === undefined) return;
  reader.push(context.last.endsWithNewline ? "COMMIT\n" : "\nCOMMIT\n");
  const t = context.truncation;
  const line = t !== undefined && t.cutLine === undefined ? t.lastLine : reader.lineCount - 1;
  context.handler.warning?.(truncatedWarning(open, { line, text: context.last.text }, t));
}
