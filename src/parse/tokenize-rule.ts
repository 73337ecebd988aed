import { DumpSyntaxError } from "./dump-syntax-error.ts";

/** A word of a rule line, unquoted, with where it started. */
export interface RuleToken {
  readonly value: string;
  /** True when any part of the word was inside double quotes: then it is always data, never an option. */
  readonly quoted: boolean;
  /** 0-based offset in the line where the word starts. */
  readonly offset: number;
}

/**
 * Splits a rule line into words the way `iptables-restore` does: white space
 * separates words, double quotes group (and may open mid-word), and inside
 * quotes a backslash escapes the next character. Single quotes are not special.
 *
 * @param text The rule text, e.g. `-A X -m comment --comment "a b" -j ACCEPT`.
 * @param line The 1-indexed dump line, for errors.
 * @throws {DumpSyntaxError} When a quote is not closed.
 */
export function tokenizeRule(text: string, line: number): RuleToken[] {
  const tokens: RuleToken[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    let c = text.charCodeAt(i);
    if (c === 32 || c === 9) {
      i++;
      continue;
    }
    const start = i;
    // Fast path: a plain word with no quote in it.
    let j = i;
    while (j < n) {
      c = text.charCodeAt(j);
      if (c === 32 || c === 9 || c === 34) break;
      j++;
    }
    if (j >= n || c !== 34) {
      tokens.push({ value: text.slice(start, j), quoted: false, offset: start });
      i = j;
      continue;
    }
    // Slow path: the word has quotes.
    let value = text.slice(start, j);
    let inQuote = false;
    let quoted = false;
    let quoteStart = j;
    i = j;
    while (i < n) {
      c = text.charCodeAt(i);
      if (inQuote) {
        if (c === 92 && i + 1 < n) {
          value += text[i + 1];
          i += 2;
          continue;
        }
        if (c === 34) {
          inQuote = false;
          i++;
          continue;
        }
        value += text[i];
        i++;
        continue;
      }
      if (c === 32 || c === 9) break;
      if (c === 34) {
        inQuote = true;
        quoted = true;
        quoteStart = i;
        i++;
        continue;
      }
      value += text[i];
      i++;
    }
    if (inQuote) {
      throw new DumpSyntaxError(
        `Cannot parse rule at line ${line}: quote opened at column ${quoteStart + 1} is not closed`,
        { line, column: quoteStart + 1 },
      );
    }
    tokens.push({ value, quoted, offset: start });
  }
  return tokens;
}
