import type { Rule, Table } from "../model/ruleset.ts";
import { type RuleAction, type RuleEffect, ruleEffect } from "./rule-effect.ts";
import { ALL_STATE, stateNames as describe } from "./state-kind.ts";

/**
 * What jumping into a user chain does, seen from the rule after the jump (the "returning paths").
 *
 * A packet that jumps into chain X either ends the traversal inside X (a verdict, or a chain that
 * never comes back) or comes back to the caller: it fell off the end of X, matched a RETURN, or
 * went through a goto'd chain that returned. Only the packets that come back can reach the rules
 * after the jump, so only what happens on those paths matters here.
 */
export interface ChainSummary {
  /**
   * True when no packet that enters the chain ever comes back to the caller: the chain ends with
   * an unconditional verdict (or a jump/goto to such a chain) and no RETURN or returning goto can be
   * reached before it. A jump to such a chain is as terminating as ACCEPT.
   */
  readonly neverReturns: boolean;
  /** State that the decisions on the returning paths read (match outcomes, targets' inputs). */
  readonly reads: number;
  /** State that may have changed when the packet comes back. */
  readonly writes: number;
  /**
   * Why a second traversal right after the first can behave differently; undefined when it cannot:
   * every decision reads only state that the chain does not write, and every change is an
   * idempotent overwrite, so the second pass takes the same path and changes nothing.
   */
  readonly unsafe?: string;
}

/** The summary assumed for a chain while it is being analysed (a loop, which the kernel refuses). */
const IN_PROGRESS: ChainSummary = {
  neverReturns: false,
  reads: ALL_STATE,
  writes: ALL_STATE,
  unsafe: "the chain is part of a jump loop",
};

/**
 * Analyses the rules and user chains of one table, memoising per rule text (exact copies share
 * one analysis, which keeps a leak of 180,000 copies cheap) and per chain.
 */
export class ChainAnalyzer {
  readonly #table: Table;
  readonly #effects = new Map<string, RuleEffect>();
  readonly #chains = new Map<string, ChainSummary>();
  readonly #isChain: (name: string) => boolean;

  constructor(table: Table) {
    this.#table = table;
    this.#isChain = (name) => table.chains.has(name);
  }

