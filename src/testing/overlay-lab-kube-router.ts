/**
 * The overlay lab with k3s's kube-router NetworkPolicy chains and ipsets on its nodes
 * (netpol-kube-router.ts), for the kernel suite of bridged and routed pod traffic
 * (overlay-lab-kube-router.test.ts): node-a holds a client a1 and a web pod a2 on one cni0 bridge,
 * node-b a web pod b1 and a db pod b2. `web-from-client` admits app=client to app=web on 8080 only;
 * `db-no-egress` isolates b2's egress (its replies still pass: ESTABLISHED). The Service web
 * (198.19.0.20:80) is DNATed on node-a to a2:8080, on the client's own bridge. Also: reading the
 * kernel's packet counters of kube-router's `--physdev-is-bridged` jumps, and the same jumps in
 * netdoctor's traces of a connection.
 */
import { writeBundleFile } from "../collect/bundle-writer.ts";
import type { Pod } from "../model/cluster.ts";
import type { RuleStep } from "../model/trace.ts";
import { parseDump } from "../parse/parse-dump.ts";
import { answerConnection, type ConnectionAnswer } from "../trace/connection-answer.ts";
import type { HostPathInput } from "../trace/host-path-input.ts";
import { ruleStepsOf } from "../trace/rule-steps.ts";
import { kubeRouterRules } from "./netpol-kube-router.ts";
import { labels, podPeer, policy } from "./netpol-model.ts";
import type { OverlayLab, OverlayLabNode } from "./overlay-lab.ts";
import { iptables, NAT, WEB } from "./overlay-lab-case-kit.ts";
import { labAnswer, labClient } from "./overlay-lab-verdict.ts";

export const KR_NODES: readonly OverlayLabNode[] = [
  {
    name: "node-a",
    index: 1,
    pods: [
      { name: "a1", ip: "198.18.1.10", labels: { app: "client" } },
      { name: "a2", ip: "198.18.1.11", tcpPorts: [8080, 9090], labels: { app: "web" } },
    ],
  },
  {
    name: "node-b",
    index: 2,
    pods: [
      { name: "b1", ip: "198.18.2.10", tcpPorts: [8080, 9090], labels: { app: "web" } },
      { name: "b2", ip: "198.18.2.11", tcpPorts: [5432], labels: { app: "db" } },
    ],
  },
];

export const KR_POLICIES = [
  policy("default", "web-from-client", {
    podSelector: labels({ app: "web" }),
    ingress: [{ from: [podPeer({ app: "client" })], ports: [{ port: 8080 }] }],
  }),
  policy("default", "db-no-egress", { podSelector: labels({ app: "db" }), egress: [] }),
];

/** The same policies as `kubectl get networkpolicies -A -o json` prints them (for diagnose). */
export const KR_POLICIES_JSON = {
  apiVersion: "v1",
  kind: "List",
  items: [
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "web-from-client", namespace: "default", uid: "uid-default-web-from-client" },
      spec: {
        podSelector: { matchLabels: { app: "web" } },
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ podSelector: { matchLabels: { app: "client" } } }], ports: [{ port: 8080 }] }],
      },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "db-no-egress", namespace: "default", uid: "uid-default-db-no-egress" },
      spec: { podSelector: { matchLabels: { app: "db" } }, policyTypes: ["Egress"], egress: [] },
    },
  ],
};

const NAMESPACES_JSON = {
  apiVersion: "v1",
  kind: "List",
  items: [{ apiVersion: "v1", kind: "Namespace", metadata: { name: "default", labels: {} } }],
};

/** The lab's pods as API objects, for the rule generator. */
function labPods(): Pod[] {
  return KR_NODES.flatMap((n) =>
    n.pods.map(
      (p): Pod => ({
        metadata: {
          name: p.name,
          namespace: "default",
          labels: { ...(p.labels ?? {}) },
          uid: `uid-${p.name}`,
        },
        containers: [
          {
            name: "app",
            ports: (p.tcpPorts ?? []).map((port) => ({ containerPort: port, protocol: "TCP" })),
          },
        ],
        podIP: p.ip,
        phase: "Running",
        nodeName: n.name,
      }),
    ),
  );
}

