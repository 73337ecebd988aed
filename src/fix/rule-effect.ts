/**
 * What one rule can observe and change, as far as deciding whether a later copy of it is redundant.
 *
 * Within one traversal of a hook, the fields a rule reads are of two sorts:
 *
 * - fixed: addresses, ports, protocol, interfaces, fragments, addrtype, socket owner... No
 *   non-terminating target changes them. (DNAT/SNAT/MASQUERADE/REDIRECT/NETMAP do rewrite
 *   addresses, but they end the traversal: no later rule sees the rewrite in the same hook.)
 * - mutable: the state kinds below, which a non-terminating target (MARK, CONNMARK, CT, DSCP...),
 *   or a match with a side effect (`recent --set`), can change for the rules after it.
 *
 * Everything is a bit set of {@linkcode StateKind}s so the planner can compare "what lies between
 * the copies may write" with "what the copy reads" in a few integer operations.
 */
import type { Rule, RuleOption, RuleSpec } from "../model/ruleset.ts";
import { TERMINATING_TARGETS } from "../parse/known-extensions.ts";
import { classifyMatch } from "./classify-match.ts";
import { ALL_STATE, StateKind } from "./state-kind.ts";

/** What the rule's target does to a packet that matched. */
export type RuleAction =
  /** ACCEPT, DROP, REJECT and the NAT targets: the traversal of the hook ends here. */
  | { readonly kind: "verdict"; readonly name: string }
  /** RETURN: leaves the chain (to the caller, or to the policy of a built-in chain). */
  | { readonly kind: "return" }
  | { readonly kind: "jump"; readonly chain: string }
  | { readonly kind: "goto"; readonly chain: string }
  /**
   * An idempotent overwrite (MARK --set-xmark V/M with V inside M, CONNMARK likewise, CT, NOTRACK,
   * DSCP, CLASSIFY): applying it a second time to its own result changes nothing.
   */
  | { readonly kind: "set"; readonly name: string; readonly reads: number; readonly writes: number }
  /** A target with a side effect or a non-idempotent change: a second application is not a no-op. */
  | { readonly kind: "effect"; readonly name: string; readonly writes: number; readonly reason: string }
  /** A rule without a target only counts packets. */
  | { readonly kind: "none" }
  | { readonly kind: "unknown"; readonly name: string; readonly reason: string };

/** The analysis of one rule, independent of its position. */
export interface RuleEffect {
  /** State the rule's matches read (their outcome can change when this state changes). */
  readonly matchReads: number;
  /** State the rule's matches themselves change (`recent --set`, `socket --restore-skmark`). */
  readonly matchWrites: number;
  /**
   * Why evaluating the rule has per-evaluation state or a side effect in its matches (statistic,
   * limit, quota, recent...): a second copy is a different, independent instance and must stay.
   */
  readonly stateful?: string;
  /** Why the rule cannot be reasoned about (unknown match module). */
  readonly unknown?: string;
  /** True when the rule matches every packet (no criteria beyond comments). */
  readonly unconditional: boolean;
  readonly action: RuleAction;
}

function has(options: readonly RuleOption[], ...names: string[]): boolean {
  return options.some((o) => names.includes(o.name));
}

/** Parses an iptables mark number (decimal or 0x hex) as an unsigned 32-bit value. */
function u32(text: string | undefined): number | undefined {
  if (text === undefined || !/^(0x[0-9a-f]+|\d+)$/i.test(text)) return undefined;
  const n = Number(text);
  return n >= 0 && n <= 0xffffffff ? n : undefined;
}

/** `V/M` or `V` (mask defaults to 0xffffffff). */
function valueMask(text: string | undefined): [number, number] | undefined {
  if (text === undefined) return undefined;
  const [v, m] = text.split("/");
  const value = u32(v);
  const mask = m === undefined ? 0xffffffff : u32(m);
  return value === undefined || mask === undefined ? undefined : [value, mask];
}

