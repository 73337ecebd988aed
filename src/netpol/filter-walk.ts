/**
 * A small walk of the first packet of a connection through one built-in chain of the filter
 * table (FORWARD for pod-to-pod traffic routed by the node, OUTPUT/INPUT for the node's own), with
 * jumps, gotos, RETURN, MARK and the verdicts. It exists so kube-router's NetworkPolicy chains can
 * be evaluated with ipset contents (see filter-match.ts) until netdoctor's tracer calls matchSet
 * itself; it stops as undecided at the first test it cannot decide.
 */
import type { SetEvidence } from "../ipset/match-set.ts";
import type { Rule, RuleOption, Ruleset, Target } from "../model/ruleset.ts";
import { type FilterContext, type FilterPacket, ruleMatches } from "./filter-match.ts";

export type FilterVerdict = "accept" | "drop" | "reject" | "undecided";

/** One rule that matched (or the chain policy that applied). */
export interface WalkStep {
  readonly chain: string;
  /** 1-indexed line in the dump. */
  readonly line: number;
  readonly rule: string;
  readonly action: string;
  /** The parsed rule, when a rule (not a policy) matched. */
  readonly ruleRef?: Rule;
}

export interface FilterWalk {
  readonly verdict: FilterVerdict;
  readonly reason: string;
  readonly steps: readonly WalkStep[];
  /** The ipset lines every evaluated `-m set` read. */
  readonly setEvidence: readonly SetEvidence[];
  readonly mark: number;
  readonly rejectWith?: string;
}

const MAX_STEPS = 100_000;

function optionValue(options: readonly RuleOption[], name: string): string | undefined {
  return options.find((o) => o.name === name)?.values[0];
}

/** MARK target: `--set-xmark v/m` (what iptables-save prints), `--set-mark`, `--and/--or/--xor-mark`. */
export function applyMark(mark: number, options: readonly RuleOption[]): number | undefined {
  const parse = (t: string | undefined) => {
    if (t === undefined) return undefined;
    const [v, m] = t.split("/");
    const val = Number(v);
    const mask = m === undefined ? 0xffffffff : Number(m);
    return Number.isInteger(val) && Number.isInteger(mask) ? { val: val >>> 0, mask: mask >>> 0 } : undefined;
  };
  const x = parse(optionValue(options, "--set-xmark"));
  if (x !== undefined) return (((mark & ~x.mask) >>> 0) ^ x.val) >>> 0;
  const s = parse(optionValue(options, "--set-mark"));
  if (s !== undefined) return (((mark & ~s.mask) >>> 0) | s.val) >>> 0;
  const and = parse(optionValue(options, "--and-mark"));
  if (and !== undefined) return (mark & and.val) >>> 0;
  const or = parse(optionValue(options, "--or-mark"));
  if (or !== undefined) return (mark | or.val) >>> 0;
  const xor = parse(optionValue(options, "--xor-mark"));
  if (xor !== undefined) return (mark ^ xor.val) >>> 0;
  return undefined;
}

const CONTINUE_TARGETS = new Set(["LOG", "NFLOG", "ULOG", "TRACE", "AUDIT"]);

type TargetEffect =
  | { kind: "verdict"; verdict: "accept" | "drop" | "reject"; action: string; rejectWith?: string }
  | { kind: "undecided"; action: string; reason: string }
  | { kind: "return" | "jump" | "continue"; action: string }
  | { kind: "mark"; action: string; mark: number };

