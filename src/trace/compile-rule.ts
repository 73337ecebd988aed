/**
 * A rule compiled for the tracer: its tests in kernel order (IP header fields first, then the
 * `-m` matches as written) and its target in a form the walker can apply. Compiled once per rule
 * and cached, so repeated traces on one ruleset cost only the tests.
 */
import type { Match, Rule, RuleOption, RuleSpec, Target } from "../model/ruleset.ts";
import { parseRule } from "../parse/parse-rule.ts";
import {
  compileAddress,
  compileInterface,
  compileMatch,
  compileProtocol,
  compileProtoMatch,
  type MatchTest,
  PROTOCOL_NUMBERS,
  parseMarkMask,
  parsePortRange,
} from "./compile-match.ts";
import { formatIpv4, parseCidr, parseIpv4 } from "./ipv4.ts";
import { rejectEffect } from "./reject-errno.ts";

/** A NAT mapping `ip[-ip][:port[-port]]`. */
export interface NatRange {
  readonly minIp: number;
  readonly maxIp: number;
  /** Undefined when the rule keeps the packet's port. */
  readonly minPort?: number;
  readonly maxPort?: number;
  readonly text: string;
}

export type CompiledTarget =
  | { readonly kind: "none" }
  | { readonly kind: "accept" }
  | { readonly kind: "drop" }
  | { readonly kind: "return" }
  | { readonly kind: "reject"; readonly rejectWith: string }
  | { readonly kind: "dnat"; readonly range: NatRange | undefined }
  | { readonly kind: "snat"; readonly range: NatRange }
  | { readonly kind: "masquerade" }
  | { readonly kind: "redirect"; readonly port: number | undefined }
  | { readonly kind: "mark"; readonly apply: (mark: number) => number; readonly text: string }
  | {
      readonly kind: "connmark";
      readonly apply: (mark: number, ctmark: number) => [number, number];
      readonly text: string;
    }
  | { readonly kind: "notrack" }
  | { readonly kind: "continue"; readonly name: string }
  | { readonly kind: "chain"; readonly name: string; readonly goto: boolean }
  | { readonly kind: "unknown"; readonly reason: string };

export interface CompiledRule {
  /**
   * The IP header checks, evaluated before `tests` as plain numbers (no closure calls): the packet
   * matches when `((src & sm) === sb) !== sn`, likewise for the destination, and its protocol number
   * is `pr` (xor `pn`) unless `pr` is -1. A rule without `-s` has `sm = sb = 0`. Masks and bases are
   * int32 (`x | 0`) so they stay small integers. Moving these ahead of the other tests is exact:
   * the kernel checks them first and they never fork, never leave a side effect and never answer
   * "cannot decide".
   */
  readonly sm: number;
  readonly sb: number;
  readonly sn: boolean;
  readonly dm: number;
  readonly db: number;
  readonly dn: boolean;
  readonly pr: number;
  readonly pn: boolean;
  /**
   * A `--dport lo[:hi]` of the first protocol match, checked with the header (-1: none): the
   * packet matches when it has a port and `(lo <= dport <= hi) !== dpn`. Only taken out of `tests`
   * when nothing before it in the rule can fork or have a side effect, so the order does not matter.
   */
  readonly dplo: number;
  readonly dphi: number;
  readonly dpn: boolean;
  /**
   * The probability of a rule whose only test besides the header is `-m statistic --mode random`
   * (kube-proxy's endpoint choice), in (0, 1); 0 when the rule has no such test. Kept out of `tests`
   * so the walker forks without a closure call.
   */
  readonly prob: number;
  readonly tests: readonly MatchTest[];
  readonly target: CompiledTarget;
  /** The rule itself (its line and text are read only for the steps). */
  readonly rule: Rule;
  /** The rule's trace step when its action does not depend on the packet (filled by the tracer). */
  step?: import("../model/trace.ts").TraceStep;
  /** The step of the matched branch of a statistic rule, with its probability (filled by the tracer). */
  qStep?: { readonly q: number; readonly step: import("../model/trace.ts").TraceStep };
  /** The chain a jump/goto goes to, resolved on first use (filled by the tracer). */
  targetChain?: import("./trace-index.ts").ChainInfo;
}

