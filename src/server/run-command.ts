import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import { StringDecoder } from "node:string_decoder";
import { composeHandlers } from "../parse/compose-handlers.ts";
import { type DumpHandler, DumpReader } from "../parse/dump-reader.ts";

/** Why a save failed: the closed label set of `netdoctor_iptables_save_errors_total{reason}`. */
export type SaveErrorReason = "exit-code" | "timeout" | "parse-error" | "spawn-error" | "empty";

export const SAVE_ERROR_REASONS: readonly SaveErrorReason[] = [
  "exit-code",
  "timeout",
  "parse-error",
  "spawn-error",
  "empty",
];

/** stderr kept per command: enough for the error lines, bounded when a command floods it. */
const MAX_STDERR = 64 * 1024;

/** What running one command produced. */
export type CommandOutcome<T> =
  | { readonly ok: true; readonly value: T; readonly stderr: string; readonly seconds: number }
  | {
      readonly ok: false;
      readonly reason: SaveErrorReason;
      readonly message: string;
      readonly stderr: string;
      readonly exitCode?: number;
      readonly seconds: number;
    };

/** Options of {@linkcode runDumpCommand} and {@linkcode runTextCommand}. */
export interface RunOptions {
  /** The command is killed (with its whole process group) after this many milliseconds. */
  readonly timeoutMs: number;
}

interface Sink {
  /** Takes a chunk of stdout (raw bytes); a thrown error stops the command and becomes a parse error. */
  push(chunk: Buffer): void;
  /** Called after a clean exit; a thrown error becomes a parse error, or "empty" when it returns false. */
  end(): boolean;
}

/**
 * Runs `sh -c COMMAND` and streams its stdout into a {@linkcode DumpReader} with `handler`, so a
 * million-rule dump is never held as one string. Never throws: every failure is an outcome with a
 * reason from {@linkcode SAVE_ERROR_REASONS}.
 */
export function runDumpCommand(
  command: string,
  handler: DumpHandler,
  options: RunOptions,
): Promise<CommandOutcome<DumpReader>> {
  let tables = 0;
  const reader = new DumpReader(composeHandlers(handler, { table: () => void tables++ }));
  const sink: Sink = {
    push: (chunk) => reader.push(chunk),
    end: () => {
      // Only comments or blank lines (iptables-save with no tables loaded) is empty, not malformed.
      if (tables === 0) return false;
      reader.end();
      return true;
    },
  };
  return run(command, sink, options, () => reader);
}

/**
 * Runs `sh -c COMMAND` and returns its stdout as text, cut at `maxChars` (for `iptables --version`
 * and `nft list ruleset`, whose output the known-bug catalogue reads as text).
 */
export function runTextCommand(
  command: string,
  options: RunOptions & { readonly maxChars: number },
): Promise<CommandOutcome<string>> {
  const parts: string[] = [];
  let bytes = 0;
  const decoder = new StringDecoder("utf8");
  const take = (chunk: string) => {
    if (bytes < options.maxChars) parts.push(chunk.slice(0, options.maxChars - bytes));
    bytes += chunk.length;
  };
  const sink: Sink = {
    push: (raw) => take(decoder.write(raw)),
    end: () => {
      take(decoder.end());
      return true;
    },
  };
  return run(command, sink, options, () => parts.join(""));
}

type Failure = { reason: SaveErrorReason; message: string };

/** What a command that closed with `code`/`signal` produced, given what went wrong while it ran. */
function closedOutcome<T>(
  exit: { code: number | null; signal: NodeJS.Signals | null },
  state: { failure: Failure | undefined; stderr: string; seconds: number },
  sink: Sink,
  value: () => T,
): CommandOutcome<T> {
  const { failure, stderr, seconds } = state;
  const exitCode = exit.code === null ? {} : { exitCode: exit.code };
  if (failure !== undefined) return { ok: false, ...failure, stderr, seconds, ...exitCode };
  if (exit.code !== 0) {
    const how = exit.code === null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    const first = stderr.split("\n").find((l) => l.trim() !== "");
    const message = `the command ${how}${first === undefined ? "" : `: ${first.trim()}`}`;
    return { ok: false, reason: "exit-code", message, stderr, seconds, ...exitCode };
  }
  try {
    if (!sink.end())
      return { ok: false, reason: "empty", message: "the command printed no tables", stderr, seconds };
  } catch (error) {
    return { ok: false, reason: "parse-error", message: errorText(error), stderr, seconds };
  }
  return { ok: true, value: value(), stderr, seconds };
}

/** Kills the command's whole process group (it was started detached). */
function killGroup(child: ReturnType<typeof spawn>): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/**
 * Feeds the command's stdout to the sink one chunk per event-loop turn: libuv reads up to 32 chunks
 * in one go, and pausing after each lets a scrape that arrives during a million-rule parse be
 * answered between two chunks instead of after a long run of them. A sink that throws fails the run.
 */
function feedSink(
  stdout: NodeJS.ReadableStream,
  push: (chunk: Buffer) => void,
  fail: (failure: Failure) => boolean,
): void {
  const resume = () => stdout.resume();
  stdout.on("data", (chunk: Buffer) => {
    try {
      push(chunk);
    } catch (error) {
      fail({ reason: "parse-error", message: errorText(error) });
      return;
    }
    stdout.pause();
    setImmediate(resume);
  });
}

function run<T>(
  command: string,
  sink: Sink,
  options: RunOptions,
  value: () => T,
): Promise<CommandOutcome<T>> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  return new Promise((resolve) => {
    let stderr = "";
    let failure: Failure | undefined;
    let child: ReturnType<typeof spawn>;
    try {
      // detached: the command gets its own process group, so a timeout kills `sh` and its children.
      child = spawn("sh", ["-c", command], { stdio: ["ignore", "pipe", "pipe"], detached: true });
    } catch (error) {
      resolve({
        ok: false,
        reason: "spawn-error",
        message: errorText(error),
        stderr: "",
        seconds: seconds(),
      });
      return;
    }
    // The first failure wins; later output is ignored and the group is killed.
    const fail = (f: Failure): boolean => {
      if (failure !== undefined) return false;
      failure = f;
      killGroup(child);
      return true;
    };
    const timer = setTimeout(
      () => fail({ reason: "timeout", message: `timed out after ${options.timeoutMs} ms` }),
      options.timeoutMs,
    );
    let settled = false;
    const finish = (outcome: CommandOutcome<T>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    child.stderr!.setEncoding("utf8");
    // stdout stays bytes, not text: the dump reader decodes only the lines it needs.
    feedSink(
      child.stdout!,
      (chunk) => {
        if (failure === undefined) sink.push(chunk);
      },
      fail,
    );
    child.stderr!.on("data", (chunk: string) => {
      if (stderr.length < MAX_STDERR) stderr += chunk.slice(0, MAX_STDERR - stderr.length);
    });
    child.on("error", (error) => {
      failure ??= { reason: "spawn-error", message: errorText(error) };
      finish({ ok: false, ...failure, stderr, seconds: seconds() });
    });
    child.on("close", (code, signal) => {
      finish(closedOutcome({ code, signal }, { failure, stderr, seconds: seconds() }, sink, value));
    });
  });
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
