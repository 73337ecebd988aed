/**
 * Walks one base chain with nftables semantics: rule by rule; `jump` pushes a return point, `goto`
 * does not; `return` (or the end of a chain) goes back to the last return point, or to the base
 * chain's policy when there is none; `continue` goes on with the next rule; verdict maps jump, go to
 * or decide like the verdict they map to. Random expressions fork the walk into paths whose
 * probabilities add up to the input's.
 */

import type { NatContext } from "./eval-nat.ts";
import { type Did, evalRule, type RuleBranch } from "./eval-rule.ts";
import { cloneState, type NftEvidence, type NftStep, type PacketState } from "./nft-packet.ts";
import type { NftChain, NftRule, NftTable } from "./nft-ruleset.ts";

/** How a base chain ended for one path. */
export type ChainEnd =
  | { readonly kind: "accept"; readonly by: "rule" | "policy" | "nat" }
  | { readonly kind: "drop"; readonly by: "rule" | "policy" }
  | { readonly kind: "reject"; readonly type: string; readonly code: string }
  | { readonly kind: "undecided"; readonly reason: string };

export interface ChainPath {
  /** The packet after the chain (probability and steps included). */
  readonly state: PacketState;
  readonly end: ChainEnd;
}

/** Where evidence points: `nft-ruleset.txt` lines when the text dump was parsed, else the JSON file. */
export interface EvidenceFiles {
  readonly json: string;
  readonly text?: string;
}

/** What evaluating a chain needs besides the packet (the rule's table is added per chain). */
export interface ChainContext extends Omit<NatContext, "table"> {
  readonly files: EvidenceFiles;
  /**
   * Evaluates a base chain from other evidence (an iptables-nft table's chain from iptables-save, in
   * the whole-host trace): its paths, or undefined to evaluate the nft rules. Called with a copy of
   * the packet state; the returned states carry their own steps.
   */
  readonly delegate?: (table: NftTable, chain: NftChain, st: PacketState) => ChainPath[] | undefined;
}

/** The kernel's jump stack (NFT_JUMP_STACK_SIZE). */
const MAX_DEPTH = 16;
/** Rules visited on one path before giving up (a guard against malformed input, not a kernel limit). */
const MAX_VISITS = 100_000;

interface Frame {
  readonly chain: NftChain;
  readonly next: number;
}

/** Evidence of a rule: its text line (with handle) or, without text, the JSON file and handle. */
export function ruleEvidence(rule: NftRule, files: EvidenceFiles): NftEvidence {
  if (rule.text !== undefined && files.text !== undefined) {
    return { file: files.text, line: rule.text.line, handle: rule.handle, text: rule.text.text };
  }
  return {
    file: files.json,
    handle: rule.handle,
    text: `rule ${rule.family} ${rule.table} ${rule.chain} handle ${rule.handle}`,
  };
}

/** Evidence of a chain declaration (for a policy step). */
export function chainEvidence(chain: NftChain, files: EvidenceFiles): NftEvidence {
  const b = chain.base;
  const decl =
    b === undefined ? "" : ` { type ${b.type} hook ${b.hook} priority ${b.priority}; policy ${b.policy}; }`;
  if (chain.text !== undefined && files.text !== undefined) {
    return {
      file: files.text,
      line: chain.text.line,
      text: `${chain.text.text}${decl === "" ? "" : ` -${decl}`}`,
    };
  }
  return { file: files.json, text: `chain ${chain.family} ${chain.table} ${chain.name}${decl}` };
}

class Walker {
  readonly out: ChainPath[] = [];
  readonly ctx: NatContext & { readonly files: EvidenceFiles };
  visits = 0;

  constructor(
    readonly table: NftTable,
    readonly base: NftChain,
    ctx: ChainContext,
  ) {
    this.ctx = { ...ctx, table };
  }

  step(st: PacketState, rule: NftRule, actions: readonly Did[]): void {
    st.steps.push({
      family: rule.family,
      table: rule.table,
      chain: rule.chain,
      handle: rule.handle,
      kind: "rule",
      action: actions
        .map((a) => a.text)
        .filter((t) => t !== "")
        .join("; "),
      acts: actions.map((a) => a.act),
      evidence: ruleEvidence(rule, this.ctx.files),
    });
  }

  finish(st: PacketState, end: ChainEnd): void {
    this.out.push({ state: st, end });
  }

