/**
 * The KUBE-NWPLCY-* chain of one policy and its KUBE-SRC-/KUBE-DST- sets, as k3s's embedded
 * kube-router writes them (pkg/agent/netpol/policy.go: buildNetworkPoliciesInfo, processIngressRules,
 * processEgressRules, appendRuleToPolicyChain, evalIPBlockPeer, grabNamedPortFromPod).
 */
import type { Pod } from "../model/cluster.ts";
import type {
  Namespace,
  NetworkPolicy,
  NetworkPolicyPeer,
  NetworkPolicyPort,
} from "../model/network-policy.ts";
import { selectorMatches } from "../netpol/label-selector.ts";
import { NAMESPACE_NAME_LABEL } from "../netpol/rule-match.ts";
import {
  policyIndexedDestinationIPBlockIPSetName,
  policyIndexedDestinationPodIPSetName,
  policyIndexedEgressNamedPortIPSetName,
  policyIndexedIngressNamedPortIPSetName,
  policyIndexedSourceIPBlockIPSetName,
  policyIndexedSourcePodIPSetName,
} from "./netpol-kube-router-names.ts";

/** What the policy rules read of the cluster. */
export interface PolicyInput {
  readonly namespaces: readonly Namespace[];
  readonly pods: readonly Pod[];
}

export function actionable(p: Pod): boolean {
  return p.podIP !== undefined && p.hostNetwork !== true && p.phase !== "Succeeded" && p.phase !== "Failed";
}

interface PortRule {
  readonly protocol: string;
  readonly port: string;
  readonly endport: string;
}

interface NamedEndpoints extends PortRule {
  readonly ips: string[];
}

/** grabNamedPortFromPod: name → protocol → port → endpoint IPs, in insertion order. */
function namedPortMap(pods: readonly Pod[]): Map<string, NamedEndpoints[]> {
  const map = new Map<string, NamedEndpoints[]>();
  for (const p of pods) {
    for (const c of p.containers) {
      for (const cp of c.ports ?? []) {
        const key = `${cp.name ?? ""}/${cp.protocol ?? "TCP"}`;
        const list = map.get(key) ?? [];
        const eps = list.find((e) => e.port === String(cp.containerPort));
        if (eps === undefined)
          list.push({
            protocol: cp.protocol ?? "TCP",
            port: String(cp.containerPort),
            endport: "",
            ips: [p.podIP!],
          });
        else eps.ips.push(p.podIP!);
        map.set(key, list);
      }
    }
  }
  return map;
}

/** processNetworkPolicyPorts: numeric ports (with endPort when >= port) and resolved named ports. */
function processPorts(
  ports: readonly NetworkPolicyPort[],
  named: Map<string, NamedEndpoints[]>,
): { numeric: PortRule[]; named: NamedEndpoints[] } {
  const numeric: PortRule[] = [];
  const out: NamedEndpoints[] = [];
  for (const p of ports) {
    const protocol = p.protocol ?? "TCP";
    if (p.port === undefined) numeric.push({ protocol, port: "", endport: "" });
    else if (typeof p.port === "number") {
      numeric.push({
        protocol,
        port: String(p.port),
        endport: p.endPort !== undefined && p.endPort >= p.port ? String(p.endPort) : "",
      });
    } else out.push(...(named.get(`${p.port}/${protocol}`) ?? []));
  }
  return { numeric, named: out };
}

export class Writer {
  readonly sets = new Map<string, { type: string; entries: string[] }>();
  readonly chains: string[] = [];
  readonly rules: string[] = [];

  set(name: string, type: string, entries: readonly string[]): void {
    this.sets.set(name, { type, entries: [...entries] });
  }

  /** appendRuleToPolicyChain: a MARK rule and a RETURN rule with the same matches. */
  policyRule(
    chain: string,
    comment: string,
    src: string,
    dst: string,
    protocol: string,
    port: string,
    endport: string,
  ): void {
    const args = [`-A ${chain}`, `-m comment --comment "${comment}"`];
    if (src !== "") args.push(`-m set --match-set ${src} src`);
    if (dst !== "") args.push(`-m set --match-set ${dst} dst`);
    if (protocol !== "") args.push(`-p ${protocol}`);
    if (port !== "") args.push(`--dport ${endport === "" ? port : `${port}:${endport}`}`);
    this.rules.push(`${args.join(" ")} -j MARK --set-xmark 0x10000/0x10000`);
    this.rules.push(`${args.join(" ")} -m mark --mark 0x10000/0x10000 -j RETURN`);
  }
}

