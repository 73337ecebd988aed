/**
 * The reading edge of dumps: every command that reads an iptables-save file (scan, fix, trace,
 * report, diagnose's bundle nodes) reads it here, in one streaming pass over its bytes with as many
 * handlers as it needs composed on that pass. The file (or stdin) is decoded to UTF-8 bytes (gzip,
 * byte order marks, UTF-16; see read-utf8-chunks.ts), its first megabyte is sniffed
 * (parse/sniff-format.ts: `iptables -S` and grepped rules are read with their table, pasted listings
 * and wrapped pastes are refused with a hint) and the bytes go to a {@linkcode DumpReader}.
 */
import { stat } from "node:fs/promises";
import { RuleSignatureScanner, type SignatureHit } from "../known-bugs/rule-signatures.ts";
import type { Ruleset } from "../model/ruleset.ts";
import { composeHandlers } from "../parse/compose-handlers.ts";
import { type DumpHandler, DumpReader, type DumpReaderOptions } from "../parse/dump-reader.ts";
import { DumpSyntaxError } from "../parse/dump-syntax-error.ts";
import { type ParseDumpOptions, RulesetBuilder } from "../parse/parse-dump.ts";
import { type SniffResult, sniffDumpFormat } from "../parse/sniff-format.ts";
import { type NodeScan, NodeScanner, rulesInBytes } from "../scan/scan-node.ts";
import { CollectError } from "./collect-error.ts";
import { closeTruncated, LastLine, truncatedMessage } from "./dump-truncation.ts";
import { errorWords } from "./errno-words.ts";
import { prepend, readUtf8Chunks } from "./read-utf8-chunks.ts";

/** Bytes sniffed before reading: enough for every format's tell-tale lines and a whole paste. */
const HEAD_BYTES = 1 << 20;

/** Options of {@linkcode streamDump}. */
export interface StreamDumpOptions extends DumpReaderOptions {
  /**
   * Read a dump whose last table has no COMMIT (a paste cut short) as far as it goes, with a
   * `truncated` warning, instead of refusing it. For counting (`scan`), never for a fix plan.
   */
  readonly allowTruncated?: boolean;
  /** The handler keeps nothing of a chunk after the next one is read (a scan): chunks may be reused. */
  readonly reuse?: boolean;
}

/** Fails with one clear line when `path` is not a readable file. */
export async function checkReadable(path: string): Promise<void> {
  if (path === "-") return;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new CollectError(`Cannot read dump "${path}": it is a directory`);
  } catch (error) {
    if (error instanceof CollectError) throw error;
    throw new CollectError(`Cannot read dump "${path}": ${errorWords(error)}`, { cause: error });
  }
}

/** A dump opened for reading: what it is, and its bytes from the start. */
interface OpenedDump {
  readonly sniff: SniffResult;
  readonly readerOptions: DumpReaderOptions;
  readonly chunks: AsyncIterable<Uint8Array>;
}

/**
 * The first {@linkcode HEAD_BYTES} (or more: whole chunks) of the input. One chunk that is long
 * enough is used as is; shorter ones are copied together (a reused buffer changes on the next read).
 */
async function readHead(it: AsyncIterator<Uint8Array>): Promise<{ head: Uint8Array; done: boolean }> {
  const parts: Buffer[] = [];
  let size = 0;
  while (size < HEAD_BYTES) {
    const next = await it.next();
    if (next.done) return { head: parts.length === 1 ? parts[0]! : Buffer.concat(parts), done: true };
    if (size === 0 && next.value.length >= HEAD_BYTES) return { head: next.value, done: false };
    parts.push(Buffer.from(next.value));
    size += next.value.length;
  }
  return { head: Buffer.concat(parts), done: false };
}

