/**
 * The per-packet state a rule can change within one traversal of a hook, as bits, so the planner can
 * compare "what lies between two copies may write" with "what the copy reads" in a few integer
 * operations. Addresses, ports, protocol and interfaces are not in it: no non-terminating target
 * changes them (the NAT targets that do end the traversal).
 */

/** Mutable per-packet state, as bits. */
export const StateKind = {
  /** skb->mark (`-m mark`, `MARK`). */
  mark: 1,
  /** ct->mark (`-m connmark`, `CONNMARK`). */
  connmark: 2,
  /** The conntrack entry attached to the packet (`-m conntrack/state/helper`, `CT`, `NOTRACK`). */
  ct: 4,
  /** Header and payload bytes a target may rewrite (TOS/DSCP/TTL/ECN/TCP options, checksum). */
  header: 8,
  /** ipset contents (`-m set`, `SET`). */
  ipset: 16,
  /** `recent` lists (`-m recent` reads and writes them). */
  recent: 32,
  /** SELinux secmark (`SECMARK`, `CONNSECMARK`); no iptables match reads it. */
  secmark: 64,
  /** skb->priority (`CLASSIFY`); no iptables match reads it. */
  priority: 128,
} as const;

/** Every kind: what an unknown module or target may read or write. */
export const ALL_STATE = 255;

const KIND_NAMES: readonly [number, string][] = Object.entries(StateKind).map(([k, v]) => [v, k]);

/** Names the kinds in a bit set, e.g. `mark, connmark`. */
export function stateNames(bits: number): string {
  if (bits === ALL_STATE) return "any packet state";
  return KIND_NAMES.filter(([v]) => (bits & v) !== 0)
    .map(([, k]) => k)
    .join(", ");
}