function peerPods(policy: NetworkPolicy, peer: NetworkPolicyPeer, input: PolicyInput): Pod[] {
  const ns = policy.metadata.namespace ?? "default";
  if (peer.namespaceSelector !== undefined) {
    const sel = peer.namespaceSelector;
    const names = input.namespaces
      .filter((n) =>
        selectorMatches(sel, { [NAMESPACE_NAME_LABEL]: n.metadata.name, ...(n.metadata.labels ?? {}) }),
      )
      .map((n) => n.metadata.name);
    return input.pods.filter(
      (p) =>
        names.includes(p.metadata.namespace ?? "") &&
        (peer.podSelector === undefined || selectorMatches(peer.podSelector, p.metadata.labels)),
    );
  }
  if (peer.podSelector !== undefined) {
    const sel = peer.podSelector;
    return input.pods.filter((p) => p.metadata.namespace === ns && selectorMatches(sel, p.metadata.labels));
  }
  return [];
}

/** evalIPBlockPeer: /0 split in two halves, except entries as nomatch. */
function ipBlockEntries(peer: NetworkPolicyPeer): string[] {
  if (peer.podSelector !== undefined || peer.namespaceSelector !== undefined || peer.ipBlock === undefined)
    return [];
  const half = (c: string, extra: string) =>
    c.endsWith("/0")
      ? [`0.0.0.0/1 timeout 0${extra}`, `128.0.0.0/1 timeout 0${extra}`]
      : [`${c} timeout 0${extra}`];
  return [...half(peer.ipBlock.cidr, ""), ...(peer.ipBlock.except ?? []).flatMap((e) => half(e, " nomatch"))];
}

export function policyType(p: NetworkPolicy): "ingress" | "egress" | "both" {
  const i = p.policyTypes?.includes("Ingress") === true;
  const e = p.policyTypes?.includes("Egress") === true;
  return i && e ? "both" : e ? "egress" : "ingress";
}

export const ipEntries = (pods: readonly Pod[]) => pods.map((p) => `${p.podIP} timeout 0`);

export function ingressRules(
  w: Writer,
  policy: NetworkPolicy,
  chain: string,
  dstSet: string,
  targets: readonly Pod[],
  input: PolicyInput,
): void {
  const ns = policy.metadata.namespace ?? "default";
  const name = policy.metadata.name;
  const named = namedPortMap(targets);
  const fromSrc = `rule to ACCEPT traffic from source pods to dest pods selected by policy name ${name} namespace ${ns}`;
  const fromAll = `rule to ACCEPT traffic from all sources to dest pods selected by policy name: ${name} namespace ${ns}`;
  const fromBlock = `rule to ACCEPT traffic from specified ipBlocks to dest pods selected by policy name: ${name} namespace ${ns}`;
  (policy.ingress ?? []).forEach((rule, i) => {
    const from = rule.from ?? [];
    const matchAllSource = from.length === 0;
    const matchAllPorts = (rule.ports ?? []).length === 0;
    const srcPods = from.flatMap((peer) => peerPods(policy, peer, input)).filter(actionable);
    const blocks = from.flatMap(ipBlockEntries);
    const { numeric, named: namedPorts } = processPorts(rule.ports ?? [], named);
    const namedSet = (j: number, eps: NamedEndpoints, type: string) => {
      const set = policyIndexedIngressNamedPortIPSetName(ns, name, i, j);
      w.set(
        set,
        type,
        eps.ips.map((ip) => `${ip} timeout 0`),
      );
      return set;
    };
    if (srcPods.length > 0) {
      const src = policyIndexedSourcePodIPSetName(ns, name, i);
      w.set(src, "hash:ip", ipEntries(srcPods));
      for (const p of numeric) w.policyRule(chain, fromSrc, src, dstSet, p.protocol, p.port, p.endport);
      for (const [j, eps] of namedPorts.entries()) {
        w.policyRule(chain, fromSrc, src, namedSet(j, eps, "hash:ip"), eps.protocol, eps.port, eps.endport);
      }
      if (numeric.length === 0 && namedPorts.length === 0)
        w.policyRule(chain, fromSrc, src, dstSet, "", "", "");
    }
    if (matchAllSource && !matchAllPorts) {
      for (const p of numeric) w.policyRule(chain, fromAll, "", dstSet, p.protocol, p.port, p.endport);
      for (const [j, eps] of namedPorts.entries()) {
        w.policyRule(chain, fromAll, "", namedSet(j, eps, "hash:ip"), eps.protocol, eps.port, eps.endport);
      }
    }
    if (matchAllSource && matchAllPorts) w.policyRule(chain, fromAll, "", dstSet, "", "", "");
    if (blocks.length > 0) {
      const src = policyIndexedSourceIPBlockIPSetName(ns, name, i);
      w.set(src, "hash:net", blocks);
      if (!matchAllPorts) {
        for (const p of numeric) w.policyRule(chain, fromBlock, src, dstSet, p.protocol, p.port, p.endport);
        for (const [j, eps] of namedPorts.entries()) {
          w.policyRule(
            chain,
            fromBlock,
            src,
            namedSet(j, eps, "hash:net"),
            eps.protocol,
            eps.port,
            eps.endport,
          );
        }
      } else w.policyRule(chain, fromBlock, src, dstSet, "", "", "");
    }
  });
}

