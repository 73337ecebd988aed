/**
 * What `netdoctor trace --bundle DIR --node NODE` needs from a bundle: the node's iptables-save dump,
 * the node's own addresses (InternalIP, ExternalIP, the pod CIDR's bridge address from
 * cluster/nodes.json), and, for `--from NS/POD`, the pod's address and node (cluster/pods.json).
 */
import { join } from "node:path";
import type { ClusterState, Pod } from "../model/cluster.ts";
import { objectKey } from "../model/cluster.ts";
import { type NodeAddressSource, nodeAddresses } from "../net/node-addresses.ts";
import { CollectError } from "./collect-error.ts";
import { readBundle } from "./read-bundle.ts";

/** The pod a packet is sent from. */
export interface TracePod {
  /** `namespace/name`. */
  readonly key: string;
  readonly ip: string;
  readonly hostNetwork: boolean;
}

/** A node of a bundle, ready to trace. */
export interface TraceNode {
  readonly node: string;
  /** The dump as evidence names it: `nodes/NODE/iptables-save.txt` (bundle-relative). */
  readonly file: string;
  /** The dump's path to read. */
  readonly path: string;
  /** The node's own addresses, with where each comes from. */
  readonly addresses: readonly NodeAddressSource[];
  /** The pod of `--from NS/POD`, when asked. */
  readonly pod?: TracePod;
  /** The bundle's API objects (to read the trace against: which pod has an address). */
  readonly cluster: ClusterState;
}

function findPod(pods: readonly Pod[], key: string): Pod {
  const pod = pods.find((p) => objectKey(p.metadata) === key);
  if (pod !== undefined) return pod;
  const [ns, name = ""] = key.split("/");
  const near = pods.filter((p) => p.metadata.namespace === ns && p.metadata.name.startsWith(name));
  const hint = near.length === 1 ? `: did you mean ${objectKey(near[0]!.metadata)}?` : "";
  throw new CollectError(`Cannot find pod ${key} in cluster/pods.json${hint}`);
}

function podOf(pods: readonly Pod[], key: string): { pod: TracePod; node?: string } {
  const pod = findPod(pods, key);
  const ip = pod.podIP ?? pod.podIPs?.[0];
  if (ip === undefined || ip === "") throw new CollectError(`Cannot trace from pod ${key}: it has no pod IP`);
  return {
    pod: { key, ip, hostNetwork: pod.hostNetwork === true },
    ...(pod.nodeName === undefined ? {} : { node: pod.nodeName }),
  };
}

/**
 * Reads the bundle's API side and picks the node: `node`, or the node of `fromPod` when only the pod
 * is given. The dump itself is not read here (the caller parses it, lazily when large).
 *
 * @throws {CollectError} When the bundle, the node (its Node object or directory) or the pod cannot be used.
 */
export async function readTraceNode(
  dir: string,
  options: { readonly node?: string; readonly fromPod?: string },
): Promise<TraceNode> {
  const bundle = await readBundle(dir);
  const from = options.fromPod === undefined ? undefined : podOf(bundle.cluster.pods, options.fromPod);
  const node = options.node ?? from?.node;
  if (node === undefined) {
    throw new CollectError(
      options.fromPod === undefined
        ? "Cannot trace a bundle without --node NODE (or --from NS/POD)"
        : `Cannot trace from pod ${options.fromPod}: it is not scheduled on a node (give --node)`,
    );
  }
  if (from?.node !== undefined && from.node !== node) {
    throw new CollectError(`Cannot trace from pod ${options.fromPod} on ${node}: it runs on ${from.node}`);
  }
  if (!bundle.nodeDirs.includes(node)) {
    throw new CollectError(`Cannot trace node ${node}: the bundle has no directory nodes/${node}/`);
  }
  const nodeObj = bundle.cluster.nodes.find((n) => n.metadata.name === node);
  const file = `nodes/${node}/iptables-save.txt`;
  return {
    node,
    file,
    path: join(dir, file),
    addresses: nodeObj === undefined ? [] : nodeAddresses(nodeObj),
    ...(from === undefined ? {} : { pod: from.pod }),
    cluster: bundle.cluster,
  };
}
