/**
 * The shape of a compiled match test: a small function answering, for one packet, `true`/`false`,
 * a probability in (0, 1) (statistic random: the walk forks), or an {@linkcode Undecided} saying why
 * the dump cannot decide and what evidence would (the path becomes undecided).
 */
import type { IpsetSave } from "../ipset/ipset-model.ts";
import type { MissingEvidence } from "../model/trace-step.ts";
import type { WalkState } from "./walk-state.ts";

/** Why a rule cannot be decided, and what would decide it. Built once per test, never per packet. */
export interface Undecided {
  readonly reason: string;
  readonly needs: MissingEvidence;
}

/** A test's answer; an object is always an {@linkcode Undecided}. */
export type MatchResult = boolean | number | Undecided;

/** What the tests may consult besides the packet. */
export interface MatchContext {
  /** The node's own addresses; undefined when not given (then LOCAL checks are undecided except 127/8). */
  readonly localIps: readonly number[] | undefined;
  /** Whether the packet crossed a Linux bridge (physdev), as the caller says; undefined when unknown. */
  readonly bridged: boolean | undefined;
  /** Whether a packet from `inIf` out of `outIf` is bridged, from the node's links (match-physdev.ts). */
  readonly bridgedBetween?: ((inIf: string, outIf: string) => boolean | undefined) | undefined;
  /**
   * True when the packet is a reply of a connection conntrack already tracks (ESTABLISHED, direction
   * REPLY): `--ctstate ESTABLISHED` matches, NEW does not, and the nat table is not walked.
   */
  readonly reply?: boolean | undefined;
  /** `fresh`: counters of `statistic --mode nth` are as just loaded; `unknown` (default): undecidable. */
  readonly nthCounters: "fresh" | "unknown";
  /** The node's `ipset save` for `-m set`; undefined when not collected (set matches are undecided). */
  readonly ipsets?: IpsetSave | undefined;
}

export type MatchTest = (st: WalkState, ctx: MatchContext) => MatchResult;

/** An {@linkcode Undecided} value. */
export function undecided(reason: string, needs: MissingEvidence): Undecided {
  return { reason, needs };
}

/** A test that always answers "cannot decide" (a module or option the tracer does not simulate). */
export function undecidedTest(reason: string, needs: MissingEvidence = "manual-check"): MatchTest {
  const u = undecided(reason, needs);
  return () => u;
}

/** IP protocol numbers of the names `-p` accepts. */
export const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = {
  icmp: 1,
  igmp: 2,
  tcp: 6,
  udp: 17,
  gre: 47,
  esp: 50,
  ah: 51,
  sctp: 132,
  udplite: 136,
};