/** Targets that only log, count or set metadata the tracer does not follow: evaluation continues. */
const CONTINUE_TARGETS = new Set([
  "LOG",
  "NFLOG",
  "ULOG",
  "TRACE",
  "AUDIT",
  "CHECKSUM",
  "TCPMSS",
  "TCPOPTSTRIP",
  "CLASSIFY",
  "DSCP",
  "TOS",
  "TTL",
  "HL",
  "SECMARK",
  "CONNSECMARK",
  "IDLETIMER",
  "LED",
  "RATEEST",
  "TEE",
  "SET",
  "NFACCT",
  "ECN",
]);

function opt(options: readonly RuleOption[], ...names: string[]): string | undefined {
  const o = options.find((x) => names.includes(x.name));
  return o?.values.join(" ");
}

/** Parses `a.b.c.d[-e.f.g.h][:p[-q]]`; undefined for IPv6 or garbage. */
export function parseNatRange(text: string): NatRange | undefined {
  const m = /^([\d.]+)(?:-([\d.]+))?(?::(\d+)(?:-(\d+))?)?$/.exec(text);
  if (m === null) return undefined;
  const minIp = parseIpv4(m[1]!);
  const maxIp = m[2] === undefined ? minIp : parseIpv4(m[2]);
  if (minIp === undefined || maxIp === undefined) return undefined;
  if (m[3] === undefined) return { minIp, maxIp, text };
  const minPort = Number(m[3]);
  const maxPort = m[4] === undefined ? minPort : Number(m[4]);
  if (minPort > 65535 || maxPort > 65535) return undefined;
  return { minIp, maxIp, minPort, maxPort, text };
}

/** MARK / CONNMARK value arithmetic as the kernel does it: `(old & ~mask) ^ value`. */
function xmark(value: number, mask: number): (old: number) => number {
  return (old) => ((old & ~mask) ^ value) >>> 0;
}

function compileMarkOp(options: readonly RuleOption[]): ((old: number) => number) | string {
  for (const o of options) {
    const text = o.values.join(" ");
    const mm = parseMarkMask(text);
    switch (o.name) {
      case "--set-xmark":
        if (mm === undefined) return `mark "${text}" is not a number`;
        return xmark(mm.value, mm.mask);
      case "--set-mark":
        if (mm === undefined) return `mark "${text}" is not a number`;
        // libxt_MARK: --set-mark v/m is stored as value v, mask (m | v).
        return xmark(mm.value, (mm.mask | mm.value) >>> 0);
      case "--and-mark":
        if (mm === undefined) return `mark "${text}" is not a number`;
        return xmark(0, ~mm.value >>> 0);
      case "--or-mark":
        if (mm === undefined) return `mark "${text}" is not a number`;
        return xmark(mm.value, mm.value);
      case "--xor-mark":
        if (mm === undefined) return `mark "${text}" is not a number`;
        return xmark(mm.value, 0);
      default:
    }
  }
  return `MARK without a known operation`;
}

function compileConnmark(options: readonly RuleOption[]): CompiledTarget {
  const text = options.map((o) => `${o.name} ${o.values.join(" ")}`.trim()).join(" ");
  const maskOf = (name: string) => {
    const v = opt(options, name, "--mask");
    return v === undefined ? 0xffffffff : Number(v) >>> 0;
  };
  if (options.some((o) => o.name === "--save-mark")) {
    const nf = maskOf("--nfmask");
    const ct = maskOf("--ctmask");
    return { kind: "connmark", text, apply: (mark, ctmark) => [mark, ((ctmark & ~ct) ^ (mark & nf)) >>> 0] };
  }
  if (options.some((o) => o.name === "--restore-mark")) {
    const nf = maskOf("--nfmask");
    const ct = maskOf("--ctmask");
    return {
      kind: "connmark",
      text,
      apply: (mark, ctmark) => [((mark & ~nf) ^ (ctmark & ct)) >>> 0, ctmark],
    };
  }
  const op = compileMarkOp(options);
  if (typeof op === "string") return { kind: "unknown", reason: `CONNMARK: ${op}` };
  return { kind: "connmark", text, apply: (mark, ctmark) => [mark, op(ctmark)] };
}

