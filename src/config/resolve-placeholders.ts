import type { OriginPart, Unresolved } from "./config-types.ts";

/** Where a text came from, before it is cut into parts. */
export type TextOrigin = Omit<OriginPart, "part">;

/** What a placeholder name resolves to. */
export type LookupResult =
  | { readonly kind: "value"; readonly raw: string; readonly origin: TextOrigin; readonly key: string }
  /** Set, but its value is not known to netdoctor (a Secret, a fieldRef it cannot read). */
  | { readonly kind: "hidden"; readonly reason: "secret" | "unknown-env"; readonly detail: string };

export type Lookup = (name: string) => LookupResult | undefined;

export interface ResolveOptions {
  readonly lookup: Lookup;
  /**
   * The escape character before `${` or `:` (Spring Framework 6.2+, Boot 3.4+: `\`).
   * `undefined` for older versions, where `\${a}` is a backslash followed by the value of `a`.
   */
  readonly escape?: string | undefined;
  /** Key used to detect cycles through the property itself (its uniform name). */
  readonly self?: string;
  /** Maps a name to the identity used for cycle detection (relaxed names of one property are equal). */
  readonly identity?: (name: string) => string;
}

export interface Resolution {
  readonly value: string;
  readonly parts: readonly OriginPart[];
  readonly problems: readonly Omit<Unresolved, "property">[];
}

/** Resolution stops when a value grows beyond 64 KiB (nested references can double at every level). */
const MAX_LENGTH = 1 << 16;
const MAX_DEPTH = 32;

interface State {
  readonly opts: ResolveOptions;
  readonly problems: Omit<Unresolved, "property">[];
  length: number;
  stopped: boolean;
}

interface Piece {
  text: string;
  origin: TextOrigin;
}

/** Index of the `}` closing a placeholder whose content starts at `from`, or -1 (Spring counts `{` too). */
function findEnd(text: string, from: number): number {
  let depth = 0;
  for (let j = from; j < text.length; j++) {
    const c = text[j];
    if (c === "{") depth++;
    else if (c === "}") {
      if (depth === 0) return j;
      depth--;
    }
  }
  return -1;
}

/** Index of the first `:` outside nested placeholders and not escaped, or -1. */
function findSeparator(content: string, esc: string | undefined): number {
  let depth = 0;
  for (let j = 0; j < content.length; j++) {
    const c = content[j];
    if (esc !== undefined && c === esc && (content[j + 1] === ":" || content.startsWith("${", j + 1))) {
      j++;
      continue;
    }
    if (c === "{") depth++;
    else if (c === "}") depth--;
    else if (c === ":" && depth === 0) return j;
  }
  return -1;
}

function unescapeSeparator(s: string, esc: string | undefined): string {
  return esc === undefined ? s : s.split(`${esc}:`).join(":");
}

function emit(out: Piece[], text: string, origin: TextOrigin, st: State): void {
  if (text === "") return;
  st.length += text.length;
  const last = out[out.length - 1];
  if (last && last.origin === origin) last.text += text;
  else out.push({ text, origin });
}

function resolveText(
  text: string,
  origin: TextOrigin,
  visiting: readonly string[],
  st: State,
  out: Piece[],
): void {
  const esc = st.opts.escape;
  let literal = "";
  let i = 0;
  while (i < text.length) {
    if (st.length > MAX_LENGTH) {
      if (!st.stopped) {
        st.problems.push({
          reason: "cycle",
          message: `Resolution stopped: value longer than ${MAX_LENGTH} characters`,
        });
      }
      st.stopped = true;
      return;
    }
    if (esc !== undefined && text[i] === esc && text.startsWith("${", i + 1)) {
      literal += "${";
      i += 3;
      continue;
    }
    if (!text.startsWith("${", i)) {
      // Copy the run of plain text up to the next placeholder or escape in one step.
      let next = text.indexOf("${", i + 1);
      if (next < 0) next = text.length;
      if (esc !== undefined) {
        const at = text.indexOf(esc, i + 1);
        if (at >= 0 && at < next) next = at;
      }
      literal += text.slice(i, next);
      i = next;
      continue;
    }
    const end = findEnd(text, i + 2);
    if (end < 0) {
      st.problems.push({
        reason: "unterminated",
        message: `Unterminated placeholder "${text.slice(i)}": no closing "}", kept as text`,
        ...location(origin),
      });
      literal += text.slice(i);
      break;
    }
    emit(out, literal, origin, st);
    literal = "";
    resolvePlaceholder(text.slice(i + 2, end), origin, visiting, st, out);
    i = end + 1;
  }
  emit(out, literal, origin, st);
}

