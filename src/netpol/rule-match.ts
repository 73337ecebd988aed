/**
 * Whether one ingress/egress rule of a NetworkPolicy admits a connection, per the API reference
 * (networking.k8s.io/v1) and the concepts page "Network Policies":
 *
 * - a rule with no peers admits every peer; peers are ORed; in one peer podSelector and
 *   namespaceSelector are ANDed; podSelector alone means pods of the policy's own namespace;
 * - ipBlock admits addresses in `cidr` and in none of `except`;
 * - a rule with no ports admits every port; ports are ORed; a port without protocol is TCP; a port
 *   without number admits every port of its protocol; `endPort` makes a range; a named port is
 *   resolved through the container ports of the pod the traffic goes to (the server, for ingress
 *   and egress alike).
 *
 * Tri-state answers: `true`, `false`, or a string saying what evidence is missing.
 */
import type { Pod } from "../model/cluster.ts";
import type { Namespace, NetworkPolicyPeer, NetworkPolicyPort } from "../model/network-policy.ts";
import { inCidr, parseCidr, parseIpv4 } from "../net/ipv4.ts";
import { selectorKeys, selectorMatches, selectsAll } from "./label-selector.ts";
import { type AddressClient, isPod, type NetpolProtocol } from "./netpol-types.ts";

export type Tri = boolean | string;

/** The immutable label every namespace carries since Kubernetes 1.21. */
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

/** Labels of namespace `name`; a string when they cannot be known. */
export function namespaceLabels(
  namespaces: readonly Namespace[] | undefined,
  name: string,
  keys: readonly string[],
): Readonly<Record<string, string>> | string {
  if (namespaces !== undefined) {
    const ns = namespaces.find((n) => n.metadata.name === name);
    if (ns !== undefined) return { [NAMESPACE_NAME_LABEL]: name, ...(ns.metadata.labels ?? {}) };
    return `namespace ${name} is not in cluster/namespaces.json`;
  }
  // Without namespaces.json only the automatic name label is known.
  if (keys.every((k) => k === NAMESPACE_NAME_LABEL)) return { [NAMESPACE_NAME_LABEL]: name };
  return "namespace labels are unknown: cluster/namespaces.json was not collected (kubectl get namespaces -o json)";
}

function inBlock(ip: string, cidr: string, except: readonly string[]): Tri {
  const addr = parseIpv4(ip);
  const block = parseCidr(cidr);
  if (addr === undefined) return false;
  if (block === undefined) return cidr.includes(":") ? false : `ipBlock "${cidr}" is not a CIDR`;
  if (!inCidr(addr, block)) return false;
  for (const e of except) {
    const c = parseCidr(e);
    if (c !== undefined && inCidr(addr, c)) return false;
  }
  return true;
}

/**
 * Whether `peer` (of a policy in `policyNamespace`) selects `who`: the client for ingress rules,
 * the server for egress rules.
 */
export function peerMatches(
  peer: NetworkPolicyPeer,
  who: Pod | AddressClient,
  options: { readonly policyNamespace: string; readonly namespaces: readonly Namespace[] | undefined },
): Tri {
  if (peer.ipBlock !== undefined) {
    if (isPod(who)) {
      if (who.podIP === undefined) return `pod ${who.metadata.namespace}/${who.metadata.name} has no IP`;
      return inBlock(who.podIP, peer.ipBlock.cidr, peer.ipBlock.except ?? []);
    }
    const ip = who.ip;
    return inBlock(ip, peer.ipBlock.cidr, peer.ipBlock.except ?? []);
  }
  // Pod and namespace selectors select pods only; a hostNetwork pod speaks with its node's address.
  if (!isPod(who) || who.hostNetwork === true) return false;
  const ns = who.metadata.namespace ?? "default";
  if (peer.namespaceSelector !== undefined) {
    if (!selectsAll(peer.namespaceSelector)) {
      const labels = namespaceLabels(options.namespaces, ns, selectorKeys(peer.namespaceSelector));
      if (typeof labels === "string") return labels;
      if (!selectorMatches(peer.namespaceSelector, labels)) return false;
    }
  } else if (ns !== options.policyNamespace) return false;
  return peer.podSelector === undefined || selectorMatches(peer.podSelector, who.metadata.labels);
}

/** The container port named `name` (with `protocol`) of `pod`. */
export function namedPort(pod: Pod, name: string, protocol: NetpolProtocol): number | undefined {
  for (const c of pod.containers) {
    for (const p of c.ports ?? []) {
      if (p.name === name && (p.protocol ?? "TCP").toUpperCase() === protocol) return p.containerPort;
    }
  }
  return undefined;
}

/** Whether `p` admits `port`/`protocol` to `server`. */
export function portMatches(p: NetworkPolicyPort, port: number, protocol: NetpolProtocol, server: Pod): Tri {
  if ((p.protocol ?? "TCP").toUpperCase() !== protocol) return false;
  if (p.port === undefined) return true;
  if (typeof p.port === "number") {
    return p.endPort !== undefined && p.endPort >= p.port
      ? port >= p.port && port <= p.endPort
      : port === p.port;
  }
  const resolved = namedPort(server, p.port, protocol);
  return resolved !== undefined && resolved === port;
}

/** Tri-state OR: true wins, then an undecided reason, then false. */
export function anyOf(values: Iterable<Tri>): Tri {
  let pending: string | undefined;
  for (const v of values) {
    if (v === true) return true;
    if (typeof v === "string" && pending === undefined) pending = v;
  }
  return pending ?? false;
}