/** Loads each node's kube-router ipsets and filter table, and node-a's DNAT for the Service web. */
export function loadKubeRouter(lab: OverlayLab): void {
  for (const n of KR_NODES) {
    const rules = kubeRouterRules({
      policies: KR_POLICIES,
      namespaces: [{ metadata: { name: "default", labels: {} } }],
      pods: labPods(),
      node: n.name,
      serviceCIDR: "198.19.0.0/24",
    });
    lab.exec(n.name, ["ipset", "restore"], rules.ipsets);
    lab.exec(n.name, ["iptables-nft-restore"], rules.filter);
  }
  iptables(
    lab,
    "node-a",
    NAT(
      `-A PREROUTING -d ${WEB.clusterIP}/32 -p tcp -m tcp --dport ${WEB.port} -j DNAT --to-destination 198.18.1.11:${WEB.targetPort}\n`,
    ),
  );
}

/** Adds cluster/networkpolicies.json and cluster/namespaces.json to a lab bundle. */
export async function writePolicyFiles(dir: string): Promise<void> {
  await writeBundleFile(
    `${dir}/cluster/networkpolicies.json`,
    `${JSON.stringify(KR_POLICIES_JSON, null, 2)}\n`,
  );
  await writeBundleFile(`${dir}/cluster/namespaces.json`, `${JSON.stringify(NAMESPACES_JSON, null, 2)}\n`);
}

const PHYSDEV = "--physdev-is-bridged";

/** The node's `--physdev-is-bridged` rules with their packet counters, by rule text. */
export function physdevCounters(lab: OverlayLab, node: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  const rs = parseDump(lab.exec(node, ["iptables-save", "-c"]));
  for (const chain of rs.tables.get("filter")?.chains.values() ?? [])
    for (const r of chain.rules)
      if (r.text.includes(PHYSDEV)) out.set(ruleKey(r.text), BigInt(r.counters?.packets ?? "0"));
  return out;
}

/** A rule's text without its `[packets:bytes]` counters. */
function ruleKey(text: string): string {
  return text.replace(/^\[\d+:\d+\]\s*/, "");
}

/** The physdev rules whose counters moved between two readings. */
export function movedRules(before: Map<string, bigint>, after: Map<string, bigint>): string[] {
  return [...after]
    .filter(([k, n]) => n > (before.get(k) ?? 0n))
    .map(([k]) => k)
    .sort();
}

/**
 * netdoctor's answer for a1's TCP connection to `dstIp:dstPort`, as the lab's outcome key (`answer
 * POD`, `error ERRNO`, `timeout`), also when the client node's own rules end it (a REJECT on a1's node).
 */
export function krAnswer(
  bundle: HostPathInput,
  dstIp: string,
  dstPort: number,
): { key: string; reason?: string; answer: ConnectionAnswer } {
  const q = { from: "a1", protocol: "tcp", dstIp, dstPort } as const;
  const client = labClient(bundle, q.from);
  const answer = answerConnection(bundle, {
    node: client.node,
    ingress: "pod",
    packet: { protocol: "tcp", srcIp: client.ip, dstIp, dstPort },
  });
  if (answer.branches.length !== 1) throw new RangeError(`${answer.branches.length} branches`);
  const b = answer.branches[0]!;
  if (b.connection !== undefined) {
    const a = labAnswer(bundle, q);
    return { key: a.key, ...(a.reason === undefined ? {} : { reason: a.reason }), answer };
  }
  const d = b.clientTrace!.disposition;
  switch (d.kind) {
    case "rejected":
      return { key: d.clientError === undefined ? "timeout" : `error ${d.clientError}`, answer };
    case "dropped":
      return { key: "timeout", answer };
    default:
      return { key: "unknown", reason: d.kind === "undecided" ? d.reason : d.kind, answer };
  }
}

/**
 * The `--physdev-is-bridged` jumps netdoctor's answer takes on `node`, over the request and the
 * reply (the client node's own trace and every filter step's iptables trace).
 */
export function tracedPhysdevRules(answer: ConnectionAnswer, node: string): string[] {
  const steps: RuleStep[] = [];
  for (const b of answer.branches) {
    if (b.clientTrace !== undefined && answer.question.node === node)
      steps.push(...ruleStepsOf(b.clientTrace));
    const c = b.connection;
    for (const path of c === undefined ? [] : [c.request, c.reply]) {
      for (const hop of path?.hops ?? []) {
        if (hop.node !== node) continue;
        for (const s of hop.steps) {
          if (s.kind !== "filter") continue;
          const t = answer.filter.traces.get(s.evidence);
          if (t !== undefined) steps.push(...ruleStepsOf(t));
        }
      }
    }
  }
  const rules = new Set<string>();
  for (const s of steps)
    if (s.kind === "filter" && s.action.kind === "jump" && s.rule.includes(PHYSDEV))
      rules.add(ruleKey(s.rule));
  return [...rules].sort();
}