function location(origin: TextOrigin): { file?: string; line?: number } {
  return {
    ...(origin.file === undefined ? {} : { file: origin.file }),
    ...(origin.line === undefined ? {} : { line: origin.line }),
  };
}

function resolvePlaceholder(
  content: string,
  origin: TextOrigin,
  visiting: readonly string[],
  st: State,
  out: Piece[],
): void {
  const { lookup } = st.opts;
  const esc = st.opts.escape;
  const identity = st.opts.identity ?? ((n: string) => n);
  const raw = `\${${content}}`;
  if (visiting.length > MAX_DEPTH) {
    st.problems.push({
      reason: "cycle",
      message: `Placeholders nested deeper than ${MAX_DEPTH} at "${raw}"`,
    });
    emit(out, raw, origin, st);
    return;
  }
  const sep = findSeparator(content, esc);
  const keyText = sep < 0 ? content : content.slice(0, sep);
  const defaultText = sep < 0 ? undefined : content.slice(sep + 1);
  // The key itself may hold placeholders (`${prefix.${suffix}}`): resolve them to a plain name.
  const keyPieces: Piece[] = [];
  resolveText(keyText, origin, visiting, st, keyPieces);
  const key = unescapeSeparator(keyPieces.map((p) => p.text).join(""), esc);
  // Spring 6.2 first tries the whole text as a key (`${db:url}` may be a property named `db:url`).
  const found =
    (sep >= 0 && !content.includes("${") ? lookup(unescapeSeparator(content, esc)) : undefined) ??
    lookup(key);
  if (found?.kind === "value") {
    const id = identity(found.key);
    if (visiting.includes(id)) {
      const chain = [...visiting.slice(visiting.indexOf(id)), id].join(" -> ");
      st.problems.push({
        placeholder: key,
        reason: "cycle",
        message: `Circular placeholder reference "${key}": ${chain}`,
        ...location(origin),
      });
      emit(out, raw, origin, st);
      return;
    }
    // An environment value keeps where its placeholder was written, for evidence.
    const written = found.origin.from === "env" ? location(origin) : {};
    const inner: TextOrigin = {
      ...found.origin,
      placeholder: key,
      ...written,
      ...(found.origin.from === "env" && defaultText !== undefined ? { overrides: defaultText } : {}),
    };
    resolveText(found.raw, inner, [...visiting, id], st, out);
    return;
  }
  if (found?.kind === "hidden") {
    st.problems.push({ placeholder: key, reason: found.reason, message: found.detail, ...location(origin) });
    emit(out, raw, origin, st);
    return;
  }
  if (defaultText !== undefined) {
    const { env: _e, envSource: _s, overrides: _o, property: _p, ...where } = origin;
    resolveText(defaultText, { ...where, from: "default", placeholder: key }, visiting, st, out);
    return;
  }
  st.problems.push({
    placeholder: key,
    reason: "unresolvable",
    message: `Could not resolve placeholder "${key}": no property, environment variable or default`,
    ...location(origin),
  });
  emit(out, raw, origin, st);
}

/**
 * Resolves `${...}` placeholders in a value as Spring's `PlaceholderParser` does, remembering for
 * every part of the result where it came from. Unresolvable placeholders, unterminated ones and
 * cycles are returned as problems and the placeholder text is kept (Spring Boot's binder also keeps
 * unresolvable placeholders as text; it fails on cycles, which are reported here instead).
 */
export function resolvePlaceholders(raw: string, origin: TextOrigin, options: ResolveOptions): Resolution {
  const st: State = { opts: options, problems: [], length: 0, stopped: false };
  const pieces: Piece[] = [];
  resolveText(raw, origin, options.self === undefined ? [] : [options.self], st, pieces);
  return {
    value: pieces.map((p) => p.text).join(""),
    parts: pieces.map((p) => ({ part: p.text, ...p.origin })),
    problems: st.problems,
  };
}
