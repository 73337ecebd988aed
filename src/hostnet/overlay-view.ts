/** One node's overlay as the checks see it: its evidence, its API object and its VXLAN device. */
import type { FlannelNode } from "./flannel-node.ts";
import type { HostEvidence } from "./host-evidence.ts";
import type { IpLink } from "./ip-link.ts";

export interface OverlayNode {
  readonly api: FlannelNode;
  /** Absent when the bundle has no directory for the node. */
  readonly host?: HostEvidence;
  /** The VXLAN device flannel uses (`flannel.<VNI>`, else the VXLAN device with the VNI). */
  readonly vtep?: IpLink;
}

/** Input of the cross-node checks. */
export interface OverlayCheckInput {
  readonly hosts: ReadonlyMap<string, HostEvidence>;
  /** Every node of the API, as {@linkcode FlannelNode}. */
  readonly nodes: readonly FlannelNode[];
}

/** Whether the node runs flannel's VXLAN backend according to its annotations. */
export function isVxlanNode(n: FlannelNode): boolean {
  return n.backendType === "vxlan";
}

/** The node's flannel VXLAN device from `ip -d link`. */
export function findVtep(host: HostEvidence | undefined, api: FlannelNode): IpLink | undefined {
  const links = host?.link?.links ?? [];
  const vni = api.vni ?? 1;
  return (
    links.find((l) => l.ifname === `flannel.${vni}` && l.kind === "vxlan") ??
    links.find((l) => l.kind === "vxlan" && l.vxlan?.id === vni)
  );
}

/** The overlay view of every VXLAN node of the API. */
export function overlayNodes(input: OverlayCheckInput): OverlayNode[] {
  return input.nodes.filter(isVxlanNode).map((api) => {
    const host = input.hosts.get(api.name);
    const vtep = findVtep(host, api);
    return { api, ...(host === undefined ? {} : { host }), ...(vtep === undefined ? {} : { vtep }) };
  });
}
