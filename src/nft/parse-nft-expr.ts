/**
 * libnftables JSON expressions and statements (libnftables-json(5) "STATEMENTS", "EXPRESSIONS") into
 * typed {@linkcode NftExpr} / {@linkcode NftStmt}. Whatever has no model becomes an `unsupported`
 * expression or an `other` statement that keeps its JSON: the rule is kept and evaluating it says
 * "cannot evaluate" instead of guessing.
 */
import type {
  NftBinaryOp,
  NftElement,
  NftExpr,
  NftMatchOp,
  NftNatType,
  NftStmt,
  NftVerdict,
} from "./nft-ruleset.ts";

type Json = unknown;

const BINOPS: readonly NftBinaryOp[] = ["&", "|", "^", "<<", ">>"];
const MATCH_OPS: Readonly<Record<string, NftMatchOp>> = {
  "==": "==",
  "!=": "!=",
  "<": "<",
  ">": ">",
  "<=": "<=",
  "⇐": "<=",
  ">=": ">=",
  in: "in",
};

function isObject(j: Json): j is Record<string, Json> {
  return typeof j === "object" && j !== null && !Array.isArray(j);
}

/** The one key of a `{ "kind": body }` object, or undefined when it is not one. */
function single(j: Json): [string, Json] | undefined {
  if (!isObject(j)) return undefined;
  const keys = Object.keys(j);
  return keys.length === 1 ? [keys[0]!, j[keys[0]!]] : undefined;
}

function clipJson(j: Json): string {
  const s = JSON.stringify(j) ?? "undefined";
  return s.length > 200 ? `${s.slice(0, 197)}...` : s;
}

function unsupported(name: string, j: Json): NftExpr {
  return { kind: "unsupported", name, json: clipJson(j) };
}

function num(j: Json): number | undefined {
  return typeof j === "number" && Number.isFinite(j) ? j : undefined;
}

function str(j: Json): string | undefined {
  return typeof j === "string" ? j : undefined;
}

/** `{ "accept": null }`, `{ "jump": { "target": "x" } }`, ... or undefined when `j` is no verdict. */
export function parseVerdict(j: Json): NftVerdict | undefined {
  const s = single(j);
  if (s === undefined) return undefined;
  const [k, body] = s;
  if (k === "accept" || k === "drop" || k === "continue" || k === "return") return { kind: k };
  if (k === "jump" || k === "goto") {
    const target = isObject(body) ? str(body.target) : undefined;
    return target === undefined ? undefined : { kind: k, target };
  }
  return undefined;
}

/** One set element: a value, an `elem` object with comment, or for maps a `[key, data]` pair. */
export function parseElement(j: Json, isMap: boolean): NftElement {
  if (isMap && Array.isArray(j) && j.length === 2) {
    const key = parseElement(j[0], false);
    return { ...key, data: parseExpr(j[1]) };
  }
  const s = single(j);
  if (s !== undefined && s[0] === "elem" && isObject(s[1])) {
    const comment = str(s[1].comment);
    return { key: parseExpr(s[1].val), ...(comment === undefined ? {} : { comment }) };
  }
  return { key: parseExpr(j) };
}

function parseElements(j: Json, isMap: boolean): NftElement[] {
  if (Array.isArray(j) && !(isMap && j.length === 2 && !Array.isArray(j[0]) && isPairLike(j))) {
    return j.map((e) => parseElement(e, isMap));
  }
  return [parseElement(j, isMap)];
}

/** `[k, v]` where v is a verdict or value: a lone map pair rather than a list of elements. */
function isPairLike(j: Json[]): boolean {
  return parseVerdict(j[1]) !== undefined;
}

function parseStructured(kind: string, body: Json, j: Json): NftExpr {
  switch (kind) {
    case "concat":
      return Array.isArray(body) ? { kind: "concat", items: body.map(parseExpr) } : unsupported(kind, j);
    case "set": {
      const items = Array.isArray(body) ? body : [body];
      const isMap = items.length > 0 && items.every((i) => Array.isArray(i) && i.length === 2);
      return { kind: "set", elements: items.map((i) => parseElement(i, isMap)) };
    }
    case "map":
      return isObject(body)
        ? { kind: "map", key: parseExpr(body.key), data: parseExpr(body.data) }
        : unsupported(kind, j);
    case "prefix": {
      const len = isObject(body) ? num(body.len) : undefined;
      return len === undefined || !isObject(body)
        ? unsupported(kind, j)
        : { kind: "prefix", addr: parseExpr(body.addr), len };
    }
    case "range":
      return Array.isArray(body) && body.length === 2
        ? { kind: "range", from: parseExpr(body[0]), to: parseExpr(body[1]) }
        : unsupported(kind, j);
    case "payload": {
      const protocol = isObject(body) ? str(body.protocol) : undefined;
      const field = isObject(body) ? str(body.field) : undefined;
      // The raw form (base/offset/len) has no field names to evaluate.
      return protocol === undefined || field === undefined
        ? unsupported("raw payload", j)
        : { kind: "payload", protocol, field };
    }
    case "meta": {
      const key = isObject(body) ? str(body.key) : undefined;
      return key === undefined ? unsupported(kind, j) : { kind: "meta", key };
    }
    case "ct": {
      if (!isObject(body) || str(body.key) === undefined) return unsupported(kind, j);
      const dir = body.dir === "original" || body.dir === "reply" ? body.dir : undefined;
      const family = str(body.family);
      return {
        kind: "ct",
        key: str(body.key)!,
        ...(dir === undefined ? {} : { dir }),
        ...(family === undefined ? {} : { family }),
      };
    }
    case "fib": {
      if (!isObject(body) || str(body.result) === undefined) return unsupported(kind, j);
      const flags = Array.isArray(body.flags)
        ? body.flags.filter((f): f is string => typeof f === "string")
        : typeof body.flags === "string"
          ? [body.flags]
          : [];
      return { kind: "fib", result: str(body.result)!, flags };
    }
    case "numgen": {
      if (!isObject(body)) return unsupported(kind, j);
      const mod = num(body.mod);
      const mode = body.mode === "random" || body.mode === "inc" ? body.mode : undefined;
      return mod === undefined || mod < 1 || mode === undefined
        ? unsupported(kind, j)
        : { kind: "numgen", mode, mod, offset: num(body.offset) ?? 0 };
    }
    default:
      if ((BINOPS as readonly string[]).includes(kind)) {
        return Array.isArray(body) && body.length === 2
          ? { kind: "binop", op: kind as NftBinaryOp, left: parseExpr(body[0]), right: parseExpr(body[1]) }
          : unsupported(kind, j);
      }
      return unsupported(kind, j);
  }
}

