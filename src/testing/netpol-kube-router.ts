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
import type { Pod } from "../model/cluster.ts";
import type { Namespace, NetworkPolicy } from "../model/network-policy.ts";
import { selectorMatches } from "../netpol/label-selector.ts";
import {
  h,
  networkPolicyChainName,
  podFirewallChainName,
  policyDestinationPodIPSetName,
  policySourcePodIPSetName,
} from "./netpol-kube-router-names.ts";
import {
  actionable,
  egressRules,
  ingressRules,
  ipEntries,
  policyType,
  Writer,
} from "./netpol-kube-router-policy.ts";

export * from "./netpol-kube-router-names.ts";

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