function option(options: readonly RuleOption[], name: string): string | undefined {
  return options.find((o) => o.name === name)?.values[0];
}

/**
 * MARK/CONNMARK/TOS-style `--set-xmark V/M` computes `(old & ~M) ^ V`. Applied twice it is the same
 * as once exactly when V has no bit outside M; `--xor-mark` (V/0) toggles and is not idempotent.
 */
function xmarkAction(name: string, options: readonly RuleOption[], writes: number): RuleAction {
  const notIdempotent = (why: string): RuleAction => ({ kind: "effect", name, writes, reason: why });
  if (options.length === 0) return notIdempotent(`${name} without options is not understood`);
  const first = options[0]!;
  switch (first.name) {
    case "--set-xmark":
    case "--set-tos": {
      const vm = valueMask(first.values[0]);
      if (vm === undefined)
        return notIdempotent(`${name} ${first.name} ${first.values[0] ?? ""} is not understood`);
      if ((vm[0] & ~vm[1]) >>> 0 !== 0) {
        return notIdempotent(
          `${name} ${first.name} ${first.values[0]} toggles bits outside its mask (an xor)`,
        );
      }
      return { kind: "set", name, reads: 0, writes };
    }
    case "--set-mark":
    case "--or-mark":
    case "--and-mark":
    case "--or-tos":
    case "--and-tos":
      return { kind: "set", name, reads: 0, writes };
    case "--xor-mark":
    case "--xor-tos":
      return notIdempotent(`${name} ${first.name} toggles bits`);
    default:
      return notIdempotent(`${name} ${first.name} is not known to be idempotent`);
  }
}

function connmarkAction(options: readonly RuleOption[]): RuleAction {
  const save = has(options, "--save-mark");
  const restore = has(options, "--restore-mark");
  if (!save && !restore) return xmarkAction("CONNMARK", options, StateKind.connmark);
  const both = valueMask(option(options, "--mask"))?.[1] ?? 0xffffffff;
  const nfmask = valueMask(option(options, "--nfmask"))?.[1] ?? both;
  const ctmask = valueMask(option(options, "--ctmask"))?.[1] ?? both;
  // save: ctmark = (ctmark & ~ctmask) ^ (mark & nfmask); idempotent when nfmask has no bit outside ctmask.
  // restore: mark = (mark & ~nfmask) ^ (ctmark & ctmask); idempotent when ctmask has no bit outside nfmask.
  const ok = save ? (nfmask & ~ctmask) >>> 0 === 0 : (ctmask & ~nfmask) >>> 0 === 0;
  const reads = save ? StateKind.mark : StateKind.connmark;
  const writes = save ? StateKind.connmark : StateKind.mark;
  if (!ok) return { kind: "effect", name: "CONNMARK", writes, reason: "CONNMARK with these masks xors bits" };
  return { kind: "set", name: "CONNMARK", reads, writes };
}

/** Targets with a side effect on every packet, or a change that is not a fixed overwrite. */
const EFFECT_TARGETS: Readonly<Record<string, readonly [number, string]>> = {
  LOG: [0, "LOG writes a kernel log line for every packet"],
  NFLOG: [0, "NFLOG sends every packet to a userspace logger"],
  ULOG: [0, "ULOG sends every packet to a userspace logger"],
  AUDIT: [0, "AUDIT writes an audit record for every packet"],
  TRACE: [0, "TRACE turns on packet tracing"],
  NFQUEUE: [0, "NFQUEUE hands the packet to userspace, which decides its fate"],
  QUEUE: [0, "QUEUE hands the packet to userspace, which decides its fate"],
  TEE: [0, "TEE clones every packet"],
  IDLETIMER: [0, "IDLETIMER resets a timer on every packet"],
  LED: [0, "LED blinks on every packet"],
  RATEEST: [0, "RATEEST feeds a rate estimator"],
  SET: [StateKind.ipset, "SET adds or removes ipset entries"],
  HMARK: [StateKind.mark, "HMARK is not classified as idempotent"],
  TPROXY: [StateKind.mark, "TPROXY diverts the packet to a local socket"],
  SECMARK: [StateKind.secmark, "SECMARK is not classified as idempotent"],
  CONNSECMARK: [StateKind.secmark, "CONNSECMARK is not classified as idempotent"],
  CHECKSUM: [StateKind.header, "CHECKSUM rewrites the packet"],
  TCPMSS: [StateKind.header, "TCPMSS rewrites the packet"],
  TCPOPTSTRIP: [StateKind.header, "TCPOPTSTRIP rewrites the packet"],
  ECN: [StateKind.header, "ECN rewrites the packet"],
  TTL: [StateKind.header, "TTL may decrement or increment"],
  HL: [StateKind.header, "HL may decrement or increment"],
  SYNPROXY: [ALL_STATE, "SYNPROXY answers handshakes itself"],
  CLUSTERIP: [ALL_STATE, "CLUSTERIP rewrites the packet"],
};