/** Converts one JSON expression. */
export function parseExpr(j: Json): NftExpr {
  if (typeof j === "string")
    return j.startsWith("@") ? { kind: "setref", name: j.slice(1) } : { kind: "immediate", value: j };
  if (typeof j === "number" || typeof j === "boolean") return { kind: "immediate", value: j };
  if (Array.isArray(j)) return { kind: "list", items: j.map(parseExpr) };
  const verdict = parseVerdict(j);
  if (verdict !== undefined) return { kind: "verdict", verdict };
  const s = single(j);
  if (s === undefined) return unsupported("expression", j);
  if (s[0] === "elem" && isObject(s[1])) return parseExpr(s[1].val);
  return parseStructured(s[0], s[1], j);
}

function flagsOf(body: Json): string[] {
  if (!isObject(body)) return [];
  const f = body.flags;
  if (typeof f === "string") return [f];
  return Array.isArray(f) ? f.filter((x): x is string => typeof x === "string") : [];
}

function natStmt(type: NftNatType, body: Json): NftStmt {
  const b = isObject(body) ? body : {};
  const family = str(b.family);
  return {
    kind: "nat",
    type,
    ...(b.addr === undefined ? {} : { addr: parseExpr(b.addr) }),
    ...(b.port === undefined ? {} : { port: parseExpr(b.port) }),
    ...(family === undefined ? {} : { family }),
    flags: flagsOf(body),
  };
}

/** Statements that never change a verdict or a header netdoctor models. */
const NO_EFFECT = new Set([
  "counter",
  "ct helper",
  "ct timeout",
  "ct expectation",
  "secmark",
  "last",
  "flow",
  "dup",
]);
/** Statements that decide whether the rule goes on, by state netdoctor cannot see. */
const STATEFUL_MATCH = new Set(["limit", "quota", "ct count", "meter"]);
/** Statements that end the packet's walk in a way not modelled. */
const TERMINAL = new Set(["queue", "fwd", "synproxy", "tproxy"]);

/** Converts one JSON statement of a rule's `expr` array. */
export function parseStmt(j: Json): NftStmt {
  const verdict = parseVerdict(j);
  if (verdict !== undefined) return { kind: "verdict", verdict };
  const s = single(j);
  if (s === undefined) return { kind: "other", name: "statement", effect: "unknown", json: clipJson(j) };
  const [k, body] = s;
  const b = isObject(body) ? body : {};
  switch (k) {
    case "match": {
      const op = MATCH_OPS[String(b.op)];
      if (op === undefined)
        return { kind: "other", name: `match ${String(b.op)}`, effect: "unknown", json: clipJson(j) };
      return { kind: "match", op, left: parseExpr(b.left), right: parseExpr(b.right) };
    }
    case "vmap":
      return { kind: "vmap", key: parseExpr(b.key), data: parseExpr(b.data) };
    case "counter":
      return { kind: "counter" };
    case "log": {
      const prefix = str(b.prefix);
      return prefix === undefined ? { kind: "log" } : { kind: "log", prefix };
    }
    case "mangle":
      return { kind: "mangle", key: parseExpr(b.key), value: parseExpr(b.value) };
    case "dnat":
    case "snat":
    case "masquerade":
    case "redirect":
      return natStmt(k, body);
    case "reject": {
      const type = str(b.type);
      const code = str(b.expr);
      return {
        kind: "reject",
        ...(type === undefined ? {} : { type }),
        ...(code === undefined ? {} : { code }),
      };
    }
    case "set":
    case "map": {
      const set = str(b.set) ?? str(b.map);
      if (set === undefined || str(b.op) === undefined)
        return { kind: "other", name: k, effect: "unknown", json: clipJson(j) };
      return { kind: "setop", op: str(b.op)!, set: set.replace(/^@/, ""), elem: parseExpr(b.elem) };
    }
    case "notrack":
      return { kind: "notrack" };
    case "xt":
      return { kind: "xt", type: str(b.type) ?? "?", name: str(b.name) ?? "?" };
    default: {
      const effect = NO_EFFECT.has(k)
        ? "none"
        : STATEFUL_MATCH.has(k)
          ? "match"
          : TERMINAL.has(k)
            ? "terminal"
            : "unknown";
      return { kind: "other", name: k, effect, json: clipJson(j) };
    }
  }
}

/** Parses a set's element list (`elem` of a set or map object). */
export function parseSetElements(j: Json, isMap: boolean): NftElement[] {
  return j === undefined ? [] : parseElements(j, isMap);
}
