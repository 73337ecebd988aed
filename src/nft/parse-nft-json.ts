/**
 * Parses `nft -j list ruleset` (libnftables-json(5)) into an {@linkcode NftRuleset}, optionally
 * with the `nft -a list ruleset` text of the same moment for line numbers. Problems that leave the
 * rest meaningful (an unknown object, a rule of a chain never declared, an expression without a
 * model) are collected as warnings; only text that is not the JSON of a ruleset throws.
 *
 * @example
 * ```ts
 * const rs = parseNftRuleset(jsonText, { text: nftAText });
 * rs.tables.find((t) => t.name === "kube-proxy")?.chains.get("services")?.rules[0]?.text?.line;
 * ```
 */

import { type Builder, withText } from "./attach-text.ts";
import { jsonErrorPosition, lineColumn } from "./json-error-position.ts";
import type {
  NftBaseChain,
  NftFamily,
  NftHook,
  NftRule,
  NftRuleset,
  NftSet,
  NftWarning,
} from "./nft-ruleset.ts";
import { parseSetElements, parseStmt } from "./parse-nft-expr.ts";
import { parseNftText } from "./parse-nft-text.ts";
import { ruleProblems } from "./rule-problems.ts";

type Obj = Record<string, unknown>;

const FAMILIES: readonly NftFamily[] = ["ip", "ip6", "inet", "arp", "bridge", "netdev"];
const HOOKS: readonly NftHook[] = [
  "ingress",
  "prerouting",
  "input",
  "forward",
  "output",
  "postrouting",
  "egress",
];
/** Named objects that carry no packet path semantics of their own. */
const IGNORED = new Set([
  "flowtable",
  "counter",
  "quota",
  "ct helper",
  "limit",
  "ct timeout",
  "ct expectation",
  "secmark",
  "synproxy",
]);

export interface ParseNftOptions {
  /** `nft -a list ruleset` text of the same moment, for line numbers and ingress devices. */
  readonly text?: string;
}

function isObj(j: unknown): j is Obj {
  return typeof j === "object" && j !== null && !Array.isArray(j);
}

function syntaxError(text: string, offset: number, detail: string): SyntaxError {
  const { line, column } = lineColumn(text, offset);
  return new SyntaxError(`Cannot parse nft JSON at line ${line}, column ${column}: ${detail}`);
}

function readJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const pos = jsonErrorPosition(text);
    const detail = (error as Error).message
      .replace(/ in JSON at position \d+.*$/, "")
      .replace(/, "[\s\S]*" is not valid JSON$/, "");
    throw syntaxError(text, Math.max(pos, 0), pos >= text.length ? "unexpected end of JSON" : detail);
  }
}

function familyOf(j: unknown): NftFamily | undefined {
  return (FAMILIES as readonly unknown[]).includes(j) ? (j as NftFamily) : undefined;
}

function baseOf(o: Obj): NftBaseChain | undefined {
  if (typeof o.hook !== "string" || !(HOOKS as readonly string[]).includes(o.hook)) return undefined;
  const dev = o.dev;
  const devices =
    typeof dev === "string"
      ? [dev]
      : Array.isArray(dev)
        ? dev.filter((d) => typeof d === "string")
        : undefined;
  return {
    type: typeof o.type === "string" ? o.type : "filter",
    hook: o.hook as NftHook,
    priority: typeof o.prio === "number" ? o.prio : 0,
    policy: o.policy === "drop" ? "drop" : "accept",
    ...(devices === undefined ? {} : { devices }),
  };
}

function stringList(j: unknown): string[] {
  if (typeof j === "string") return j.split(" . ").map((s) => s.trim());
  return Array.isArray(j) ? j.filter((x): x is string => typeof x === "string") : [];
}

function newSet(o: Obj, family: NftFamily, isMap: boolean): NftSet {
  const flags = Array.isArray(o.flags) ? o.flags.filter((f): f is string => typeof f === "string") : [];
  return {
    family,
    table: String(o.table),
    name: String(o.name),
    handle: typeof o.handle === "number" ? o.handle : -1,
    keyType: stringList(o.type),
    ...(isMap ? { dataType: stringList(o.map) } : {}),
    flags,
    elements: parseSetElements(o.elem, isMap),
    ...(typeof o.comment === "string" ? { comment: o.comment } : {}),
  };
}

