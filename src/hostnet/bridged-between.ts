/**
 * Whether a packet the node's iptables FORWARD sees coming in by one interface and leaving by
 * another is *bridged* (for `-m physdev`, match-physdev.ts), proven from the node's host files.
 * br_netfilter hands iptables a frame the bridge forwards between two of its ports with the bridge
 * as both its in and out device, and only when net.bridge.bridge-nf-call-iptables is 1
 * (br_netfilter_hooks.c: br_nf_forward_ip). So:
 *
 * - different in and out devices: routed, not bridged;
 * - one device that `ip -j -d link` says is a bridge with ports (`master`), and bridge-nf-call-iptables
 *   = 1 in sysctl.txt: bridged (a pod-to-pod frame, or a Service connection DNATed to a pod of the
 *   same bridge, which br_netfilter bridges too: br_nf_pre_routing_finish's bridged_dnat);
 * - one device that is no bridge, or br_netfilter off (the key absent or 0): not bridged (a packet
 *   routed back out of the device it came in by);
 * - anything the files do not show (no ip-link.json, a link without its kind, no sysctl.txt):
 *   undefined, and the rule stays undecided.
 */
import type { HostEvidence } from "./host-evidence.ts";
import { sysctlNumber } from "./sysctl.ts";

/**
 * The `bridgedBetween` of a node's trace (TraceOptions.bridgedBetween).
 *
 * @example
 * ```ts
 * const between = bridgedBetween(host);
 * between("cni0", "cni0"); // true on a flannel node with br_netfilter
 * between("cni0", "flannel.1"); // false: routed
 * ```
 */
export function bridgedBetween(host: HostEvidence): (inIf: string, outIf: string) => boolean | undefined {
  return (inIf, outIf) => {
    if (inIf !== outIf) return false;
    const links = host.link?.links;
    const dev = links?.find((l) => l.ifname === inIf);
    if (links === undefined || dev === undefined || dev.kind === undefined) return undefined;
    if (dev.kind !== "bridge") return false;
    if (!links.some((l) => l.master === inIf)) return undefined;
    if (host.sysctl === undefined) return undefined;
    return sysctlNumber(host.sysctl, "net.bridge.bridge-nf-call-iptables")?.value === 1;
  };
}