export function egressRules(
  w: Writer,
  policy: NetworkPolicy,
  chain: string,
  srcSet: string,
  input: PolicyInput,
): void {
  const ns = policy.metadata.namespace ?? "default";
  const name = policy.metadata.name;
  const toDst = `rule to ACCEPT traffic from source pods to dest pods selected by policy name ${name} namespace ${ns}`;
  const toAll = `rule to ACCEPT traffic from source pods to all destinations selected by policy name: ${name} namespace ${ns}`;
  const toBlock = `rule to ACCEPT traffic from source pods to specified ipBlocks selected by policy name: ${name} namespace ${ns}`;
  (policy.egress ?? []).forEach((rule, i) => {
    const to = rule.to ?? [];
    const matchAllDestinations = to.length === 0;
    const matchAllPorts = (rule.ports ?? []).length === 0;
    const dstPods = to.flatMap((peer) => peerPods(policy, peer, input)).filter(actionable);
    // With no `to`, named ports are looked up on every pod of the policy's namespace.
    const namedFrom = matchAllDestinations
      ? input.pods.filter((p) => p.metadata.namespace === ns && actionable(p))
      : dstPods;
    const { numeric, named: namedPorts } = processPorts(rule.ports ?? [], namedPortMap(namedFrom));
    const blocks = to.flatMap(ipBlockEntries);
    if (dstPods.length > 0) {
      const dst = policyIndexedDestinationPodIPSetName(ns, name, i);
      w.set(dst, "hash:ip", ipEntries(dstPods));
      for (const p of numeric) w.policyRule(chain, toDst, srcSet, dst, p.protocol, p.port, p.endport);
      namedPorts.forEach((eps, j) => {
        const set = policyIndexedEgressNamedPortIPSetName(ns, name, i, j);
        w.set(
          set,
          "hash:ip",
          eps.ips.map((ip) => `${ip} timeout 0`),
        );
        w.policyRule(chain, toDst, srcSet, set, eps.protocol, eps.port, eps.endport);
      });
      if (numeric.length === 0 && namedPorts.length === 0)
        w.policyRule(chain, toDst, srcSet, dst, "", "", "");
    }
    if (matchAllDestinations && !matchAllPorts) {
      for (const p of [...numeric, ...namedPorts])
        w.policyRule(chain, toAll, srcSet, "", p.protocol, p.port, p.endport);
    }
    if (matchAllDestinations && matchAllPorts) w.policyRule(chain, toAll, srcSet, "", "", "", "");
    if (blocks.length > 0) {
      const dst = policyIndexedDestinationIPBlockIPSetName(ns, name, i);
      w.set(dst, "hash:net", blocks);
      if (!matchAllPorts)
        for (const p of numeric) w.policyRule(chain, toBlock, srcSet, dst, p.protocol, p.port, p.endport);
      else w.policyRule(chain, toBlock, srcSet, dst, "", "", "");
    }
  });
}
