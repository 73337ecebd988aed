/**
 * Generates the filter table and ipsets that k3s's embedded kube-router NetworkPolicy controller
 * (k3s pkg/agent/netpol, "modified from" kube-router 73b1b03 / d6f9f31a7b, the v1.3 era) writes for
 * a set of policies on one node: the top-level KUBE-ROUTER-INPUT/FORWARD/OUTPUT chains, one
 * KUBE-NWPLCY-<hash> chain per policy with MARK/RETURN rule pairs over KUBE-SRC-/KUBE-DST- sets, one
 * KUBE-POD-FW-<hash> chain per local pod ending in NFLOG group 100 and REJECT, and
 * KUBE-NWPLCY-DEFAULT. Names are base32(sha256(...))[:16] as policy.go and pod.go compute them.
 * The rules are written in their final order (kube-router inserts with `-I 1`; the result is the
 * same). Test support: the kernel, not this file, is the judge of what the rules do.
 */
import { kubeProxyHash } from "../kube-proxy/chain-names.ts";
import type { Pod } from "../model/cluster.ts";
import type {
  Namespace,
  NetworkPolicy,
  NetworkPolicyPeer,
  NetworkPolicyPort,
} from "../model/network-policy.ts";
import { selectorMatches } from "../netpol/label-selector.ts";
import { NAMESPACE_NAME_LABEL } from "../netpol/rule-match.ts";

export interface KubeRouterInput {
  readonly policies: readonly NetworkPolicy[];
  readonly namespaces: readonly Namespace[];
  readonly pods: readonly Pod[];
  /** The node whose rules are generated: its pods (by nodeName) get firewall chains. */
  readonly node: string;
  readonly serviceCIDR?: string;
  readonly nodePortRange?: string;
  /** The sync version (kube-router uses time.Now().UnixNano()). */
  readonly version?: string;
}

export interface KubeRouterRules {
  /** `ipset restore` input. */
  readonly ipsets: string;
  /** `iptables-restore` input for the filter table. */
  readonly filter: string;
}

const h = (s: string) => kubeProxyHash(s);
export const networkPolicyChainName = (ns: string, name: string, version: string) =>
  `KUBE-NWPLCY-${h(ns + name + version)}`;
export const podFirewallChainName = (ns: string, name: string, version: string) =>
  `KUBE-POD-FW-${h(ns + name + version)}`;
export const policySourcePodIPSetName = (ns: string, name: string) => `KUBE-SRC-${h(ns + name)}`;
export const policyDestinationPodIPSetName = (ns: string, name: string) => `KUBE-DST-${h(ns + name)}`;
export const policyIndexedSourcePodIPSetName = (ns: string, name: string, i: number) =>
  `KUBE-SRC-${h(`${ns}${name}ingressrule${i}pod`)}`;
export const policyIndexedDestinationPodIPSetName = (ns: string, name: string, i: number) =>
  `KUBE-DST-${h(`${ns}${name}egressrule${i}pod`)}`;
export const policyIndexedSourceIPBlockIPSetName = (ns: string, name: string, i: number) =>
  `KUBE-SRC-${h(`${ns}${name}ingressrule${i}ipblock`)}`;
export const policyIndexedDestinationIPBlockIPSetName = (ns: string, name: string, i: number) =>
  `KUBE-DST-${h(`${ns}${name}egressrule${i}ipblock`)}`;
export const policyIndexedIngressNamedPortIPSetName = (ns: string, name: string, i: number, j: number) =>
  `KUBE-DST-${h(`${ns}${name}ingressrule${i}${j}namedport`)}`;
export const policyIndexedEgressNamedPortIPSetName = (ns: string, name: string, i: number, j: number) =>
  `KUBE-DST-${h(`${ns}${name}egressrule${i}${j}namedport`)}`;