/** Compiles a `-j`/`-g` target. `isChain` tells whether the name is a chain of the rule's table. */
export function compileTarget(
  target: Target | undefined,
  isChain: (name: string) => boolean,
): CompiledTarget {
  if (target === undefined) return { kind: "none" };
  const { name, options } = target;
  switch (name) {
    case "ACCEPT":
      return { kind: "accept" };
    case "DROP":
      return { kind: "drop" };
    case "RETURN":
      return { kind: "return" };
    case "REJECT": {
      const type = opt(options, "--reject-with");
      const effect = rejectEffect(type);
      if (effect === undefined)
        return { kind: "unknown", reason: `REJECT --reject-with "${type}" is not known` };
      return { kind: "reject", rejectWith: effect.rejectWith };
    }
    case "DNAT": {
      const to = options.filter((o) => o.name === "--to-destination");
      if (to.length === 0) return { kind: "dnat", range: undefined };
      if (to.length > 1) return { kind: "unknown", reason: "DNAT with several --to-destination" };
      const range = parseNatRange(to[0]!.values.join(" "));
      if (range === undefined)
        return { kind: "unknown", reason: `DNAT --to-destination "${to[0]!.values.join(" ")}" is not IPv4` };
      return { kind: "dnat", range };
    }
    case "SNAT": {
      const text = opt(options, "--to-source") ?? "";
      const range = parseNatRange(text);
      if (range === undefined) return { kind: "unknown", reason: `SNAT --to-source "${text}" is not IPv4` };
      return { kind: "snat", range };
    }
    case "MASQUERADE":
      return { kind: "masquerade" };
    case "REDIRECT": {
      const ports = opt(options, "--to-ports");
      if (ports === undefined) return { kind: "redirect", port: undefined };
      const r = parsePortRange(ports.replace("-", ":"));
      if (r === undefined || r[0] !== r[1])
        return { kind: "unknown", reason: `REDIRECT --to-ports "${ports}" is a range` };
      return { kind: "redirect", port: r[0] };
    }
    case "MARK": {
      const op = compileMarkOp(options);
      if (typeof op === "string") return { kind: "unknown", reason: op };
      return {
        kind: "mark",
        apply: op,
        text: options.map((o) => `${o.name} ${o.values.join(" ")}`).join(" "),
      };
    }
    case "CONNMARK":
      return compileConnmark(options);
    case "NOTRACK":
      return { kind: "notrack" };
    case "CT":
      if (options.some((o) => o.name === "--notrack")) return { kind: "notrack" };
      return { kind: "continue", name };
    default:
      if (isChain(name)) return { kind: "chain", name, goto: target.kind === "goto" };
      if (CONTINUE_TARGETS.has(name)) return { kind: "continue", name };
      if (name === "QUEUE" || name === "NFQUEUE")
        return { kind: "unknown", reason: `${name} hands the packet to a userspace program` };
      return {
        kind: "unknown",
        reason: `target "${name}" is not simulated (and is not a chain of this table)`,
      };
  }
}

/**
 * A rule's parsed spec without caching it on the rule. A lazily parsed dump rule keeps its spec once
 * read, and the tracer needs it only while compiling: parsing a copy lets it go afterwards, so a
 * million-rule dump does not keep the specs of every rule a trace (or a linear scan) reached.
 * Rules that carry their spec as data (not a lazy getter) are read as they are.
 * @throws {DumpSyntaxError} When the rule's text does not parse.
 */
export function specOf(rule: Rule): RuleSpec {
  const own = Object.getOwnPropertyDescriptor(rule, "spec");
  return own !== undefined ? rule.spec : parseRule(rule.text, rule.line).spec;
}

const NO_HEADER = {
  sm: 0,
  sb: 0,
  sn: false,
  dm: 0,
  db: 0,
  dn: false,
  pr: -1,
  pn: false,
  prob: 0,
  dplo: -1,
  dphi: -1,
  dpn: false,
} as const;

