import { CollectError } from "../collect/collect-error.ts";
import { DumpSyntaxError } from "../parse/dump-syntax-error.ts";
import { EXIT_USAGE, UsageError } from "./exit-codes.ts";

/**
 * Wraps a command's action: its resolved number is the exit code; known input errors print one
 * line (`netdoctor: ...`) and exit 2; anything else is a bug and prints its stack.
 */
export function runAction<A extends unknown[]>(
  fn: (...args: A) => Promise<number>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      process.exitCode = await fn(...args);
    } catch (error) {
      process.exitCode = EXIT_USAGE;
      if (
        error instanceof UsageError ||
        error instanceof DumpSyntaxError ||
        error instanceof CollectError ||
        error instanceof SyntaxError ||
        error instanceof RangeError
      ) {
        process.stderr.write(`netdoctor: ${error.message}\n`);
        if (process.env.NETDOCTOR_DEBUG) process.stderr.write(`${error.stack}\n`);
        return;
      }
      process.stderr.write(
        `netdoctor: internal error: ${error instanceof Error ? error.stack : String(error)}\n`,
      );
    }
  };
}
