/**
 * What the whole-host trace reads about a node (issue 15): its iptables dumps, its nft ruleset, and
 * from a bundle what could not be read and the node's interfaces (collect/read-node-nft.ts).
 */

import type { Ruleset } from "../model/ruleset.ts";
import { inCidr, parseCidr, parseIpv4 } from "../net/ipv4.ts";
import type { EvidenceFiles } from "../nft/eval-chain.ts";
import type { NftRuleset } from "../nft/nft-ruleset.ts";
import type { HostRoutes } from "./host-routing.ts";

/** An iptables dump of the node and the file its evidence names. */
export interface IptablesDump {
  readonly ruleset: Ruleset;
  readonly file: string;
}

/** The node's netfilter evidence; `nft` is what makes the trace whole-host. */
export interface HostEvidence {
  readonly nft: { readonly ruleset: NftRuleset; readonly files: EvidenceFiles };
  /** `iptables-save` (iptables-nft on most nodes, legacy on old ones). */
  readonly iptables?: IptablesDump;
  /** `iptables-legacy-save`, when the node has legacy tables beside nf_tables. */
  readonly legacy?: IptablesDump;
}

/** A node's netfilter evidence beyond iptables-save.txt, as a bundle gives it (collect/read-node-nft.ts). */
export interface NodeHostEvidence {
  /** Present when nft-ruleset.json was read: the trace is whole-host. */
  readonly nft?: HostEvidence["nft"];
  /** iptables-legacy-save.txt when it holds tables. */
  readonly legacy?: IptablesDump;
  /** Tables that could not be looked at, each with why. */
  readonly notRead: readonly string[];
  /**
   * False when the node directory has neither nft-ruleset.json nor nft-ruleset.txt (a bundle from
   * before nftables evidence, or a hand-made one): the node is traced through iptables-save only, as
   * before, and the host-firewall link says it was not checked.
   */
  readonly nftCollected: boolean;
  /** The node's IPv4 addresses from ip-addr.json (empty when not collected). */
  readonly addresses: readonly string[];
  /** The node's IPv4 subnets by interface (`cni0` 10.42.0.1/24), from ip-addr.json. */
  readonly subnets: readonly { readonly ifname: string; readonly cidr: string }[];
  /**
   * The node's routes and policy rules (ip-route.json and ip-rule.json, both read): local vs forward
   * and the out-interface come from them (host-routing.ts); absent when either is missing.
   */
  readonly routing?: HostRoutes;
}

/** The interface whose subnet holds `ip` (a pod's packets arrive on its bridge, e.g. cni0). */
export function interfaceFor(ev: Pick<NodeHostEvidence, "subnets">, ip: string): string | undefined {
  const n = parseIpv4(ip);
  if (n === undefined) return undefined;
  for (const s of ev.subnets) {
    const c = parseCidr(s.cidr);
    if (c !== undefined && !s.cidr.endsWith("/32") && !s.cidr.endsWith("/0") && inCidr(n, c)) return s.ifname;
  }
  return undefined;
}

/**
 * iptables-nft says legacy tables exist (`# Warning: iptables-legacy tables present`) but no
 * iptables-legacy-save.txt was read: those tables may act and were not looked at.
 */
export function legacyNotRead(
  iptables: Ruleset | undefined,
  ev: Pick<NodeHostEvidence, "legacy">,
  node: string,
): string[] {
  if (ev.legacy !== undefined || iptables === undefined) return [];
  const notice = iptables.warnings.find(
    (w) => w.kind === "notice" && /iptables-legacy tables present/.test(w.text),
  );
  return notice === undefined
    ? []
    : [
        `legacy xtables tables (iptables-save.txt line ${notice.line} says they exist; nodes/${node}/iptables-legacy-save.txt is missing)`,
      ];
}