/** Compiles one rule; a rule that fails to parse compiles to a single unknown test. */
export function compileRule(rule: Rule, isChain: (name: string) => boolean): CompiledRule {
  let spec: Rule["spec"];
  try {
    spec = specOf(rule);
  } catch (error) {
    const reason = `the rule cannot be parsed: ${(error as Error).message}`;
    return { ...NO_HEADER, tests: [() => reason], target: { kind: "unknown", reason }, rule };
  }
  const tests: MatchTest[] = [];
  const header = { sm: 0, sb: 0, sn: false, dm: 0, db: 0, dn: false, pr: -1, pn: false };
  if (spec.source !== undefined) {
    const cidr = parseCidr(spec.source.value);
    if (cidr === undefined) tests.push(compileAddress(spec.source, "src"));
    else {
      header.sm = cidr.mask | 0;
      header.sb = cidr.base | 0;
      header.sn = spec.source.negated;
    }
  }
  if (spec.destination !== undefined) {
    const cidr = parseCidr(spec.destination.value);
    if (cidr === undefined) tests.push(compileAddress(spec.destination, "dst"));
    else {
      header.dm = cidr.mask | 0;
      header.db = cidr.base | 0;
      header.dn = spec.destination.negated;
    }
  }
  if (spec.inInterface !== undefined) tests.push(compileInterface(spec.inInterface, "in"));
  if (spec.outInterface !== undefined) tests.push(compileInterface(spec.outInterface, "out"));
  if (spec.protocol !== undefined) {
    const num = protocolNumber(spec.protocol.value);
    const all = /^(?:all|0)$/i.test(spec.protocol.value);
    // `-p all` matches every packet: no test at all.
    if (num !== undefined) {
      header.pr = num;
      header.pn = spec.protocol.negated;
    } else if (!all || spec.protocol.negated) tests.push(compileProtocol(spec.protocol));
  }
  // The first packet of a connection is never a non-first fragment.
  if (spec.fragment !== undefined) tests.push(() => spec.fragment!.negated);
  const port = { lo: -1, hi: -1, neg: false };
  let pure = true;
  for (const m of spec.matches) {
    if (
      pure &&
      port.lo < 0 &&
      header.pr >= 0 &&
      !header.pn &&
      PROTOCOL_NUMBERS[m.module] === header.pr &&
      (m.module === "tcp" || m.module === "udp" || m.module === "sctp")
    ) {
      const o = m.options.find((x) => x.name === "--dport" || x.name === "--destination-port");
      const range = o === undefined ? undefined : parsePortRange(o.values.join(" "));
      if (o !== undefined && range !== undefined) {
        port.lo = range[0];
        port.hi = range[1];
        port.neg = o.negated;
      }
      tests.push(...compileProtoMatch(m, { protoChecked: true, skip: range === undefined ? undefined : o }));
      continue;
    }
    // Modules whose tests never fork nor write state may come before an inlined port check.
    if (m.module !== "comment" && m.module !== "nfacct") pure = false;
    tests.push(...compileMatch(m));
  }
  const prob = tests.length === 1 && spec.fragment === undefined ? randomOnly(spec.matches) : 0;
  return {
    prob,
    dplo: port.lo,
    dphi: port.hi,
    dpn: port.neg,
    sm: header.sm,
    sb: header.sb,
    sn: header.sn,
    dm: header.dm,
    db: header.db,
    dn: header.dn,
    pr: header.pr,
    pn: header.pn,
    tests: prob > 0 ? [] : tests,
    target: compileTarget(spec.target, isChain),
    rule,
  };
}

/**
 * The probability of the rule's `-m statistic --mode random --probability P` when its matches are
 * that one and comments only, and the probability is strictly between 0 and 1 (the cases where the
 * compiled test answers a number, see `compileStatistic`); 0 otherwise.
 */
function randomOnly(matches: readonly Match[]): number {
  let q = 0;
  for (const m of matches) {
    if (m.module === "comment" || m.module === "nfacct") continue;
    if (m.module !== "statistic" || q !== 0) return 0;
    const mode = m.options.find((o) => o.name === "--mode")?.values[0];
    const o = m.options.find((x) => x.name === "--probability");
    const p = Number(o?.values[0]);
    if (mode !== "random" || o === undefined || !Number.isFinite(p) || p < 0 || p > 1) return 0;
    q = o.negated ? 1 - p : p;
    if (q <= 0 || q >= 1) return 0;
  }
  return q;
}

/** The number of a `-p` protocol other than `all`; undefined when `compileProtocol` must decide. */
function protocolNumber(text: string): number | undefined {
  const name = text.toLowerCase();
  if (name === "all" || name === "0") return undefined;
  return /^\d+$/.test(name) ? Number(name) : PROTOCOL_NUMBERS[name];
}

/** `ip[:port]` text of an address, for steps and destinations. */
export function endpointText(ip: number, port: number): string {
  return port < 0 ? formatIpv4(ip) : `${formatIpv4(ip)}:${port}`;
}
