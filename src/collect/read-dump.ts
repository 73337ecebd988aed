import { stat } from "node:fs/promises";
import type { Ruleset } from "../model/ruleset.ts";
import { type DumpHandler, DumpReader, type DumpReaderOptions } from "../parse/dump-reader.ts";
import { type ParseDumpOptions, parseDumpStream } from "../parse/parse-dump.ts";
import { CollectError } from "./collect-error.ts";
import { readTextChunks } from "./read-text-chunks.ts";

function open(path: string): AsyncIterable<string> {
  return readTextChunks(path);
}

async function checkReadable(path: string): Promise<void> {
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

/**
 * Streams a dump file (or stdin for "-") through a {@linkcode DumpReader} with the given handler.
 * Memory stays bounded by what the handler keeps.
 */
export async function streamDump(
  path: string,
  handler: DumpHandler,
  options: DumpReaderOptions = {},
): Promise<DumpReader> {
  await checkReadable(path);
  const reader = new DumpReader(handler, options);
  for await (const chunk of open(path)) reader.push(chunk);
  reader.end();
  return reader;
}

/** Reads and parses a dump file (or stdin for "-"). */
export async function readDump(path: string, options: ParseDumpOptions = {}): Promise<Ruleset> {
  await checkReadable(path);
  return parseDumpStream(open(path), options);
}
