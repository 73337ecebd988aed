/**
 * One node's NetworkPolicy answer for one connection, for the network-policy and dns links: the
 * node's kube-router chains walked with its ipsets (netpol/kube-router-verdict.ts), or what is
 * missing to walk them (its dump, or its ipset save when a set decides).
 */
import { parseIpv4 } from "../net/ipv4.ts";
import { nodeAddresses } from "../net/node-addresses.ts";
import { kubeRouterVerdict, type NodePolicyVerdict } from "../netpol/kube-router-verdict.ts";
import { collectNode, type WalkContext } from "./link.ts";
import type { NetpolEvidence } from "./netpol-evidence.ts";
import { nodeMissing } from "./network-policy-words.ts";

/** The connection as the node's filter rules see it (after any DNAT). */
export interface NodeConnection {
  readonly srcIp: string;
  readonly dstIp: string;
  /** tcp, udp or sctp. */
  readonly protocol: string;
  readonly srcPort?: number;
  readonly dstPort: number;
  /** Whether the packet crosses the node's bridge (netpol-trace-options.ts crossesBridge). */
  readonly bridged: boolean;
  /** FORWARD for pod traffic the node routes; OUTPUT for a hostNetwork client's own packets. */
  readonly hook: "FORWARD" | "OUTPUT";
}

/** Evidence a node answer lacks, and how to get it. */
export interface MissingNodeEvidence {
  readonly what: string;
  readonly how: string;
}

/** The node's kube-router answer for `conn`, or what is missing to get it. */
export function nodeAnswer(
  ctx: WalkContext,
  ev: NetpolEvidence,
  node: string,
  conn: NodeConnection,
): NodePolicyVerdict | MissingNodeEvidence {
  const n = ev.nodes.get(node);
  if (n?.ruleset === undefined) return { what: `nodes/${node}/iptables-save.txt`, how: collectNode(node) };
  const nodeObj = ctx.cluster.nodes.find((x) => x.metadata.name === node);
  const localIps = (nodeObj === undefined ? [] : nodeAddresses(nodeObj)).flatMap((a) => {
    const ip = parseIpv4(a.address);
    return ip === undefined ? [] : [ip];
  });
  const v = kubeRouterVerdict(
    n.ruleset,
    {
      src: parseIpv4(conn.srcIp)!,
      dst: parseIpv4(conn.dstIp)!,
      proto: conn.protocol,
      sport: conn.srcPort ?? -1,
      dport: conn.dstPort,
    },
    {
      node,
      file: n.file,
      sets: n.ipsets,
      ...(localIps.length === 0 ? {} : { localIps }),
      bridged: conn.bridged,
      hook: conn.hook,
    },
  );
  if (v.decision === "undecided" && n.ipsets === undefined)
    return { what: n.ipsetFile, how: nodeMissing(node, "ipset save") };
  return v;
}
