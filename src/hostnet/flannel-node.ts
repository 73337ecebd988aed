/**
 * What the API says about a node's place in the flannel overlay: its pod CIDR(s) and the lease
 * flannel's kube subnet manager keeps in node annotations (pkg/subnet/kube in flannel-io/flannel):
 * `flannel.alpha.coreos.com/public-ip` (the underlay address peers send VXLAN to),
 * `backend-type` (`vxlan`), `backend-data` (`{"VNI":1,"VtepMAC":"..."}`, the MAC of flannel.1).
 *
 * src/model/cluster.ts's `Node` carries annotations, `podCIDR` and addresses but not `podCIDRs` or
 * `status.nodeInfo.kernelVersion`; this adapter reads those from the raw `kubectl get nodes -o json`
 * when given, or builds from a `Node` without them.
 */
import type { Node } from "../model/cluster.ts";
import type { Evidence } from "../model/finding.ts";
import { type Cidr, formatIpv4, parseCidr } from "../net/ipv4.ts";

export const ANNOTATION_PUBLIC_IP = "flannel.alpha.coreos.com/public-ip";
export const ANNOTATION_BACKEND_TYPE = "flannel.alpha.coreos.com/backend-type";
export const ANNOTATION_BACKEND_DATA = "flannel.alpha.coreos.com/backend-data";

/** One node as the overlay checks need it. */
export interface FlannelNode {
  readonly name: string;
  /** IPv4 pod CIDR (`spec.podCIDRs`' IPv4 entry, else `spec.podCIDR`). */
  readonly podCidr?: string;
  readonly podCidrNet?: Cidr;
  /** `public-ip` annotation. */
  readonly publicIp?: string;
  readonly backendType?: string;
  /** From `backend-data`, lower case. */
  readonly vtepMac?: string;
  readonly vni?: number;
  readonly internalIp?: string;
  /** `status.nodeInfo.kernelVersion`, e.g. `5.4.0-150-generic`. */
  readonly kernelVersion?: string;
  /** Points at the node object in `cluster/nodes.json`. */
  readonly evidence: Evidence;
  /** Problems reading the annotations (e.g. backend-data that is not JSON). */
  readonly problems: readonly string[];
}

/** Fields of a raw Node item that `Node` (src/model/cluster.ts) does not carry. */
export interface NodeExtras {
  readonly podCIDRs?: readonly string[];
  readonly kernelVersion?: string;
}

function backendData(text: string | undefined, problems: string[]): { vtepMac?: string; vni?: number } {
  if (text === undefined) return {};
  try {
    const data = JSON.parse(text) as { VtepMAC?: unknown; VNI?: unknown };
    const out: { vtepMac?: string; vni?: number } = {};
    if (typeof data.VtepMAC === "string") out.vtepMac = data.VtepMAC.toLowerCase();
    else problems.push(`${ANNOTATION_BACKEND_DATA} has no VtepMAC`);
    if (typeof data.VNI === "number") out.vni = data.VNI;
    return out;
  } catch {
    problems.push(`${ANNOTATION_BACKEND_DATA} is not JSON: ${text.slice(0, 80)}`);
    return {};
  }
}

/**
 * Builds the overlay view of a node from the API object.
 *
 * @example
 * ```ts
 * const f = flannelNode(node, { extras: { kernelVersion: "6.1.0" }, file: "cluster/nodes.json" });
 * f.vtepMac; // "ca:49:66:86:6a:44"
 * ```
 */
export function flannelNode(node: Node, options: { file: string; extras?: NodeExtras }): FlannelNode {
  const problems: string[] = [];
  const a = node.metadata.annotations ?? {};
  const cidrs = options.extras?.podCIDRs ?? (node.podCIDR === undefined ? [] : [node.podCIDR]);
  const podCidr = cidrs.find((c) => !c.includes(":"));
  const podCidrNet = podCidr === undefined ? undefined : parseCidr(podCidr);
  if (podCidr !== undefined && podCidrNet === undefined) problems.push(`podCIDR "${podCidr}" is not IPv4`);
  const internalIp = node.addresses.find((x) => x.type === "InternalIP")?.address;
  const fields = {
    podCidr,
    podCidrNet,
    publicIp: a[ANNOTATION_PUBLIC_IP],
    backendType: a[ANNOTATION_BACKEND_TYPE],
    ...backendData(a[ANNOTATION_BACKEND_DATA], problems),
    internalIp,
    kernelVersion: options.extras?.kernelVersion,
  };
  const file = node.source?.file ?? options.file;
  return {
    name: node.metadata.name,
    ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)),
    evidence: {
      file,
      ...(node.source?.line === undefined ? {} : { line: node.source.line }),
      text: `node ${node.metadata.name}: podCIDR ${podCidr ?? "(none)"}, ${ANNOTATION_PUBLIC_IP}=${fields.publicIp ?? "(none)"}, ${ANNOTATION_BACKEND_DATA}=${a[ANNOTATION_BACKEND_DATA] ?? "(none)"}`,
    },
    problems,
  } as FlannelNode;
}

/** The overlay (VTEP) address flannel gives a node: the network address of its pod CIDR (10.42.1.0). */
export function overlayAddress(node: FlannelNode): string | undefined {
  const c = node.podCidrNet;
  if (c === undefined) return undefined;
  return formatIpv4(c.base);
}

/**
 * Reads `spec.podCIDRs` and `status.nodeInfo.kernelVersion` per node name from the raw text of
 * `cluster/nodes.json` (`kubectl get nodes -o json`). Unreadable text gives an empty map: the
 * fields are then simply unknown.
 */
export function nodeExtrasFromJson(text: string): Map<string, NodeExtras> {
  const out = new Map<string, NodeExtras>();
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return out;
  }
  const items = (doc as { items?: unknown })?.items;
  if (!Array.isArray(items)) return out;
  for (const item of items) {
    const i = item as {
      metadata?: { name?: unknown };
      spec?: { podCIDRs?: unknown };
      status?: { nodeInfo?: { kernelVersion?: unknown } };
    };
    const name = i?.metadata?.name;
    if (typeof name !== "string") continue;
    const cidrs = i.spec?.podCIDRs;
    const kernel = i.status?.nodeInfo?.kernelVersion;
    out.set(name, {
      ...(Array.isArray(cidrs) ? { podCIDRs: cidrs.filter((c): c is string => typeof c === "string") } : {}),
      ...(typeof kernel === "string" ? { kernelVersion: kernel } : {}),
    });
  }
  return out;
}
