/**
 * The vocabulary of set matching: the packet fields a `-m set` match reads, the `--match-set` flags,
 * the ipset lines a verdict rests on, and the tri-state answer (see match-set.ts).
 */
/** The packet fields a set match reads. The tracer's `WalkState` has this shape. */
export interface SetPacket {
  /** IPv4 addresses as unsigned 32-bit numbers. */
  readonly src: number;
  readonly dst: number;
  /** `tcp`, `udp`, `sctp` or `icmp`. */
  readonly proto: string;
  /** -1 when unknown (or ICMP). */
  readonly sport: number;
  readonly dport: number;
  /** Interfaces, for hash:net,iface; undefined when unknown. */
  readonly inIf?: string | undefined;
  readonly outIf?: string | undefined;
}

/** A flag of `--match-set`: which side of the packet a dimension reads. */
export type SetDirection = "src" | "dst";

/** One line of `ipset save` that a verdict rests on. */
export interface SetEvidence {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

/** The answer of {@linkcode matchSet}. */
export type SetMatchResult =
  | {
      readonly result: "match" | "no-match";
      /** The lines that decided: the set's `create` line and, when one decided, the member's `add` line. */
      readonly evidence: readonly SetEvidence[];
      /** Why, in words (e.g. `10.42.0.5 is in KUBE-DST-X`). */
      readonly reason: string;
      /** Caveats (timeouts) that do not change the answer. */
      readonly notes: readonly string[];
    }
  | {
      readonly result: "undecided";
      readonly reason: string;
      /** The set the evidence lacks, when that is why. */
      readonly missingSet?: string;
      readonly evidence: readonly SetEvidence[];
      readonly notes: readonly string[];
    };

/** Options of {@linkcode matchSet}. */
export interface MatchSetOptions {
  /** `--return-nomatch`: a `nomatch` member matches and a plain member does not (ipset(8)). */
  readonly returnNomatch?: boolean;
}

/** Parses `src,dst` into directions; undefined when a flag is neither. */
export function parseSetFlags(text: string): SetDirection[] | undefined {
  const out: SetDirection[] = [];
  for (const f of text.split(",")) {
    if (f !== "src" && f !== "dst") return undefined;
    out.push(f);
  }
  return out;
}