/** What a matching rule's target does to the walk. */
function targetEffect(target: Target, mark: number, isChain: boolean): TargetEffect {
  switch (target.name) {
    case "ACCEPT":
      return { kind: "verdict", verdict: "accept", action: "ACCEPT" };
    case "DROP":
      return { kind: "verdict", verdict: "drop", action: "DROP" };
    case "REJECT": {
      const rw = optionValue(target.options, "--reject-with") ?? "icmp-port-unreachable";
      return { kind: "verdict", verdict: "reject", action: `REJECT ${rw}`, rejectWith: rw };
    }
    case "RETURN":
      return { kind: "return", action: "RETURN" };
    case "MARK": {
      const next = applyMark(mark, target.options);
      if (next === undefined)
        return { kind: "undecided", action: "undecided", reason: "MARK options are not known" };
      return { kind: "mark", action: `MARK 0x${next.toString(16)}`, mark: next };
    }
    default:
      if (CONTINUE_TARGETS.has(target.name)) return { kind: "continue", action: target.name };
      if (isChain) return { kind: "jump", action: `${target.kind} ${target.name}` };
      return { kind: "undecided", action: "undecided", reason: `target ${target.name} is not simulated` };
  }
}

interface Frame {
  readonly chain: string;
  index: number;
}

/**
 * Walks `packet` through filter `hook` of `ruleset`.
 *
 * @example
 * ```ts
 * const w = walkFilter(parseDump(save), "FORWARD", packet, { sets, localIps: [nodeIp], bridged: false });
 * w.verdict; // "reject"
 * ```
 */
export function walkFilter(
  ruleset: Ruleset,
  hook: "FORWARD" | "INPUT" | "OUTPUT",
  packet: FilterPacket,
  ctx: FilterContext,
): FilterWalk {
  const filter = ruleset.tables.get("filter");
  const steps: WalkStep[] = [];
  const setEvidence: SetEvidence[] = [];
  let mark = packet.mark ?? 0;
  const done = (verdict: FilterVerdict, reason: string, rejectWith?: string | undefined): FilterWalk => ({
    verdict,
    reason,
    steps,
    setEvidence,
    mark,
    ...(rejectWith === undefined ? {} : { rejectWith }),
  });
  const builtin = filter?.chains.get(hook);
  if (filter === undefined || builtin === undefined)
    return done("accept", `the dump has no filter ${hook} chain: nothing filters the packet`);
  const stack: Frame[] = [{ chain: hook, index: 0 }];
  const policyOf = (): FilterWalk => {
    const policy = builtin.policy ?? "ACCEPT";
    steps.push({ chain: hook, line: builtin.line, rule: `:${hook} ${policy}`, action: `policy ${policy}` });
    return done(policy === "DROP" ? "drop" : "accept", `${hook} policy ${policy}`);
  };
  for (let n = 0; n < MAX_STEPS; n++) {
    const frame = stack.at(-1);
    if (frame === undefined) return policyOf();
    const chain = filter.chains.get(frame.chain)!;
    const rule = chain.rules[frame.index++];
    if (rule === undefined) {
      if (chain.builtin) return policyOf();
      stack.pop();
      continue;
    }
    const r = ruleMatches(rule.spec, { ...packet, mark }, ctx, setEvidence);
    if (typeof r === "string") {
      steps.push({ chain: chain.name, line: rule.line, rule: rule.text, action: "undecided", ruleRef: rule });
      return done("undecided", `line ${rule.line}: ${r}`);
    }
    if (!r) continue;
    const target = rule.spec.target;
    if (target === undefined) continue;
    const t = targetEffect(target, mark, filter.chains.has(target.name));
    steps.push({ chain: chain.name, line: rule.line, rule: rule.text, action: t.action, ruleRef: rule });
    switch (t.kind) {
      case "verdict":
        return done(t.verdict, `${chain.name} line ${rule.line} ${t.action}`, t.rejectWith);
      case "undecided":
        return done("undecided", `line ${rule.line}: ${t.reason}`);
      case "return":
        if (chain.builtin) return policyOf();
        stack.pop();
        break;
      case "mark":
        mark = t.mark;
        break;
      case "jump":
        // A goto replaces the current chain: its end returns to the chain that called this one.
        if (target.kind === "goto") stack.pop();
        stack.push({ chain: target.name, index: 0 });
        break;
      case "continue":
        break;
      default: {
        const never: never = t;
        throw new TypeError(`Unknown effect ${String(never)}`);
      }
    }
  }
  return done("undecided", `the walk did not end within ${MAX_STEPS} rules (a loop?)`);
}
