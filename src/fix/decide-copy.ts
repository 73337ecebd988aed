/**
 * The decision for one exact copy of a rule, against the nearest earlier copy that stays and the
 * state the rules between them may change. The reasoning is in plan-duplicates.ts and
 * docs/fix-duplicates.md; each decision carries a sentence that says why.
 */
import type { Rule } from "../model/ruleset.ts";
import type { ChainAnalyzer } from "./chain-analyzer.ts";
import type { RuleEffect } from "./rule-effect.ts";
import { ALL_STATE, stateNames } from "./state-kind.ts";

/** Whether a copy goes, and why. */
export interface Decision {
  readonly remove: boolean;
  readonly reason: string;
}

/** The state kinds that some staying rule after index `prev` may have changed. */
export function writesAfter(lastWrite: Int32Array, prev: number): number {
  let bits = 0;
  for (let k = 0; k < 8; k++) if (lastWrite[k]! > prev) bits |= 1 << k;
  return bits;
}

/** The first staying rule after `prev` that may change one of `bits`, for the reason text. */
function writerLine(lastWrite: Int32Array, bits: number, lineAt: (index: number) => number): number {
  let best = Number.MAX_SAFE_INTEGER;
  for (let k = 0; k < 8; k++)
    if ((bits & (1 << k)) !== 0 && lastWrite[k]! >= 0) best = Math.min(best, lastWrite[k]!);
  return best === Number.MAX_SAFE_INTEGER ? 0 : lineAt(best);
}

/** One copy to decide, in the chain as it is after the removals so far. */
export interface CopyContext {
  /** The copy. */
  readonly rule: Rule;
  /** The nearest earlier copy that stays. */
  readonly kept: Rule;
  /** State kinds that the staying rules between the two may change ({@linkcode writesAfter}). */
  readonly between: number;
  /** Per state kind, the index of the last staying rule before the copy that may change it. */
  readonly lastWrite: Int32Array;
  /** The line of the chain's rule at a position. */
  readonly lineAt: (index: number) => number;
}

/**
 * Whether a copy can be removed, and why (see plan-duplicates.ts for the reasoning). Never removes
 * a copy with per-evaluation state, side effects or anything unknown.
 */
export function decideCopy(analyzer: ChainAnalyzer, copy: CopyContext): Decision {
  const { rule, kept, between, lastWrite, lineAt } = copy;
  const e: RuleEffect = analyzer.effect(rule);
  const keep = (reason: string): Decision => ({ remove: false, reason });
  if (e.unknown !== undefined) return keep(`${e.unknown}: its behaviour cannot be checked`);
  if (e.stateful !== undefined) return keep(`${e.stateful}: the copies are independent`);
  const conflict = (bits: number, what: string): Decision | undefined => {
    const c = between & bits;
    if (c === 0) return undefined;
    const line = writerLine(lastWrite, c, lineAt);
    return keep(
      `line ${line}, between the copies, may change ${stateNames(c === ALL_STATE ? ALL_STATE : c)}, which ${what}`,
    );
  };
  const a = e.action;
  switch (a.kind) {
    case "none":
      return {
        remove: true,
        reason: `line ${kept.line} is the same rule and has no target: a copy only counts packets`,
      };
    case "verdict":
    case "return":
    case "goto": {
      const c = conflict(e.matchReads, "this copy matches on");
      if (c !== undefined) return c;
      const how =
        a.kind === "verdict"
          ? `ends the traversal with ${a.name}`
          : a.kind === "return"
            ? "leaves the chain with RETURN"
            : `leaves the chain with a goto to ${a.chain}`;
      return {
        remove: true,
        reason: `dead: line ${kept.line} ${how} for every packet it matches and nothing between the copies changes what they match on, so no packet can match this copy`,
      };
    }
    case "jump": {
      const s = analyzer.summary(a.chain);
      if (s.neverReturns) {
        const c = conflict(e.matchReads, "this copy matches on");
        if (c !== undefined) return c;
        return {
          remove: true,
          reason: `dead: line ${kept.line} jumps to ${a.chain}, which never returns, and nothing between the copies changes what they match on, so no packet can match this copy`,
        };
      }
      if (s.unsafe !== undefined) {
        return keep(`jump to ${a.chain}, which may return, and a second traversal can differ: ${s.unsafe}`);
      }
      const c = conflict(e.matchReads | s.reads | s.writes, "this copy or its chain reads or writes");
      if (c !== undefined) return c;
      const what =
        s.writes === 0 ? "changes nothing" : `only overwrites ${stateNames(s.writes)} with the same values`;
      return {
        remove: true,
        reason: `idempotent: line ${kept.line} already jumped to ${a.chain}, whose second traversal takes the same path and ${what}, and nothing between the copies touches that state`,
      };
    }
    case "set": {
      const c = conflict(e.matchReads | a.reads | a.writes, "this copy reads or writes");
      if (c !== undefined) return c;
      return {
        remove: true,
        reason: `idempotent: line ${kept.line} already applied ${a.name}, an overwrite of ${stateNames(a.writes)} that changes nothing when repeated, and nothing between the copies touches that state`,
      };
    }
    case "effect":
      return keep(`${a.reason}: every copy acts again`);
    case "unknown":
      return keep(`${a.reason}: its behaviour cannot be checked`);
    default: {
      const unreachable: never = a;
      throw new TypeError(`Unknown action ${String(unreachable)}`);
    }
  }
}