/**
 * What a rule's target does. `isChain` tells whether a name is a chain of the rule's table (a jump),
 * as opposed to a target extension.
 */
export function classifyTarget(spec: RuleSpec, isChain: (name: string) => boolean): RuleAction {
  const target = spec.target;
  if (target === undefined) return { kind: "none" };
  const name = target.name;
  if (target.kind === "goto") {
    return isChain(name)
      ? { kind: "goto", chain: name }
      : { kind: "unknown", name, reason: `goto to unknown chain "${name}"` };
  }
  if (TERMINATING_TARGETS.has(name)) return { kind: "verdict", name };
  if (name === "RETURN") return { kind: "return" };
  if (isChain(name)) return { kind: "jump", chain: name };
  switch (name) {
    case "MARK":
      return xmarkAction("MARK", target.options, StateKind.mark);
    case "CONNMARK":
      return connmarkAction(target.options);
    case "TOS":
      return xmarkAction("TOS", target.options, StateKind.header);
    case "CT":
    case "NOTRACK":
      // The kernel ignores CT on a packet that already has a conntrack entry attached
      // (xt_CT: "Previously seen (loopback)? Ignore."), so a second copy never changes anything.
      return { kind: "set", name, reads: 0, writes: StateKind.ct };
    case "DSCP":
      return { kind: "set", name, reads: 0, writes: StateKind.header };
    case "CLASSIFY":
      return { kind: "set", name, reads: 0, writes: StateKind.priority };
    default:
      break;
  }
  const effect = EFFECT_TARGETS[name];
  if (effect !== undefined) return { kind: "effect", name, writes: effect[0], reason: effect[1] };
  return {
    kind: "unknown",
    name,
    reason: `target "${name}" is neither a known target nor a chain of the table`,
  };
}

/** True when the rule has no criterion that can fail (comments only). */
function isUnconditional(spec: RuleSpec): boolean {
  if (spec.source || spec.destination || spec.inInterface || spec.outInterface || spec.fragment) return false;
  const p = spec.protocol;
  if (p !== undefined && (p.negated || (p.value !== "all" && p.value !== "0"))) return false;
  return spec.matches.every((m) => m.module === "comment");
}

/** Analyses one rule. */
export function ruleEffect(rule: Rule, isChain: (name: string) => boolean): RuleEffect {
  const spec = rule.spec;
  let matchReads = 0;
  let matchWrites = 0;
  let stateful: string | undefined;
  let unknown: string | undefined;
  for (const m of spec.matches) {
    const c = classifyMatch(m);
    matchReads |= c.reads;
    matchWrites |= c.writes;
    stateful ??= c.stateful;
    unknown ??= c.unknown;
  }
  const effect: RuleEffect = {
    matchReads,
    matchWrites,
    unconditional: isUnconditional(spec),
    action: classifyTarget(spec, isChain),
  };
  if (stateful !== undefined) (effect as { stateful?: string }).stateful = stateful;
  if (unknown !== undefined) (effect as { unknown?: string }).unknown = unknown;
  return effect;
}
