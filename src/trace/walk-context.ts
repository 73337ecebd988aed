/**
 * The bookkeeping one trace shares between hooks, chains and steps: the paths being walked (a
 * verdict, a probability and a persistent trail of steps each) and the walk's own settings.
 */
import type { Step } from "../model/trace-step.ts";
import { inCidr, parseCidr, parseIpv4 } from "../net/ipv4.ts";
import type { MatchContext, Undecided } from "./match-test.ts";
import type { TraceIndex } from "./trace-index.ts";
import type { TraceOptions, TraceRequest } from "./trace-request.ts";
import type { ChainWalk } from "./walk-chain.ts";
import type { WalkState } from "./walk-state.ts";

/** What a chain or hook decided for a path (internal to the walk). */
export type Verdict =
  | { readonly k: "accept" }
  | { readonly k: "drop" }
  | { readonly k: "return" }
  | { readonly k: "reject"; readonly rejectWith: string }
  | { readonly k: "unknown"; readonly why: Undecided };

/** The steps of a path as a persistent list: forks share their common prefix without copying. */
export interface Trail {
  readonly s: Step;
  readonly prev: Trail | undefined;
}

/**
 * One path being walked: its state, probability and steps so far, and, once a chain or hook has
 * decided, its verdict. A path the walker still carries forward has `v` = accept.
 */
export interface Outcome {
  p: number;
  st: WalkState;
  trail: Trail | undefined;
  v: Verdict;
  /** The step that decided a drop, reject or unknown. */
  by: Step | undefined;
}

/** An {@linkcode Outcome}, always with every field in one order (one object shape for the walker). */
export function outcome(
  p: number,
  st: WalkState,
  trail: Trail | undefined,
  v: Verdict,
  by: Step | undefined = undefined,
): Outcome {
  return { p, st, trail, v, by };
}

/** One trace's settings and counters. */
export interface Walk {
  readonly index: TraceIndex;
  readonly ctx: MatchContext;
  readonly request: TraceRequest;
  readonly options: TraceOptions;
  /** The chain frames of the walk, one per jump depth (walk-chain.ts). */
  readonly frames: ChainWalk[];
  /** Paths forked so far (bounded by `maxPaths`). */
  paths: number;
  readonly maxPaths: number;
}

export const ACCEPT: Verdict = { k: "accept" };
export const DROP: Verdict = { k: "drop" };
export const RETURN: Verdict = { k: "return" };
const LOOPBACK = parseCidr("127.0.0.0/8")!;

/**
 * Whether the packet, as rewritten so far, is for the node itself: true for loopback or one of the
 * node's addresses, false for another address, undefined when the node's addresses are not known
 * (or the destination is a NAT range the dump cannot resolve to one address).
 */
export function isLocalDst(walk: Walk, st: WalkState): boolean | undefined {
  const d = st.hdr.dst;
  if (d.kind === "range") return rangeIsLocal(walk, parseIpv4(d.minIp)!, parseIpv4(d.maxIp)!);
  if (inCidr(st.dst, LOOPBACK)) return true;
  const local = walk.ctx.localIps;
  return local === undefined ? undefined : local.includes(st.dst);
}

/** A NAT range is local or not when all its addresses agree; undefined when they may differ. */
function rangeIsLocal(walk: Walk, min: number, max: number): boolean | undefined {
  const local = walk.ctx.localIps;
  if (local === undefined) return undefined;
  let hits = 0;
  for (const ip of local) if (ip >= min && ip <= max) hits++;
  if ((min & 0xff000000) >>> 0 === 0x7f000000 || (max & 0xff000000) >>> 0 === 0x7f000000) return undefined;
  if (hits === 0) return false;
  return min === max ? true : undefined;
}
