/**
 * The bookkeeping one trace shares between hooks, chains and steps: the paths being walked (a
 * verdict, a probability and a persistent trail of steps each) and the walk's own settings.
 */
import type { TraceStep } from "../model/trace.ts";
import { inCidr, parseCidr } from "../net/ipv4.ts";
import type { MatchContext } from "./compile-match.ts";
import type { TraceIndex } from "./trace-index.ts";
import type { TraceOptions, TraceRequest } from "./trace-request.ts";
import type { WalkState } from "./walk-state.ts";

export type Verdict =
  | { readonly k: "accept" }
  | { readonly k: "drop" }
  | { readonly k: "return" }
  | { readonly k: "reject"; readonly rejectWith: string }
  | { readonly k: "unknown"; readonly reason: string };

/** The steps of a path as a persistent list: forks share their common prefix without copying. */
export interface Trail {
  readonly s: TraceStep;
  readonly prev: Trail | undefined;
}

/** One path's state while walking; `v` is its verdict once a chain or hook has decided. */
export interface Outcome {
  p: number;
  st: WalkState;
  trail: Trail | undefined;
  v: Verdict;
  /** The step that decided a drop/reject/unknown. */
  by?: TraceStep;
}

export interface Walk {
  readonly index: TraceIndex;
  readonly ctx: MatchContext;
  readonly request: TraceRequest;
  readonly options: TraceOptions;
  paths: number;
  readonly maxPaths: number;
  /** Where `applyTarget` (walk-chain.ts) leaves the walk's continuation (see {@linkcode next}). */
  nextSt: WalkState | undefined;
  nextP: number;
  nextTrail: Trail | undefined;
  /** The text of the packet's own source, once a path needed it. */
  srcText: string | undefined;
}

export const ACCEPT: Verdict = { k: "accept" };
export const DROP: Verdict = { k: "drop" };
export const RETURN: Verdict = { k: "return" };
const LOOPBACK = parseCidr("127.0.0.0/8")!;

/** Whether the packet, as rewritten so far, is for the node itself (loopback or a local address). */
export function isLocalDst(walk: Walk, st: WalkState): boolean {
  return inCidr(st.dst, LOOPBACK) || (walk.ctx.localIps?.includes(st.dst) ?? false);
}

/** Leaves the walk's continuation for `walkFrom` (walk-chain.ts). */
export function next(walk: Walk, st: WalkState, p: number, trail: Trail | undefined): true {
  walk.nextSt = st;
  walk.nextP = p;
  walk.nextTrail = trail;
  return true;
}
