/**
 * The reading edge of dumps: a file (or stdin) is decoded (gzip, byte order marks, UTF-16; see
 * read-text-chunks.ts), its first megabyte is sniffed (parse/sniff-format.ts: `iptables -S` and
 * grepped rules are read with their table, pasted listings and wrapped pastes are refused with a
 * hint) and the text is streamed through a {@linkcode DumpReader}.
 */
import { stat } from "node:fs/promises";
import type { ParseWarning, Ruleset } from "../model/ruleset.ts";
import { type DumpHandler, DumpReader, type DumpReaderOptions } from "../parse/dump-reader.ts";
import { DumpSyntaxError } from "../parse/dump-syntax-error.ts";
import { type ParseDumpOptions, parseDumpStream } from "../parse/parse-dump.ts";
import { type SniffResult, sniffDumpFormat, type Truncation } from "../parse/sniff-format.ts";
import { CollectError } from "./collect-error.ts";
import { errorWords } from "./errno-words.ts";
import { readTextChunks } from "./read-text-chunks.ts";

/** Text sniffed before reading: enough for every format's tell-tale lines and a whole paste. */
const HEAD_CHARS = 1 << 20;

/** Options of {@linkcode streamDump}. */
export interface StreamDumpOptions extends DumpReaderOptions {
  /**
   * Read a dump whose last table has no COMMIT (a paste cut short) as far as it goes, with a
   * `truncated` warning, instead of refusing it. For counting (`scan`), never for a fix plan.
   */
  readonly allowTruncated?: boolean;
}

async function checkReadable(path: string): Promise<void> {
  if (path === "-") return;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new CollectError(`Cannot read dump "${path}": it is a directory`);
  } catch (error) {
    if (error instanceof CollectError) throw error;
    throw new CollectError(`Cannot read dump "${path}": ${errorWords(error)}`, { cause: error });
  }
}

/** A dump opened for reading: what it is, and its text from the start. */
interface OpenedDump {
  readonly sniff: SniffResult;
  readonly readerOptions: DumpReaderOptions;
  readonly chunks: AsyncIterable<string>;
}

async function* prepend(head: string, it: AsyncIterator<string>, done: boolean): AsyncGenerator<string> {
  if (head.length > 0) yield head;
  if (done) return;
  for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
}

function truncatedMessage(t: Truncation): string {
  return (
    `Cannot parse dump at line ${t.lastLine}: the dump ends inside table "${t.table}" (opened at line ${t.openedAt}) ` +
    "without COMMIT: it is truncated (a paste cut short?); take the whole iptables-save output, as a file"
  );
}

async function openDump(path: string, options: StreamDumpOptions): Promise<OpenedDump> {
  await checkReadable(path);
  const it = readTextChunks(path)[Symbol.asyncIterator]();
  let head = "";
  let done = false;
  while (head.length < HEAD_CHARS) {
    const next = await it.next();
    if (next.done) {
      done = true;
      break;
    }
    head += next.value;
  }
  const sniff = sniffDumpFormat(head, {
    ...(options.table === undefined ? {} : { table: options.table }),
    complete: done,
  });
  const t = sniff.truncated;
  if (t !== undefined && options.allowTruncated !== true)
    throw new DumpSyntaxError(truncatedMessage(t), { line: t.lastLine, column: 1 });
  if (t?.cutLine !== undefined) {
    // The whole input is in `head`: drop the cut last line (and what follows it, blank lines).
    let at = 0;
    for (let n = 1; n < t.cutLine; n++) at = head.indexOf("\n", at) + 1;
    head = head.slice(0, at);
  }
  const readerOptions: DumpReaderOptions = {
    ...(sniff.table === undefined ? {} : { table: sniff.table }),
    ...(sniff.format === "rule-lines" ? { implicitChains: true } : {}),
  };
  return { sniff, readerOptions, chunks: prepend(head, it, done) };
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
 * Streams a dump file (or stdin for "-") through a {@linkcode DumpReader} with the given handler
 * (see the file comment). Memory stays bounded by what the handler keeps.
 *
 * @throws {CollectError} When the file cannot be read.
 * @throws {DumpSyntaxError} When the text is not a dump (with what it is, and what to run instead).
 */
export async function streamDump(
  path: string,
  handler: DumpHandler,
  options: StreamDumpOptions = {},
): Promise<DumpReader> {
  const opened = await openDump(path, options);
  const reader = new DumpReader(handler, { ...options, ...opened.readerOptions });
  for (const notice of opened.sniff.notices) handler.warning?.(notice);
  let last = "";
  for await (const chunk of opened.chunks) {
    reader.push(chunk);
    if (chunk.length > 0) last = chunk;
  }
  const open = reader.openTable;
  if (open !== undefined && options.allowTruncated === true) {
    reader.push(last === "" || last.endsWith("\n") ? "COMMIT\n" : "\nCOMMIT\n");
    const tail = last.trimEnd();
    const text = tail.slice(tail.lastIndexOf("\n") + 1);
    const t = opened.sniff.truncated;
    const line = t !== undefined && t.cutLine === undefined ? t.lastLine : reader.lineCount - 1;
    handler.warning?.(truncatedWarning(open, { line, text }, t));
  }
  reader.end();
  return reader;
}

/**
 * Reads and parses a dump file (or stdin for "-"), as {@linkcode streamDump} reads it; a truncated
 * dump is refused.
 */
export async function readDump(path: string, options: ParseDumpOptions = {}): Promise<Ruleset> {
  const opened = await openDump(path, options);
  const ruleset = await parseDumpStream(opened.chunks, { ...options, ...opened.readerOptions });
  if (opened.sniff.notices.length === 0) return ruleset;
  ruleset.warnings.push(...opened.sniff.notices);
  ruleset.warnings.sort((a, b) => a.line - b.line);
  return ruleset;
}
