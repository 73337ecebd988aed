/**
 * Catalogue entries of the path across nodes (diagnose's route, overlay and endpoint-node links):
 * what another node's own rules do to the packet on its way.
 */
import type { FindingEntry } from "./finding-entry.ts";

export interface NodeRulesDropValues {
  /** The node whose rules decide (not the client's). */
  readonly node: string;
  readonly outcome: "dropped" | "rejected";
  /** The hook and what decides, e.g. `FORWARD: the filter FORWARD policy DROP`. */
  readonly by: string;
  /** What the client sees, e.g. `no answer (it times out)`. */
  readonly clientSees: string;
}

export const NODE_RULES_DROP: FindingEntry<NodeRulesDropValues> = {
  code: "node-rules-drop",
  severity: "error",
  title: "A node further on the path drops or rejects the packet",
  explanation:
    "The connection crosses another node (the endpoint's, or the receiving end of the VXLAN tunnel), and that node's own iptables rules drop or reject it: a host firewall's FORWARD policy, a rule against UDP 8472 in INPUT, a NetworkPolicy chain. The client node's rules let it through, so only that node's dump shows it.",
  message: (v) => `Node "${v.node}" ${v.outcome} the packet by ${v.by}; the client gets ${v.clientSees}`,
  fix: (v) =>
    `Read the rule on "${v.node}" (and the component that owns it): allow pod traffic in its FORWARD chain, and UDP 8472 (flannel VXLAN) from the other nodes in its INPUT chain`,
  references: [
    "https://github.com/flannel-io/flannel/blob/master/Documentation/troubleshooting.md#firewalls",
  ],
};
