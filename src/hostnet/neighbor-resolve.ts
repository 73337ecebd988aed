/**
 * Neighbour (ARP) resolution of a next hop from evidence: the node's neighbour table first, then
 * who could answer an ARP request on that link (a pod of this node on the bridge, another node of
 * the bundle on the underlay). On a flannel VXLAN device nothing ever answers: flannel installs
 * every peer's entry itself (PERMANENT) and the device has no flood entry, so a missing entry means
 * EHOSTUNREACH (see pkg/backend/vxlan/vxlan.go in flannel-io/flannel, "How it works").
 */
import type { Evidence } from "../model/finding.ts";
import { parseIpv4 } from "../net/ipv4.ts";
import type { HostEvidence } from "./host-evidence.ts";
import type { IpLink } from "./ip-link.ts";
import { neighborResolves } from "./ip-neigh.ts";
import type { NeighborOutcome } from "./path-types.ts";
import type { PodPlacement } from "./pod-placement.ts";

export const ZERO_MAC = "00:00:00:00:00:00";

/** The outcome and the lines that show it. */
export interface NeighborResolution {
  readonly outcome: NeighborOutcome;
  readonly evidence: readonly Evidence[];
}

/** Every node of the bundle that holds `ip` on an interface, with that interface. */
export function addressOwners(
  hosts: ReadonlyMap<string, HostEvidence>,
  ip: string,
): { node: string; ifname: string; evidence: Evidence }[] {
  const out: { node: string; ifname: string; evidence: Evidence }[] = [];
  for (const [node, h] of hosts) {
    for (const i of h.addr?.interfaces ?? []) {
      if (i.addresses.some((a) => a.family === "inet" && a.local === ip))
        out.push({ node, ifname: i.ifname, evidence: i.evidence });
    }
  }
  return out;
}

/** Which node of the bundle holds `ip` on an interface, and that interface (the first one). */
export function addressOwner(
  hosts: ReadonlyMap<string, HostEvidence>,
  ip: string,
): { node: string; ifname: string; evidence: Evidence } | undefined {
  for (const [node, h] of hosts) {
    for (const i of h.addr?.interfaces ?? []) {
      if (i.addresses.some((a) => a.family === "inet" && a.local === ip)) {
        return { node, ifname: i.ifname, evidence: i.evidence };
      }
    }
  }
  return undefined;
}

/**
 * Resolves `ip` on `dev` of `host`.
 *
 * @example
 * ```ts
 * resolveNeighbor(host, flannel1, "198.18.2.0", { hosts, pods }).outcome;
 * // { kind: "resolved", lladdr: "d2:f9:ef:62:4b:37", static: true }
 * ```
 */
export function resolveNeighbor(
  host: HostEvidence,
  dev: IpLink,
  ip: string,
  context: { readonly hosts: ReadonlyMap<string, HostEvidence>; readonly pods: readonly PodPlacement[] },
): NeighborResolution {
  if (dev.flags.includes("NOARP")) return { outcome: { kind: "not-needed" }, evidence: [dev.evidence] };
  const entry = host.neigh?.neighbors.find((n) => n.dst === ip && n.dev === dev.ifname);
  if (entry !== undefined) {
    if (neighborResolves(entry)) {
      return {
        outcome: { kind: "resolved", lladdr: entry.lladdr!, static: entry.state.includes("PERMANENT") },
        evidence: [entry.evidence],
      };
    }
    return { outcome: { kind: "failed" }, evidence: [entry.evidence] };
  }
  if (dev.kind === "vxlan") {
    const flood = host.fdb?.entries.filter((e) => e.ifname === dev.ifname && e.mac === ZERO_MAC) ?? [];
    if (flood.length > 0) {
      return {
        outcome: {
          kind: "unknown",
          reason: `${dev.ifname} floods ARP to ${flood.map((f) => f.dst).join(", ")}`,
        },
        evidence: flood.map((f) => f.evidence),
      };
    }
    return {
      outcome: {
        kind: "nothing-answers",
        reason: `no neighbour entry for ${ip} on ${dev.ifname}, and a VXLAN device without a flood entry sends ARP nowhere`,
      },
      evidence: [dev.evidence],
    };
  }
  const pod = context.pods.find((p) => p.ip === ip && p.node === host.node);
  if (pod !== undefined) return { outcome: { kind: "pod-answers", pod: pod.pod }, evidence: [pod.evidence] };
  const owner = addressOwner(context.hosts, ip);
  if (owner !== undefined && owner.node !== host.node) {
    return { outcome: { kind: "node-answers", node: owner.node }, evidence: [owner.evidence] };
  }
  if (dev.kind === "bridge" && hasPodSubnet(host, dev, ip)) {
    return {
      outcome: {
        kind: "nothing-answers",
        reason: `no running pod of node ${host.node} has ${ip}, so nothing on ${dev.ifname} answers ARP`,
      },
      evidence: [dev.evidence],
    };
  }
  return {
    outcome: {
      kind: "unknown",
      reason: `${ip} on ${dev.ifname}: no neighbour entry, and no pod or node has it`,
    },
    evidence: [dev.evidence],
  };
}

/** The bridge is a pod bridge (it has pod ports) and `ip` is in one of its connected subnets. */
function hasPodSubnet(host: HostEvidence, dev: IpLink, ip: string): boolean {
  const ports = host.link?.links.some((l) => l.master === dev.ifname) ?? false;
  const iface = host.addr?.interfaces.find((i) => i.ifname === dev.ifname);
  if (!ports || iface === undefined) return false;
  const n = parseIpv4(ip);
  return iface.addresses.some((a) => {
    if (a.family !== "inet") return false;
    const base = parseIpv4(a.local);
    const mask = a.prefixlen === 0 ? 0 : (0xffffffff << (32 - a.prefixlen)) >>> 0;
    return n !== undefined && base !== undefined && (n & mask) >>> 0 === (base & mask) >>> 0;
  });
}
