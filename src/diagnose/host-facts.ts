/** What the whole-host walk looked at on the client node (issue 15), for the host-firewall link. */
export interface HostFacts {
  /** True when nft-ruleset.json was read and the packet went through every table at each hook. */
  readonly wholeHost: boolean;
  /** Every table read, e.g. `nft inet firewalld`, `iptables-nft filter (nodes/n1/iptables-save.txt)`. */
  readonly tables: readonly string[];
  /** False when the bundle has no nft evidence for the node at all (traced through iptables-save only). */
  readonly nftCollected: boolean;
  /** Tables that may act on the packet but could not be read, with why. */
  readonly notRead: readonly string[];
  /** Orderings the dumps cannot prove (equal priorities). */
  readonly assumptions: readonly string[];
}
