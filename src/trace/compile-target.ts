/**
 * A rule's `-j`/`-g` target compiled for the tracer: verdicts, NAT mappings, mark arithmetic, jumps,
 * and the targets it steps over or cannot simulate (with the reason).
 */
import type { RuleOption, Target } from "../model/ruleset.ts";
import { parseIpv4 } from "../net/ipv4.ts";
import { PASSTHROUGH_TARGETS } from "../parse/known-extensions.ts";
import { parseMarkMask, parsePortRange } from "./compile-match.ts";
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
