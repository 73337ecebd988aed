/** `ip -j rule show`: the policy routing rules, which decide the table a route is looked up in. */
import type { Evidence } from "../model/finding.ts";
import { type Cidr, parseCidr } from "../net/ipv4.ts";
import {
  type HostParseWarning,
  itemEvidence,
  itemObject,
  type JsonObject,
  num,
  parseJsonArray,
  str,
} from "./json-array.ts";

/** What a matching rule does (FR_ACT_*). */
export type RuleAction = "table" | "goto" | "blackhole" | "unreachable" | "prohibit" | "nop";

/** One policy rule. Selectors absent from the rule match everything. */
export interface IpRule {
  readonly priority: number;
  /** `not`: the rule applies when the selectors do NOT all match. */
  readonly not: boolean;
  readonly src?: Cidr;
  readonly dst?: Cidr;
  readonly iif?: string;
  readonly oif?: string;
  readonly fwmark?: number;
  readonly fwmask?: number;
  /** Set when the rule has selectors this evaluator does not model (ipproto, ports, uidrange, ...). */
  readonly unmodelled?: readonly string[];
  readonly action: RuleAction;
  /** For `table`: the table name as printed (`main`, `local`, `100`). */
  readonly table?: string;
  /** For `goto`: the priority to continue at. */
  readonly goto?: number;
  readonly evidence: Evidence;
}

export interface IpRuleTable {
  readonly rules: readonly IpRule[];
  readonly warnings: readonly HostParseWarning[];
}

const KNOWN_KEYS = new Set([
  "priority",
  "not",
  "src",
  "srclen",
  "dst",
  "dstlen",
  "iif",
  "oif",
  "fwmark",
  "fwmask",
  "table",
  "goto",
  "action",
  "flags",
  "tos",
  "protocol",
  "l3mdev",
]);

function selector(o: JsonObject, key: "src" | "dst"): Cidr | undefined {
  const addr = str(o, key);
  if (addr === undefined || addr === "all") return undefined;
  const len = num(o, `${key}len`);
  return parseCidr(len === undefined ? addr : `${addr}/${len}`);
}

function hex(o: JsonObject, key: string): number | undefined {
  const v = o[key];
  if (typeof v === "number") return v;
  if (typeof v !== "string" || !/^(0x[0-9a-f]+|\d+)$/i.test(v)) return undefined;
  return Number(v);
}

function actionOf(o: JsonObject): RuleAction | undefined {
  const a = str(o, "action");
  if (a === "blackhole" || a === "unreachable" || a === "prohibit" || a === "nop") return a;
  if (o.goto !== undefined) return "goto";
  if (o.table !== undefined) return "table";
  return undefined;
}

/**
 * Parses `ip -j rule show` (IPv4 rules; `ip -6 rule` is not read).
 *
 * @throws {SyntaxError} When the text is not a JSON array.
 */
export function parseIpRule(text: string, options: { file: string }): IpRuleTable {
  const warnings: HostParseWarning[] = [];
  const rules: IpRule[] = [];
  for (const item of parseJsonArray(text, options)) {
    const o = itemObject(options.file, item, warnings);
    if (o === undefined) continue;
    const priority = num(o, "priority");
    const action = actionOf(o);
    if (priority === undefined || action === undefined) {
      warnings.push({
        file: options.file,
        line: item.line,
        text: JSON.stringify(o).slice(0, 200),
        reason: `$[${item.index}] has no priority or no action`,
      });
      continue;
    }
    const table = o.table === undefined ? undefined : String(o.table);
    const unmodelled = Object.keys(o).filter((k) => !KNOWN_KEYS.has(k));
    const fields = {
      src: selector(o, "src"),
      dst: selector(o, "dst"),
      iif: str(o, "iif"),
      oif: str(o, "oif"),
      fwmark: hex(o, "fwmark"),
      fwmask: hex(o, "fwmask"),
      table: action === "table" ? table : undefined,
      goto: num(o, "goto"),
      unmodelled: unmodelled.length > 0 ? unmodelled : undefined,
    };
    rules.push({
      priority,
      not: "not" in o,
      action,
      ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)),
      evidence: itemEvidence(options.file, item),
    } as IpRule);
  }
  rules.sort((a, b) => a.priority - b.priority);
  return { rules, warnings };
}
