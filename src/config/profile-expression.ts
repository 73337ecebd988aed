/**
 * Spring's profile expressions (`Profiles.of`): a comma-separated list matches when any item
 * matches; an item may use `!`, `&`, `|` and parentheses (`prod & (eu | us)`).
 * Returns `undefined` for a malformed expression (Spring refuses to start with one).
 */
export function matchesProfiles(expression: string, active: ReadonlySet<string>): boolean | undefined {
  const items = expression
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  let any = false;
  for (const item of items) {
    const r = evaluate(item, active);
    if (r === undefined) return undefined;
    any ||= r;
  }
  return any;
}

function evaluate(expr: string, active: ReadonlySet<string>): boolean | undefined {
  const tokens = expr.match(/\(|\)|&|\||!|[^()&|!\s]+/g) ?? [];
  let pos = 0;
  const primary = (): boolean | undefined => {
    const t = tokens[pos++];
    if (t === undefined) return undefined;
    if (t === "!") {
      const v = primary();
      return v === undefined ? undefined : !v;
    }
    if (t === "(") {
      const v = expression();
      if (tokens[pos++] !== ")") return undefined;
      return v;
    }
    if (t === ")" || t === "&" || t === "|") return undefined;
    return active.has(t);
  };
  // Spring forbids mixing & and | without parentheses.
  const expression = (): boolean | undefined => {
    let v = primary();
    let op: string | undefined;
    while (tokens[pos] === "&" || tokens[pos] === "|") {
      const t = tokens[pos++]!;
      if (op !== undefined && op !== t) return undefined;
      op = t;
      const r = primary();
      if (v === undefined || r === undefined) return undefined;
      v = t === "&" ? v && r : v || r;
    }
    return v;
  };
  const v = expression();
  return pos === tokens.length ? v : undefined;
}