  policy(st: PacketState): void {
    const b = this.base.base!;
    const s: NftStep = {
      family: this.base.family,
      table: this.base.table,
      chain: this.base.name,
      kind: "policy",
      action: `policy ${b.policy}`,
      acts: [{ kind: "policy", policy: b.policy }],
      evidence: chainEvidence(this.base, this.ctx.files),
    };
    st.steps.push(s);
    this.finish(st, b.policy === "drop" ? { kind: "drop", by: "policy" } : { kind: "accept", by: "policy" });
  }

  /** Back to the last return point, or the policy. */
  pop(st: PacketState, stack: readonly Frame[]): void {
    const top = stack.at(-1);
    if (top === undefined) this.policy(st);
    else this.run(top.chain, top.next, st, stack.slice(0, -1));
  }

  enter(target: string, st: PacketState, stack: readonly Frame[]): void {
    const chain = this.table.chains.get(target);
    if (chain === undefined) {
      this.finish(st, {
        kind: "undecided",
        reason: `chain ${target} is not in table ${this.table.family} ${this.table.name}`,
      });
    } else if (stack.length >= MAX_DEPTH) {
      this.finish(st, { kind: "undecided", reason: `jumps nest deeper than ${MAX_DEPTH} chains` });
    } else this.run(chain, 0, st, stack);
  }

  branch(chain: NftChain, i: number, b: RuleBranch, stack: readonly Frame[]): boolean {
    const { st, end } = b;
    const rule = chain.rules[i]!;
    if (end.kind !== "undecided" && b.actions.length > 0) this.step(st, rule, b.actions);
    switch (end.kind) {
      case "next":
        return true;
      case "undecided":
        st.steps.push({
          family: rule.family,
          table: rule.table,
          chain: rule.chain,
          handle: rule.handle,
          kind: "rule",
          action: `cannot evaluate: ${end.reason}`,
          acts: [{ kind: "cannot-decide", reason: end.reason }],
          evidence: ruleEvidence(rule, this.ctx.files),
        });
        this.finish(st, {
          kind: "undecided",
          reason: `rule handle ${rule.handle} in chain ${chain.name}: ${end.reason}`,
        });
        return false;
      case "nat":
        this.finish(st, { kind: "accept", by: "nat" });
        return false;
      case "drop":
        this.finish(st, { kind: "drop", by: "rule" });
        return false;
      case "reject":
        this.finish(st, { kind: "reject", type: end.type, code: end.code });
        return false;
      case "verdict": {
        const v = end.verdict;
        if (v.kind === "continue") return true;
        if (v.kind === "accept") this.finish(st, { kind: "accept", by: "rule" });
        else if (v.kind === "drop") this.finish(st, { kind: "drop", by: "rule" });
        else if (v.kind === "return") this.pop(st, stack);
        else if (v.kind === "jump") this.enter(v.target, st, [...stack, { chain, next: i + 1 }]);
        else if (v.kind === "goto") this.enter(v.target, st, stack);
        return false;
      }
      default: {
        const never: never = end;
        throw new TypeError(`Unknown rule end ${JSON.stringify(never)}`);
      }
    }
  }

  run(chain: NftChain, start: number, st: PacketState, stack: readonly Frame[]): void {
    for (let i = start; i < chain.rules.length; i++) {
      if (++this.visits > MAX_VISITS) {
        this.finish(st, { kind: "undecided", reason: `more than ${MAX_VISITS} rules on one path` });
        return;
      }
      const branches = evalRule(chain.rules[i]!, st, this.ctx);
      if (branches.length === 1) {
        if (!this.branch(chain, i, branches[0]!, stack)) return;
        st = branches[0]!.st;
        continue;
      }
      for (const b of branches) if (this.branch(chain, i, b, stack)) this.run(chain, i + 1, b.st, stack);
      return;
    }
    this.pop(st, stack);
  }
}

/**
 * Every path of `st` through base chain `chain` of `table`. `st` is not changed; each path has its
 * own copy with the steps appended.
 */
export function evalBaseChain(
  table: NftTable,
  chain: NftChain,
  st: PacketState,
  ctx: ChainContext,
): ChainPath[] {
  if (chain.base === undefined)
    throw new TypeError(`Cannot evaluate chain ${chain.name} as a base chain: it has no hook`);
  const delegated = ctx.delegate?.(table, chain, cloneState(st));
  if (delegated !== undefined) return delegated;
  const w = new Walker(table, chain, ctx);
  w.run(chain, 0, cloneState(st), []);
  return w.out;
}
