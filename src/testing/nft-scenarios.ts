/**
 * Hand-written nftables rulesets for the kernel suite, in the oracle topology of trace-oracle.ts:
 * node 198.18.0.1 (listens on 80, 443, 8080, 30080), pods 198.18.1.2 (`pod`) and 198.18.1.3 (`pod2`),
 * endpoints ep1..ep3 198.18.2.1-3 (TCP 80, 443, 8080, 30080; UDP 53), everything else in
 * 198.19.0.0/16 answered by the `world` namespace. Each scenario says what it shows.
 */
import type { NftProbe } from "./nft-oracle.ts";
import { devices, hookFacts, interleaved, natVariety, noConntrack, ties } from "./nft-scenarios-netfilter.ts";
import { firewalld, kubeProxy, mixed, ufw } from "./nft-scenarios-software.ts";

export interface NftScenario {
  readonly name: string;
  /** What the kernel must agree with. */
  readonly shows: string;
  readonly ruleset: string;
  /** Loaded with iptables-nft-restore --noflush after the nft ruleset. */
  readonly iptablesNft?: string;
  readonly probes: readonly NftProbe[];
}

export const NFT_SCENARIOS: readonly NftScenario[] = [
  firewalld,
  ufw,
  kubeProxy,
  interleaved,
  hookFacts,
  natVariety,
  mixed,
  ties,
  devices,
  noConntrack,
];