  /** The position-independent analysis of a rule (cached by its text; pass `text` when already read). */
  effect(rule: Rule, text: string = rule.text): RuleEffect {
    let e = this.#effects.get(text);
    if (e === undefined) {
      e = ruleEffect(rule, this.#isChain);
      this.#effects.set(text, e);
    }
    return e;
  }

  /** The summary of a user chain (see {@linkcode ChainSummary}). */
  summary(chain: string): ChainSummary {
    const known = this.#chains.get(chain);
    if (known !== undefined) return known;
    this.#chains.set(chain, IN_PROGRESS);
    const result = this.#analyse(chain);
    this.#chains.set(chain, result);
    return result;
  }

  /** True when a packet that matched a rule with this action never reaches the next rule of its chain. */
  terminates(action: RuleAction): boolean {
    switch (action.kind) {
      case "verdict":
      case "return":
      case "goto":
        return true;
      case "jump":
        return this.summary(action.chain).neverReturns;
      case "set":
      case "effect":
      case "none":
      case "unknown":
        return false;
      default: {
        const unreachable: never = action;
        throw new TypeError(`Unknown action ${String(unreachable)}`);
      }
    }
  }

  /**
   * State a rule may change for the packets that go on to the next rule of its chain. Packets that
   * end the traversal (verdicts, RETURN, gotos, jumps into chains that never return) never reach it.
   */
  continuingWrites(rule: Rule, text: string = rule.text): number {
    const e = this.effect(rule, text);
    let writes = e.matchWrites;
    if (e.unknown !== undefined) return ALL_STATE;
    const a = e.action;
    switch (a.kind) {
      case "verdict":
      case "return":
      case "goto":
      case "none":
        break;
      case "jump": {
        const s = this.summary(a.chain);
        if (!s.neverReturns) writes |= s.writes;
        break;
      }
      case "set":
      case "effect":
        writes |= a.writes;
        break;
      case "unknown":
        return ALL_STATE;
      default: {
        const unreachable: never = a;
        throw new TypeError(`Unknown action ${String(unreachable)}`);
      }
    }
    return writes;
  }

  /**
   * Walks the chain once. Effects and decisions are first collected as "pending"; they are committed
   * to the summary when a later point can return to the caller (a RETURN, a goto into a chain that
   * may return, the end of the chain). An unconditional verdict discards what is pending: every
   * packet that got that far ends its traversal, so none of it is seen by a returning packet. This is
   * what makes kube-proxy's KUBE-POSTROUTING (test mark, RETURN; xor mark; MASQUERADE) safe to repeat.
   */
  #analyse(name: string): ChainSummary {
    const chain = this.#table.chains.get(name);
    if (chain === undefined) return { ...IN_PROGRESS, unsafe: `chain "${name}" is not declared` };
    const w = walkState();
    for (const rule of chain.rules) {
      const e = this.effect(rule);
      const where = `line ${rule.line}`;
      w.pReads |= e.matchReads;
      w.pWrites |= e.matchWrites;
      if (e.unknown !== undefined) {
        flag(w, `${where}: ${e.unknown}`);
        w.pWrites = ALL_STATE;
      }
      if (e.stateful !== undefined) flag(w, `${where}: ${e.stateful}`);
      const a = e.action;
      switch (a.kind) {
        case "verdict":
          if (e.unconditional) return finish(w, !w.mayReturn);
          break;
        case "return":
          commit(w);
          w.mayReturn = true;
          if (e.unconditional) return finish(w, false);
          break;
        case "goto":
        case "jump": {
          const s = this.summary(a.chain);
          if (s.neverReturns) {
            if (e.unconditional) return finish(w, !w.mayReturn);
            break;
          }
          w.pReads |= s.reads;
          w.pWrites |= s.writes;
          if (s.unsafe !== undefined) flag(w, `${where}: ${a.kind} to ${a.chain}: ${s.unsafe}`);
          if (a.kind === "goto") {
            // A goto'd chain that returns, returns past this chain to its caller.
            commit(w);
            w.mayReturn = true;
            if (e.unconditional) return finish(w, false);
          }
          break;
        }
        case "set":
          w.pReads |= a.reads;
          w.pWrites |= a.writes;
          break;
        case "effect":
          w.pWrites |= a.writes;
          flag(w, `${where}: ${a.reason}`);
          break;
        case "none":
          break;
        case "unknown":
          w.pWrites = ALL_STATE;
          flag(w, `${where}: ${a.reason}`);
          break;
        default: {
          const unreachable: never = a;
          throw new TypeError(`Unknown action ${String(unreachable)}`);
        }
      }
    }
    // Falling off the end returns to the caller.
    commit(w);
    return finish(w, false);
  }
}

/**
 * What the walk of one chain has found so far: reads, writes and the first unsafe reason that are
 * committed (a returning packet sees them), and those still pending (see ChainAnalyzer#analyse).
 */
interface WalkState {
  reads: number;
  writes: number;
  unsafe: string | undefined;
  pReads: number;
  pWrites: number;
  pUnsafe: string | undefined;
  mayReturn: boolean;
}

function walkState(): WalkState {
  return {
    reads: 0,
    writes: 0,
    unsafe: undefined,
    pReads: 0,
    pWrites: 0,
    pUnsafe: undefined,
    mayReturn: false,
  };
}

function flag(w: WalkState, why: string): void {
  w.pUnsafe ??= why;
}

/** A point the packet can return to the caller from: what is pending becomes committed. */
function commit(w: WalkState): void {
  w.reads |= w.pReads;
  w.writes |= w.pWrites;
  w.unsafe ??= w.pUnsafe;
  w.pReads = 0;
  w.pWrites = 0;
  w.pUnsafe = undefined;
}

function finish(w: WalkState, neverReturns: boolean): ChainSummary {
  if (w.unsafe === undefined && (w.reads & w.writes) !== 0) {
    w.unsafe = `it both reads and changes the same state (${describe(w.reads & w.writes)})`;
  }
  const { reads, writes, unsafe } = w;
  return unsafe === undefined ? { neverReturns, reads, writes } : { neverReturns, reads, writes, unsafe };
}
