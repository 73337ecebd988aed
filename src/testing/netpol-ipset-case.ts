/**
 * The shape of a set-match case for the kernel check of matchSet, and the addresses the cases use
 * (two client pods and a server, in 198.18.0.0/15).
 */
export const P1 = "198.18.1.2";
export const P2 = "198.18.1.3";
export const S1 = "198.18.2.1";

/** One case: sets in `ipset restore` form, `--match-set` flags, a probe and the expected answer. */
export interface SetCase {
  readonly name: string;
  readonly sets: readonly string[];
  readonly flags: string;
  readonly from: "p1" | "p2";
  readonly protocol: "tcp" | "udp";
  readonly port: number;
  /** Written by hand from ipset(8): does the packet match? */
  readonly expected: boolean;
}
