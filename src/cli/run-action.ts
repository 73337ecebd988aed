import type { Command } from "commander";
import { CollectError } from "../collect/collect-error.ts";
import { ConfigSyntaxError } from "../config/config-syntax-error.ts";
import { QuestionError } from "../diagnose/question-error.ts";
import { DumpSyntaxError } from "../parse/dump-syntax-error.ts";
import { EXIT_USAGE, UsageError } from "./exit-codes.ts";

/**
 * What the user can fix: bad flags, input that is not what it should be, a file or API that cannot
 * be used. Told by netdoctor's own error classes, never by a built-in type: a `SyntaxError` or
 * `RangeError` thrown by a bug must not pass for the user's mistake.
 */
export function isUserError(error: unknown): boolean {
  return (
    error instanceof UsageError ||
    error instanceof CollectError ||
    error instanceof DumpSyntaxError ||
    error instanceof ConfigSyntaxError ||
    error instanceof QuestionError
  );
}

/** `netdoctor fix duplicates` for the command the action belongs to (commander passes it last). */
function commandPath(args: readonly unknown[]): string {
  const last = args.at(-1) as Command | undefined;
  if (last === undefined || typeof last !== "object" || typeof last.name !== "function") return "netdoctor";
  const names: string[] = [];
  for (let c: Command | null = last; c !== null; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/**
 * Longest user-error message printed whole. Messages quote input by a short clip; one longer than
 * this quotes some unclipped (a 1 MB rule line, say), and is cut so that it stays one readable line.
 */
const MAX_MESSAGE = 1000;

function bounded(message: string): string {
  if (message.length <= MAX_MESSAGE) return message;
  // Not between the two halves of a surrogate pair.
  const cut = /[\uD800-\uDBFF]/.test(message[MAX_MESSAGE - 1]!) ? MAX_MESSAGE - 1 : MAX_MESSAGE;
  return `${message.slice(0, cut)}... (${message.length - cut} more characters)`;
}

/**
 * The lines printed for an error that ended a command: one line for a user error (plus where the
 * flags are explained for a usage error), the stack for anything else, which is a bug.
 */
export function errorReport(error: unknown, command = "netdoctor"): string {
  if (isUserError(error)) {
    const message = bounded((error as Error).message);
    const see = error instanceof UsageError ? `\nsee '${command} --help'` : "";
    const stack = process.env.NETDOCTOR_DEBUG ? `\n${(error as Error).stack}` : "";
    return `netdoctor: ${message}${see}${stack}\n`;
  }
  const detail = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  return `netdoctor: internal error, please report it with the command line and this text:\n${detail}\n`;
}

/**
 * Wraps a command's action: its resolved number is the exit code; a user error prints one line and
 * exits 2; anything else is a bug and prints its stack (exit 2 as well: the command did not run).
 */
export function runAction<A extends unknown[]>(
  fn: (...args: A) => Promise<number>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      process.exitCode = await fn(...args);
    } catch (error) {
      process.exitCode = EXIT_USAGE;
      process.stderr.write(errorReport(error, commandPath(args)));
    }
  };
}
