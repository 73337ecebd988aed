/**
 * The one escaping function for text that reaches a terminal. Dumps, API objects and config files
 * are hostile input: a comment may hold an escape sequence that recolours or clears the screen, a
 * newline that forges a `VERDICT: OK` line at column 0, or a bidirectional control that makes a line
 * read differently from what it holds (CVE-2021-42574, "Trojan Source"). Every text renderer sends
 * values from input through {@linkcode terminalSafe}; JSON and YAML are safe by construction and HTML
 * has its own escaping (report/html/escape.ts).
 */

/**
 * Characters a terminal would act on rather than show: C0 controls (tab, newline and carriage return
 * included: a value must stay on its line), DEL, C1 controls (U+0080-U+009F, NEL and CSI among them),
 * the Unicode bidirectional controls (ALM, LRM, RLM, LRE..RLO, LRI..PDI), the line and paragraph
 * separators, zero-width characters and the byte-order mark, which hide text.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/**
 * Makes a value from input safe to print on a terminal: every character a terminal would interpret
 * is shown as an escape (`\t`, `\n`, `\r`, `\x1b`, `\u202e`), everything else is kept as it is.
 *
 * @example
 * ```ts
 * terminalSafe("a\x1b[31mb\nVERDICT: OK"); // "a\\x1b[31mb\\nVERDICT: OK"
 * ```
 */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

function escapeChar(c: string): string {
  if (c === "\t") return "\\t";
  if (c === "\n") return "\\n";
  if (c === "\r") return "\\r";
  const code = c.charCodeAt(0);
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * {@linkcode terminalSafe}, then clipped to at most `max` characters with `...`, never cutting an
 * escape in half (the full text stays in JSON output).
 */
export function clipText(text: string, max = 160): string {
  const safe = terminalSafe(text);
  if (safe.length <= max) return safe;
  let out = "";
  for (const ch of text) {
    const piece = terminalSafe(ch);
    if (out.length + piece.length > max - 3) break;
    out += piece;
  }
  return `${out}...`;
}