/** Adds every object of the `nftables` array to the builders; returns metainfo. */
function collect(items: readonly unknown[], tables: Map<string, Builder>, warnings: NftWarning[]) {
  const meta: { nftVersion?: string; jsonSchemaVersion?: number } = {};
  const pending: Array<{ kind: string; o: Obj; index: number }> = [];
  items.forEach((item, index) => {
    if (!isObj(item) || Object.keys(item).length !== 1) {
      warnings.push({
        message: `Cannot read item ${index} of "nftables": expected an object with one key`,
        index,
      });
      return;
    }
    const kind = Object.keys(item)[0]!;
    const o = item[kind];
    if (kind === "metainfo" && isObj(o)) {
      if (typeof o.version === "string") meta.nftVersion = o.version;
      if (typeof o.json_schema_version === "number") meta.jsonSchemaVersion = o.json_schema_version;
      return;
    }
    if (IGNORED.has(kind)) return;
    if (!isObj(o)) {
      warnings.push({ message: `Cannot read ${kind} at item ${index}: expected an object`, index });
      return;
    }
    if (kind === "table") {
      const family = familyOf(o.family);
      if (family === undefined || typeof o.name !== "string") {
        warnings.push({ message: `Cannot read table at item ${index}: unknown family or name`, index });
        return;
      }
      const flags = stringList(o.flags);
      tables.set(`${family} ${o.name}`, {
        table: {
          family,
          name: o.name,
          handle: typeof o.handle === "number" ? o.handle : -1,
          flags,
          // nft 1.0.6 prints the dormant flag as "dorm" (a truncated name); later versions "dormant".
          dormant: flags.some((f) => f === "dormant" || f === "dorm"),
          ...(typeof o.comment === "string" ? { comment: o.comment } : {}),
          chains: new Map(),
          sets: new Map(),
        },
        rules: new Map(),
      });
      return;
    }
    if (["chain", "rule", "set", "map", "element"].includes(kind)) pending.push({ kind, o, index });
    else warnings.push({ message: `Cannot read item ${index}: unknown object "${kind}" (ignored)`, index });
  });
  for (const p of pending) place(p.kind, p.o, p.index, tables, warnings);
  return meta;
}

function place(
  kind: string,
  o: Obj,
  index: number,
  tables: Map<string, Builder>,
  warnings: NftWarning[],
): void {
  const family = familyOf(o.family);
  const b = tables.get(`${String(o.family)} ${String(o.table)}`);
  if (family === undefined || b === undefined) {
    warnings.push({
      message: `Cannot place ${kind} at item ${index}: table ${String(o.family)} ${String(o.table)} is not in the dump`,
      index,
    });
    return;
  }
  const t = b.table;
  if (kind === "chain") {
    const base = baseOf(o);
    const name = String(o.name);
    t.chains.set(name, {
      family,
      table: t.name,
      name,
      handle: typeof o.handle === "number" ? o.handle : -1,
      ...(base === undefined ? {} : { base }),
      rules: [],
      ...(typeof o.comment === "string" ? { comment: o.comment } : {}),
    });
  } else if (kind === "set" || kind === "map") {
    const s = newSet(o, family, kind === "map");
    t.sets.set(s.name, s);
  } else if (kind === "element") {
    const s = t.sets.get(String(o.name));
    if (s === undefined) {
      warnings.push({
        message: `Cannot add elements at item ${index}: set ${String(o.name)} is not in the dump`,
        index,
      });
      return;
    }
    t.sets.set(s.name, {
      ...s,
      elements: [...s.elements, ...parseSetElements(o.elem, s.dataType !== undefined)],
    });
  } else {
    const exprs = Array.isArray(o.expr) ? o.expr : [];
    const rule: NftRule = {
      family,
      table: t.name,
      chain: String(o.chain),
      handle: typeof o.handle === "number" ? o.handle : -1,
      ...(typeof o.comment === "string" ? { comment: o.comment } : {}),
      stmts: exprs.map(parseStmt),
      index,
    };
    const list = b.rules.get(rule.chain);
    if (list === undefined) b.rules.set(rule.chain, [rule]);
    else list.push(rule);
  }
}

/** Parses `nft -j list ruleset` output (and, optionally, the matching `nft -a list ruleset` text). */
export function parseNftRuleset(jsonText: string, options: ParseNftOptions = {}): NftRuleset {
  const doc = readJson(jsonText);
  if (!isObj(doc) || !Array.isArray(doc.nftables)) {
    throw syntaxError(
      jsonText,
      0,
      'expected an object with an "nftables" array (the output of nft -j list ruleset)',
    );
  }
  const warnings: NftWarning[] = [];
  const builders = new Map<string, Builder>();
  const meta = collect(doc.nftables, builders, warnings);
  if (meta.jsonSchemaVersion !== undefined && meta.jsonSchemaVersion !== 1) {
    warnings.push({
      message: `JSON schema version ${meta.jsonSchemaVersion} is newer than the one netdoctor reads (1)`,
    });
  }
  const index = options.text === undefined ? undefined : parseNftText(options.text);
  const tables = [...builders.values()].map((b) => withText(b, index, warnings));
  // One push per warning: a leaked iptables-nft chain (k3s-io/k3s#3117) has 100,000s of xt rules,
  // more than a spread's arguments may be.
  for (const t of tables)
    for (const c of t.chains.values()) for (const w of ruleProblems(c)) warnings.push(w);
  return { ...meta, tables, warnings };
}
