import { terminalSafe } from "../text/terminal-safe.ts";

/** Options for {@linkcode DumpSyntaxError}. */
export interface DumpSyntaxErrorOptions {
  /** 1-indexed line of the offending text. */
  readonly line: number;
  /** 1-indexed column of the offending text. */
  readonly column: number;
  readonly cause?: unknown;
}

/**
 * Thrown when a dump is structurally broken: a rule outside a table, a missing
 * `COMMIT`, binary data, `nft list ruleset` output pasted by mistake...
 *
 * @example
 * ```ts
 * try { parseDump("-A INPUT -j ACCEPT\n"); } catch (e) { if (e instanceof DumpSyntaxError) console.log(e.line); }
 * ```
 */
export class DumpSyntaxError extends SyntaxError {
  readonly line: number;
  readonly column: number;

  constructor(message: string, options: DumpSyntaxErrorOptions) {
    // Messages quote dump text and end up on terminals: show control characters escaped.
    const safe = terminalSafe(message);
    super(safe, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "DumpSyntaxError";
    this.line = options.line;
    this.column = options.column;
  }
}
