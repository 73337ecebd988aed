/**
 * A rule's `-j`/`-g` target compiled for the tracer: verdicts, NAT mappings, mark arithmetic, jumps,
 * and the targets it steps over or cannot simulate (with the reason).
 */

import type { Address } from "../model/flow.ts";
import type { RuleOption, Target } from "../model/ruleset.ts";
import type { MarkOp, MissingEvidence, NatAction } from "../model/trace-step.ts";
import { formatIpv4, parseIpv4 } from "../net/ipv4.ts";
import { PASSTHROUGH_TARGETS } from "../parse/known-extensions.ts";
import { parsePortRange } from "./match-ports.ts";
import { parseMarkMask } from "./match-state.ts";
import { rejectEffect } from "./reject-errno.ts";

/** A NAT mapping `ip[-ip][:port[-port]]`. */
export interface NatRange {
  readonly minIp: number;
  readonly maxIp: number;
  /** Undefined when the rule keeps the packet's port. */
  readonly minPort: number | undefined;
  readonly maxPort: number | undefined;
  readonly text: string;
  /** `minIp` and `maxIp` as dotted quads, for the headers after the rewrite. */
  readonly minIpText: string;
  readonly maxIpText: string;
  /** The address after the rewrite when the range is one address and one port (kube-proxy's DNAT). */
  readonly exact: Address | undefined;
}

export type CompiledTarget =
  | { readonly kind: "none" }
  | { readonly kind: "accept" }
  | { readonly kind: "drop" }
  | { readonly kind: "return" }
  | { readonly kind: "reject"; readonly rejectWith: string }
  | { readonly kind: "dnat"; readonly range: NatRange | undefined; readonly action: NatAction }
  | { readonly kind: "snat"; readonly range: NatRange; readonly action: NatAction }
  | { readonly kind: "masquerade"; readonly action: NatAction }
  | { readonly kind: "redirect"; readonly port: number | undefined }
  | {
      readonly kind: "mark";
      readonly apply: (mark: number) => number;
      readonly op: MarkOp;
      readonly value: string;
    }
  | {
      readonly kind: "connmark";
      readonly apply: (mark: number, ctmark: number) => [number, number];
      readonly options: string;
    }
  | { readonly kind: "notrack" }
  | { readonly kind: "continue"; readonly name: string }
  | { readonly kind: "chain"; readonly name: string; readonly goto: boolean }
  | { readonly kind: "unknown"; readonly reason: string; readonly needs: MissingEvidence };

function unknownTarget(reason: string, needs: MissingEvidence = "manual-check"): CompiledTarget {
  return { kind: "unknown", reason, needs };
}

/**
 * Targets the tracer steps over: the parser's pass-through targets, plus `NFACCT` (a match module,
 * not in the parser's target list; the tracer has always stepped over a `-j NFACCT` all the same).
 */
const CONTINUE_TARGETS: ReadonlySet<string> = new Set([...PASSTHROUGH_TARGETS, "NFACCT"]);

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
  // One object layout for every range (absent ports and `exact` undefined): read on every NAT.
  const range = {
    minIp,
    maxIp,
    minPort: undefined as number | undefined,
    maxPort: undefined as number | undefined,
    text,
    minIpText: formatIpv4(minIp),
    maxIpText: formatIpv4(maxIp),
    exact: undefined as Address | undefined,
  };
  if (m[3] === undefined) return range;
  const minPort = Number(m[3]);
  const maxPort = m[4] === undefined ? minPort : Number(m[4]);
  if (minPort > 65535 || maxPort > 65535) return undefined;
  range.minPort = minPort;
  range.maxPort = maxPort;
  if (minIp === maxIp && minPort === maxPort)
    range.exact = { kind: "exact", ip: range.minIpText, port: minPort };
  return range;
}

/** MARK / CONNMARK value arithmetic as the kernel does it: `(old & ~mask) ^ value`. */
function xmark(value: number, mask: number): (old: number) => number {
  return (old) => ((old & ~mask) ^ value) >>> 0;
}

