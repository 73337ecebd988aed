import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, gunzipSync } from "node:zlib";
import { CollectError } from "./collect-error.ts";
import { FRAME_HEADER } from "./collector-script.ts";
import { boundedText, type CommandResult } from "./command-result.ts";

interface Section {
  readonly stem: string;
  readonly stream: "stdout" | "stderr";
  readonly bytes: number;
  readonly base64: string[];
}

interface Partial {
  stdoutPath?: string;
  stdoutBytes?: number;
  stderr?: string;
}

/** Options of {@linkcode readFrames}. */
export interface ReadFramesOptions {
  /** Directory for the stdout temp files (created by the caller, mode 0700). */
  readonly dir: string;
  /** Where the frames come from, for error messages (e.g. `pod kube-system/netdoctor-...`). */
  readonly source: string;
}

function frameError(source: string, detail: string): CollectError {
  return new CollectError(`Cannot read collector output of ${source}: ${detail}`);
}

async function writeSection(section: Section, target: Partial, options: ReadFramesOptions): Promise<void> {
  // Compressed data is small (it fits in a kubelet log file); the decompressed stdout streams to disk.
  const compressed = Buffer.from(section.base64.join(""), "base64");
  let written = 0;
  if (section.stream === "stdout") {
    const path = join(options.dir, `${section.stem}.stdout.part`);
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        written += chunk.length;
        done(null, chunk);
      },
    });
    await pipeline(
      Readable.from([compressed]),
      createGunzip(),
      count,
      createWriteStream(path, { mode: 0o600 }),
    );
    target.stdoutPath = path;
    target.stdoutBytes = written;
  } else {
    const raw = gunzipSync(compressed);
    written = raw.length;
    target.stderr = boundedText([raw], raw.length);
  }
  if (written !== section.bytes) {
    throw frameError(
      options.source,
      `${section.stem} ${section.stream} has ${written} bytes, the node sent ${section.bytes} (output was cut)`,
    );
  }
}

/** Yields complete lines; a last line without its newline means the output was cut and yields `null`. */
async function* lines(source: AsyncIterable<Buffer | string>): AsyncGenerator<string | null> {
  let rest = "";
  for await (const chunk of source) {
    const text = rest + (typeof chunk === "string" ? chunk : chunk.toString("latin1"));
    const parts = text.split("\n");
    rest = parts.pop() ?? "";
    for (const p of parts) yield p.endsWith("\r") ? p.slice(0, -1) : p;
  }
  if (rest !== "") yield null;
}

/** The result of command `stem` once its `@@exit` line came (its output sections came before). */
function commandResult(
  stem: string,
  exit: number,
  partial: Map<string, Partial>,
  where: { readonly source: string; readonly line: number },
): CommandResult {
  const got = partial.get(stem);
  if (got?.stdoutPath === undefined || got.stderr === undefined) {
    throw frameError(where.source, `line ${where.line}: exit code of ${stem} before its output`);
  }
  partial.delete(stem);
  return { stem, exit, stdoutPath: got.stdoutPath, stdoutBytes: got.stdoutBytes ?? 0, stderr: got.stderr };
}

/**
 * Reads the framed output of the collector script (see {@linkcode collectorScript}) and returns one
 * result per command, stdout written to temp files. Throws a {@linkcode CollectError} when the
 * output is cut or malformed: a partial dump must never pass for a whole one.
 */
export async function readFrames(
  source: AsyncIterable<Buffer | string>,
  options: ReadFramesOptions,
): Promise<CommandResult[]> {
  const results: CommandResult[] = [];
  const partial = new Map<string, Partial>();
  let section: Section | undefined;
  let headerSeen = false;
  let done = false;
  let lineNo = 0;
  for await (const line of lines(source)) {
    lineNo++;
    if (line === null) break;
    if (section !== undefined) {
      if (line.startsWith("@@end ")) {
        if (line !== `@@end ${section.stem} ${section.stream}`) {
          throw frameError(
            options.source,
            `line ${lineNo}: expected "@@end ${section.stem} ${section.stream}"`,
          );
        }
        const target = partial.get(section.stem) ?? {};
        partial.set(section.stem, target);
        await writeSection(section, target, options);
        section = undefined;
      } else if (/^[A-Za-z0-9+/=]*$/.test(line)) {
        section.base64.push(line);
      } else {
        throw frameError(
          options.source,
          `line ${lineNo}: unexpected text inside ${section.stem} ${section.stream}`,
        );
      }
      continue;
    }
    if (line === FRAME_HEADER) {
      headerSeen = true;
      continue;
    }
    if (!headerSeen) continue; // anything the image prints before the script starts
    const begin = /^@@begin ([a-z0-9-]+) (stdout|stderr) (\d+)$/.exec(line);
    if (begin !== null) {
      section = {
        stem: begin[1]!,
        stream: begin[2] as "stdout" | "stderr",
        bytes: Number(begin[3]),
        base64: [],
      };
      continue;
    }
    const exit = /^@@exit ([a-z0-9-]+) (\d+)$/.exec(line);
    if (exit !== null) {
      results.push(
        commandResult(exit[1]!, Number(exit[2]), partial, { source: options.source, line: lineNo }),
      );
      continue;
    }
    if (line === "@@done") {
      done = true;
      break;
    }
    if (line.trim() === "") continue;
    throw frameError(options.source, `line ${lineNo}: unexpected "${line.slice(0, 80)}"`);
  }
  if (!headerSeen) throw frameError(options.source, "no netdoctor output (did the image run the script?)");
  if (!done) {
    throw frameError(
      options.source,
      "output ended early (the pod's log was cut: kubelet log rotation or a killed container)",
    );
  }
  return results;
}
