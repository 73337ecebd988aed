/**
 * Escaping for every context the HTML report writes data into. Everything that comes from a dump or a
 * bundle (rule text and comments, chain, pod, Service and node names) is hostile: it may contain markup
 * meant to run script in the reader's browser. The report never writes data into CSS, URLs or event
 * handler attributes; these functions cover the contexts it does use.
 */

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
  "\u0000": "\uFFFD",
};

/**
 * Escapes text for HTML (and inline SVG) element content and for quoted attribute values.
 * Quotes are escaped too, so one function serves both contexts; NUL, which the HTML parser would
 * drop or replace unpredictably, becomes U+FFFD.
 *
 * @example
 * ```ts
 * escapeHtml('"><img src=x>'); // "&quot;&gt;&lt;img src=x&gt;"
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'\u0000]/g, (c) => HTML_ESCAPES[c] ?? c);
}

const SCRIPT_ESCAPES: Readonly<Record<string, string>> = {
  "<": "\\u003c",
  ">": "\\u003e",
  "&": "\\u0026",
  "\u2028": "\\u2028",
  "\u2029": "\\u2029",
};

/**
 * Serialises data as JSON that is safe inside a `<script type="application/json">` element:
 * `<`, `>` and `&` become `\u003c`-style escapes so no `</script>` or `<!--` can end or bend the
 * element, and U+2028/U+2029 are escaped so the text is also a valid JavaScript literal.
 * `JSON.parse` of the element's text returns the data unchanged.
 */
export function jsonForScript(data: unknown): string {
  return JSON.stringify(data).replace(/[<>&\u2028\u2029]/g, (c) => SCRIPT_ESCAPES[c] ?? c);
}
