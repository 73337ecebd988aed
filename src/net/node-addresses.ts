/**
 * A node's own addresses as the API knows them: what the tracer needs to decide local delivery
 * against forwarding (issue 12, item 6).
 */
import type { Node } from "../model/cluster.ts";
import { formatIpv4, parseCidr } from "./ipv4.ts";

/** Where each of a node's addresses comes from (for messages and the trace's JSON). */
export interface NodeAddressSource {
  readonly address: string;
  /** `InternalIP`, `ExternalIP`, or `podCIDR gateway` (the bridge's address). */
  readonly source: string;
}

/**
 * The node's IPv4 addresses from its Node object: every `InternalIP` and `ExternalIP`, and the first
 * host address of its `podCIDR`, which bridge CNIs (flannel, k3s) give the node's `cni0` bridge.
 * Addresses the API does not list (docker0, flannel.1's `.0`, secondary addresses) are not here.
 *
 * @example
 * ```ts
 * nodeAddresses(node); // [{ address: "10.0.20.5", source: "InternalIP" }, { address: "10.42.0.1", source: "podCIDR gateway" }]
 * ```
 */
export function nodeAddresses(node: Node): NodeAddressSource[] {
  const out: NodeAddressSource[] = [];
  const add = (address: string, source: string) => {
    if (parseCidr(address)?.prefix === 32 && !out.some((a) => a.address === address))
      out.push({ address, source });
  };
  for (const a of node.addresses)
    if (a.type === "InternalIP" || a.type === "ExternalIP") add(a.address, a.type);
  const cidr = node.podCIDR === undefined ? undefined : parseCidr(node.podCIDR);
  if (cidr !== undefined && cidr.prefix >= 0 && cidr.prefix < 31)
    add(formatIpv4(cidr.base + 1), "podCIDR gateway");
  return out;
}