async function openDump(path: string, options: StreamDumpOptions): Promise<OpenedDump> {
  await checkReadable(path);
  const it = readUtf8Chunks(path, { reuse: options.reuse === true })[Symbol.asyncIterator]();
  let { head, done } = await readHead(it);
  // A whole input is sniffed whole (its end tells a truncated paste); a longer one by its head.
  const sniffed = done ? head.length : Math.min(head.length, HEAD_BYTES);
  const text = Buffer.from(head.buffer, head.byteOffset, sniffed).toString("utf8");
  const sniff = sniffDumpFormat(text, {
    ...(options.table === undefined ? {} : { table: options.table }),
    complete: done,
  });
  const t = sniff.truncated;
  if (t !== undefined && options.allowTruncated !== true)
    throw new DumpSyntaxError(truncatedMessage(t), { line: t.lastLine, column: 1 });
  if (t?.cutLine !== undefined) {
    // The whole input is in `head`: drop the cut last line (and what follows it, blank lines).
    let at = 0;
    for (let n = 1; n < t.cutLine; n++) at = head.indexOf(10, at) + 1;
    head = head.subarray(0, at);
  }
  const readerOptions: DumpReaderOptions = {
    ...(sniff.table === undefined ? {} : { table: sniff.table }),
    ...(sniff.format === "rule-lines" ? { implicitChains: true } : {}),
  };
  return { sniff, readerOptions, chunks: prepend(head, it, done) };
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
  const truncated = options.allowTruncated === true;
  const last = truncated ? new LastLine() : undefined;
  for await (const chunk of opened.chunks) {
    reader.push(chunk);
    last?.see(chunk);
  }
  if (last !== undefined) closeTruncated(reader, { handler, last, truncation: opened.sniff.truncated });
  reader.end();
  return reader;
}

/** The size of a dump file (undefined for stdin, an empty or an unreadable file). */
export async function dumpBytes(path: string): Promise<number | undefined> {
  if (path === "-") return undefined;
  const size = await stat(path).then(
    (s) => s.size,
    () => 0,
  );
  return size > 0 ? size : undefined;
}

/** About how many rules a dump file holds, from its size (undefined for stdin or an unreadable file). */
async function expectedRules(path: string): Promise<number | undefined> {
  const size = await dumpBytes(path);
  return size === undefined ? undefined : rulesInBytes(size);
}

/**
 * A ruleset builder sized for the file, that keeps its own copy of the rules' lines: the file is then
 * read into one reused buffer, and a leak's copies are not held at all (see `reusedChunks`).
 */
function builderFor(options: ParseDumpOptions, expected: number | undefined): RulesetBuilder {
  return new RulesetBuilder({
    ...options,
    reusedChunks: true,
    ...(expected === undefined ? {} : { expectedRules: expected }),
  });
}

/**
 * Reads and parses a dump file (or stdin for "-"), as {@linkcode streamDump} reads it; a truncated
 * dump is refused.
 */
export async function readDump(path: string, options: ParseDumpOptions = {}): Promise<Ruleset> {
  const builder = builderFor(options, options.expectedRules ?? (await expectedRules(path)));
  const reader = await streamDump(path, builder.handler, { ...options, reuse: true });
  return builder.finish(reader);
}

/** What {@linkcode readAndScanDump} gives: the parsed dump and its scan, from one pass. */
export interface ScannedDump {
  readonly ruleset: Ruleset;
  readonly scan: NodeScan;
  readonly signatures: readonly SignatureHit[];
}

/**
 * Parses a dump and scans it (counts, duplicates, known-bug signatures) in the same single pass, so
 * the file is read once and its text is held once (by the ruleset, as its evidence); a truncated
 * dump is refused.
 */
export async function readAndScanDump(
  path: string,
  meta: { readonly node: string; readonly file: string },
  options: ParseDumpOptions = {},
): Promise<ScannedDump> {
  const size = await dumpBytes(path);
  const expected = options.expectedRules ?? (size === undefined ? undefined : rulesInBytes(size));
  const builder = builderFor(options, expected);
  const scanner = new NodeScanner({
    ...(options.expectedRules === undefined ? {} : { expectedRules: options.expectedRules }),
    ...(size === undefined ? {} : { expectedBytes: size }),
  });
  const signatures = new RuleSignatureScanner();
  const handler = composeHandlers(builder.handler, scanner.handler, signatures.handler);
  const reader = await streamDump(path, handler, { ...options, reuse: true });
  return {
    ruleset: builder.finish(reader),
    scan: scanner.finish({ ...meta, header: reader.header }),
    signatures: signatures.hits,
  };
}
