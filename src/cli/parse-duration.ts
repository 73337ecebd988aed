import { UsageError } from "./exit-codes.ts";

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a flag's duration into milliseconds: `60s`, `1m30s`, `500ms`, `2h` (Prometheus/Go style),
 * or a plain number of seconds (`45`). `what` names the flag in the error.
 *
 * @throws {UsageError} When the text is not a positive duration.
 */
export function parseDuration(text: string, what: string): number {
  const plain = /^\d+(\.\d+)?$/.test(text) ? `${text}s` : text;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < plain.length) {
    re.lastIndex = at;
    const m = re.exec(plain);
    if (m === null) break;
    total += Number(m[1]) * UNITS[m[2]!]!;
    at = re.lastIndex;
  }
  if (plain === "" || at !== plain.length || !(total > 0)) {
    throw new UsageError(`Cannot use ${what} "${text}": expected a duration such as 60s, 1m30s or 500ms`);
  }
  return total;
}
