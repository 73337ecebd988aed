/**
 * Process exit codes, the same for every command (README "Exit codes", docs/findings.md#exit-codes).
 */
import type { Verdict } from "../model/diagnosis.ts";

/** Proven OK: reachable, healthy (at-risk links are shown, not failed). */
export const EXIT_OK = 0;
/** The command ran and found problems: a link is proven broken. */
export const EXIT_PROBLEMS = 1;
/** Bad arguments or unreadable input. */
export const EXIT_USAGE = 2;
/** Not proven either way: evidence is missing (the output says what and how to get it). */
export const EXIT_UNDECIDED = 3;
/** Interrupted (Ctrl-C): 128 + SIGINT. */
export const EXIT_INTERRUPTED = 130;

/** The exit code of a verdict: 0 reachable/healthy, 1 broken, 3 undecided. */
export function exitCodeOf(verdict: Verdict): number {
  switch (verdict) {
    case "reachable":
      return EXIT_OK;
    case "broken":
      return EXIT_PROBLEMS;
    case "undecided":
      return EXIT_UNDECIDED;
    default: {
      const never: never = verdict;
      throw new TypeError(`Unknown verdict ${String(never)}`);
    }
  }
}

/** An error the CLI prints as one line and exits 2 for. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