/** isNetPolActionable: has an IP, not host network, not finished. */
function actionable(p: Pod): boolean {
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

class Writer {
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

function peerPods(policy: NetworkPolicy, peer: NetworkPolicyPeer, input: KubeRouterInput): Pod[] {
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

function policyType(p: NetworkPolicy): "ingress" | "egress" | "both" {
  const i = p.policyTypes?.includes("Ingress") === true;
  const e = p.policyTypes?.includes("Egress") === true;
  return i && e ? "both" : e ? "egress" : "ingress";
}

const ipEntries = (pods: readonly Pod[]) => pods.map((p) => `${p.podIP} timeout 0`);

function ingressRules(
  w: Writer,
  policy: NetworkPolicy,
  chain: string,
  dstSet: string,
  targets: readonly Pod[],
  input: KubeRouterInput,
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

function egressRules(
  w: Writer,
  policy: NetworkPolicy,
  chain: string,
  srcSet: string,
  input: KubeRouterInput,
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

const topComment = (builtin: string, custom: string) =>
  `kube-router netpol - ${h(`${builtin}-mcomment--commentkube-router netpol-j${custom}`)}`;

/**
 * The node's kube-router filter table and ipsets for `input`.
 *
 * @example
 * ```ts
 * const { ipsets, filter } = kubeRouterRules({ policies, namespaces, pods, node: "node1" });
 * await lab.loadIpsets(ipsets); await lab.load(filter);
 * ```
 */
export function kubeRouterRules(input: KubeRouterInput): KubeRouterRules {
  const version = input.version ?? "1700000000000000000";
  const w = new Writer();
  const targetsOf = new Map<NetworkPolicy, Pod[]>();
  for (const policy of input.policies) {
    const ns = policy.metadata.namespace ?? "default";
    const name = policy.metadata.name;
    const chain = networkPolicyChainName(ns, name, version);
    w.chains.push(chain);
    const targets = input.pods.filter(
      (p) =>
        p.metadata.namespace === ns &&
        selectorMatches(policy.podSelector, p.metadata.labels) &&
        actionable(p),
    );
    targetsOf.set(policy, targets);
    const type = policyType(policy);
    if (type !== "egress") {
      const dst = policyDestinationPodIPSetName(ns, name);
      w.set(dst, "hash:ip", ipEntries(targets));
      ingressRules(w, policy, chain, dst, targets, input);
    }
    if (type !== "ingress") {
      const src = policySourcePodIPSetName(ns, name);
      w.set(src, "hash:ip", ipEntries(targets));
      egressRules(w, policy, chain, src, input);
    }
  }
  const jumps: Record<"INPUT" | "FORWARD" | "OUTPUT", string[]> = { INPUT: [], FORWARD: [], OUTPUT: [] };
  const local = input.pods.filter((p) => p.nodeName === input.node && actionable(p));
  for (const pod of local) podChain(w, pod, input, targetsOf, version, jumps);
  const lines = [
    "*filter",
    ":INPUT ACCEPT [0:0]",
    ":FORWARD ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    ...[
      "KUBE-ROUTER-INPUT",
      "KUBE-ROUTER-FORWARD",
      "KUBE-ROUTER-OUTPUT",
      "KUBE-NWPLCY-DEFAULT",
      ...w.chains,
    ].map((c) => `:${c} - [0:0]`),
    ...(["INPUT", "FORWARD", "OUTPUT"] as const).map(
      (b) => `-A ${b} -m comment --comment "${topComment(b, `KUBE-ROUTER-${b}`)}" -j KUBE-ROUTER-${b}`,
    ),
    // Each sync inserts the pod jumps at position 1, in front of what ensureTopLevelChains wrote.
    ...jumps.INPUT,
    `-A KUBE-ROUTER-INPUT -d ${input.serviceCIDR ?? "10.43.0.0/16"} -m comment --comment "allow traffic to cluster IP - ${h("KUBE-ROUTER-INPUT-mcomment--commentallow traffic to cluster IP-d" + (input.serviceCIDR ?? "10.43.0.0/16") + "-jRETURN")}" -j RETURN`,
    ...(["tcp", "udp"] as const).map(
      (p) =>
        `-A KUBE-ROUTER-INPUT -p ${p} -m comment --comment "allow LOCAL ${p.toUpperCase()} traffic to node ports - ${h(`KUBE-ROUTER-INPUT-p${p}-mcomment--commentallow LOCAL ${p.toUpperCase()} traffic to node ports-maddrtype--dst-typeLOCAL-mmultiport--dports${input.nodePortRange ?? "30000:32767"}-jRETURN`)}" -m addrtype --dst-type LOCAL -m multiport --dports ${input.nodePortRange ?? "30000:32767"} -j RETURN`,
    ),
    ...jumps.FORWARD,
    ...jumps.OUTPUT,
    ...(["INPUT", "FORWARD", "OUTPUT"] as const).map(
      (b) =>
        `-A KUBE-ROUTER-${b} -m comment --comment "rule to explicitly ACCEPT traffic that comply to network policies" -m mark --mark 0x20000/0x20000 -j ACCEPT`,
    ),
    '-A KUBE-NWPLCY-DEFAULT -m comment --comment "rule to mark traffic matching a network policy" -j MARK --set-xmark 0x10000/0x10000',
    ...w.rules,
    "COMMIT",
    "",
  ];
  const ipsets = [...w.sets].flatMap(([name, s]) => [
    `create ${name} ${s.type} family inet hashsize 1024 maxelem 65536 timeout 0`,
    ...s.entries.map((e) => `add ${name} ${e}`),
  ]);
  return { ipsets: `${ipsets.join("\n")}\n`, filter: lines.join("\n") };
}

/** syncPodFirewallChains for one local pod, rules in their final order. */
function podChain(
  w: Writer,
  pod: Pod,
  input: KubeRouterInput,
  targetsOf: ReadonlyMap<NetworkPolicy, Pod[]>,
  version: string,
  jumps: Record<"INPUT" | "FORWARD" | "OUTPUT", string[]>,
): void {
  const ns = pod.metadata.namespace ?? "default";
  const name = pod.metadata.name;
  const ip = pod.podIP!;
  const fw = podFirewallChainName(ns, name, version);
  w.chains.push(fw);
  const inserted: string[] = [];
  let hasIngress = false;
  let hasEgress = false;
  for (const policy of input.policies) {
    if (!(targetsOf.get(policy) ?? []).includes(pod)) continue;
    const chain = networkPolicyChainName(
      policy.metadata.namespace ?? "default",
      policy.metadata.name,
      version,
    );
    const type = policyType(policy);
    if (type !== "egress") hasIngress = true;
    if (type !== "ingress") hasEgress = true;
    const limit = type === "ingress" ? ` -d ${ip}` : type === "egress" ? ` -s ${ip}` : "";
    inserted.unshift(
      `-A ${fw}${limit} -m comment --comment "run through nw policy ${policy.metadata.name}" -j ${chain}`,
    );
  }
  if (!hasIngress)
    inserted.unshift(
      `-A ${fw} -d ${ip} -m comment --comment "run through default ingress network policy  chain" -j KUBE-NWPLCY-DEFAULT`,
    );
  if (!hasEgress)
    inserted.unshift(
      `-A ${fw} -s ${ip} -m comment --comment "run through default egress network policy  chain" -j KUBE-NWPLCY-DEFAULT`,
    );
  inserted.unshift(
    `-A ${fw} -m comment --comment "rule to permit the traffic traffic to pods when source is the pod's local node" -m addrtype --src-type LOCAL -d ${ip} -j ACCEPT`,
  );
  inserted.unshift(
    `-A ${fw} -m comment --comment "rule for stateful firewall for pod" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
  );
  w.rules.push(
    ...inserted,
    `-A ${fw} -m comment --comment "rule to log dropped traffic POD name:${name} namespace: ${ns}" -m mark ! --mark 0x10000/0x10000 -j NFLOG --nflog-group 100 -m limit --limit 10/minute --limit-burst 10`,
    `-A ${fw} -m comment --comment "rule to REJECT traffic destined for POD name:${name} namespace: ${ns}" -m mark ! --mark 0x10000/0x10000 -j REJECT`,
    `-A ${fw} -j MARK --set-mark 0/0x10000`,
    `-A ${fw} -m comment --comment "set mark to ACCEPT traffic that comply to network policies" -j MARK --set-mark 0x20000/0x20000`,
  );
  const into = `rule to jump traffic destined to POD name:${name} namespace: ${ns} to chain ${fw}`;
  const from = `rule to jump traffic from POD name:${name} namespace: ${ns} to chain ${fw}`;
  // Inserted at position 1 in this order: -d, physdev -d, -s, physdev -s; later pods land in front.
  jumps.FORWARD.unshift(
    `-A KUBE-ROUTER-FORWARD -m physdev --physdev-is-bridged -m comment --comment "${from}" -s ${ip} -j ${fw}`,
    `-A KUBE-ROUTER-FORWARD -m comment --comment "${from}" -s ${ip} -j ${fw}`,
    `-A KUBE-ROUTER-FORWARD -m physdev --physdev-is-bridged -m comment --comment "${into}" -d ${ip} -j ${fw}`,
    `-A KUBE-ROUTER-FORWARD -m comment --comment "${into}" -d ${ip} -j ${fw}`,
  );
  jumps.OUTPUT.unshift(
    `-A KUBE-ROUTER-OUTPUT -m comment --comment "${from}" -s ${ip} -j ${fw}`,
    `-A KUBE-ROUTER-OUTPUT -m comment --comment "${into}" -d ${ip} -j ${fw}`,
  );
  jumps.INPUT.unshift(`-A KUBE-ROUTER-INPUT -m comment --comment "${from}" -s ${ip} -j ${fw}`);
}
