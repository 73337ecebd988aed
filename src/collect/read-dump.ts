/**
 * The reading edge for dumps: every command that reads an iptables-save file (scan, fix, trace,
 * report, diagnose's bundle nodes) gets its bytes from {@linkcode dumpChunks} and reads them in one
 * streaming pass, with as many handlers as it needs composed on that pass.
 */
import { stat } from "node:fs/promises";
import { RuleSignatureScanner, type SignatureHit } from "../known-bugs/rule-signatures.ts";
import type { Ruleset } from "../model/ruleset.ts";
import { composeHandlers } from "../parse/compose-handlers.ts";
import { type DumpHandler, DumpReader, type DumpReaderOptions } from "../parse/dump-reader.ts";
import { type ParseDumpOptions, RulesetBuilder } from "../parse/parse-dump.ts";
import { type NodeScan, NodeScanner, rulesInBytes } from "../scan/scan-node.ts";
import { CollectError } from "./collect-error.ts";
import { readByteChunks } from "./read-byte-chunks.ts";

/**
 * The bytes of a dump file (or stdin for "-"), in chunks. `reuse` is for handlers that keep nothing
 * of a chunk (see {@linkcode readByteChunks}).
 */
export function dumpChunks(
  path: string,
  options: { readonly reuse?: boolean } = {},
): AsyncIterable<Uint8Array> {
  return readByteChunks(path, options);
}

/** Fails with one clear line when `path` is not a readable file. */
export async function checkReadable(path: string): Promise<void> {
  if (path === "-") return;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new CollectError(`Cannot read dump "${path}": it is a directory`);
  } catch (error) {
    if (error instanceof CollectError) throw error;
    throw new CollectError(
      `Cannot read dump "${path}": ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      {
        cause: error,
      },
    );
  }
}

/** Options of {@linkcode streamDump}. */
export interface StreamDumpOptions extends DumpReaderOptions {
  /** The handler keeps nothing of a chunk after the next one is read (a scan): chunks may be reused. */
  readonly reuse?: boolean;
}

/**
 * Streams a dump file (or stdin for "-") through a {@linkcode DumpReader} with the given handler.
 * Memory stays bounded by what the handler keeps.
 */
export async function streamDump(
  path: string,
  handler: DumpHandler,
  options: StreamDumpOptions = {},
): Promise<DumpReader> {
  await checkReadable(path);
  const reader = new DumpReader(handler, options);
  for await (const chunk of dumpChunks(path, { reuse: options.reuse === true })) reader.push(chunk);
  reader.end();
  return reader;
}

/** About how many rules a dump file holds, from its size (undefined for stdin or an unreadable file). */
async function expectedRules(path: string): Promise<number | undefined> {
  if (path === "-") return undefined;
  const size = await stat(path).then(
    (s) => s.size,
    () => 0,
  );
  return size > 0 ? rulesInBytes(size) : undefined;
}

/** Reads and parses a dump file (or stdin for "-"). */
export async function readDump(path: string, options: ParseDumpOptions = {}): Promise<Ruleset> {
  const expected = options.expectedRules ?? (await expectedRules(path));
  const builder = new RulesetBuilder(
    expected === undefined ? options : { ...options, expectedRules: expected },
  );
  const reader = await streamDump(path, builder.handler, options);
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
 * the file is read once and its text is held once (by the ruleset, as its evidence).
 */
export async function readAndScanDump(
  path: string,
  meta: { readonly node: string; readonly file: string },
  options: ParseDumpOptions = {},
): Promise<ScannedDump> {
  const expected = options.expectedRules ?? (await expectedRules(path));
  const builder = new RulesetBuilder(
    expected === undefined ? options : { ...options, expectedRules: expected },
  );
  const scanner = new NodeScanner(expected === undefined ? {} : { expectedRules: expected });
  const signatures = new RuleSignatureScanner();
  const reader = await streamDump(
    path,
    composeHandlers(builder.handler, scanner.handler, signatures.handler),
    options,
  );
  return {
    ruleset: builder.finish(reader),
    scan: scanner.finish({ ...meta, header: reader.header }),
    signatures: signatures.hits,
  };
}