const MARK_OPS: ReadonlySet<string> = new Set(["set-xmark", "set-mark", "and-mark", "or-mark", "xor-mark"]);

/** The first known MARK operation of a target's options, with its argument as written. */
function markOpOf(options: readonly RuleOption[]): { op: MarkOp; value: string } | undefined {
  for (const o of options) {
    const op = o.name.slice(2);
    if (MARK_OPS.has(op)) return { op: op as MarkOp, value: o.values.join(" ") };
  }
  return undefined;
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
    return {
      kind: "connmark",
      options: text,
      apply: (mark, ctmark) => [mark, ((ctmark & ~ct) ^ (mark & nf)) >>> 0],
    };
  }
  if (options.some((o) => o.name === "--restore-mark")) {
    const nf = maskOf("--nfmask");
    const ct = maskOf("--ctmask");
    return {
      kind: "connmark",
      options: text,
      apply: (mark, ctmark) => [((mark & ~nf) ^ (ctmark & ct)) >>> 0, ctmark],
    };
  }
  const op = compileMarkOp(options);
  if (typeof op === "string") return unknownTarget(`CONNMARK: ${op}`);
  return { kind: "connmark", options: text, apply: (mark, ctmark) => [mark, op(ctmark)] };
}

/** Compiles a `-j`/`-g` target. `isChain` tells whether the name is a chain of the rule's table. */
export function compileTarget(
  target: Target | undefined,
  isChain: (name: string) => boolean,
  unparsable?: { readonly reason: string; readonly needs: MissingEvidence },
): CompiledTarget {
  if (unparsable !== undefined) return unknownTarget(unparsable.reason, unparsable.needs);
  return compileTargetKind(target, isChain);
}

function compileTargetKind(target: Target | undefined, isChain: (name: string) => boolean): CompiledTarget {
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
      if (effect === undefined) return unknownTarget(`REJECT --reject-with "${type}" is not known`);
      return { kind: "reject", rejectWith: effect.rejectWith };
    }
    case "DNAT": {
      const to = options.filter((o) => o.name === "--to-destination");
      if (to.length === 0) return { kind: "dnat", range: undefined, action: { kind: "dnat", to: "" } };
      if (to.length > 1) return unknownTarget("DNAT with several --to-destination");
      const range = parseNatRange(to[0]!.values.join(" "));
      if (range === undefined)
        return unknownTarget(`DNAT --to-destination "${to[0]!.values.join(" ")}" is not IPv4`);
      return { kind: "dnat", range, action: { kind: "dnat", to: range.text } };
    }
    case "SNAT": {
      const text = opt(options, "--to-source") ?? "";
      const range = parseNatRange(text);
      if (range === undefined) return unknownTarget(`SNAT --to-source "${text}" is not IPv4`);
      return { kind: "snat", range, action: { kind: "snat", to: range.text } };
    }
    case "MASQUERADE":
      return { kind: "masquerade", action: { kind: "masquerade" } };
    case "REDIRECT": {
      const ports = opt(options, "--to-ports");
      if (ports === undefined) return { kind: "redirect", port: undefined };
      const r = parsePortRange(ports.replace("-", ":"));
      if (r === undefined || r[0] !== r[1]) return unknownTarget(`REDIRECT --to-ports "${ports}" is a range`);
      return { kind: "redirect", port: r[0] };
    }
    case "MARK": {
      const apply = compileMarkOp(options);
      const op = markOpOf(options);
      if (typeof apply === "string") return unknownTarget(apply);
      if (op === undefined) return unknownTarget("MARK without a known operation");
      return { kind: "mark", apply, op: op.op, value: op.value };
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
        return unknownTarget(`${name} hands the packet to a userspace program`, "userspace-verdict");
      return unknownTarget(`target "${name}" is not simulated (and is not a chain of this table)`);
  }
}
