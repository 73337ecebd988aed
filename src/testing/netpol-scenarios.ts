/**
 * A small cluster on one node (all addresses in 198.18.0.0/15) and a handful of NetworkPolicy
 * scenarios over it, for the kernel suite that loads kube-router's chains into a netns lab and for
 * tests that reuse the same objects. Clients: x/a (role=frontend), y/b, x/c; servers: x/web (named
 * ports http 8080, metrics 9090, mdns 5353/UDP) and x/db (pg 5432).
 */
import type { Pod } from "../model/cluster.ts";
import type { Namespace, NetworkPolicy } from "../model/network-policy.ts";
import type { NetpolProtocol } from "../netpol/netpol-types.ts";
import { policyIndexedSourcePodIPSetName } from "./netpol-kube-router.ts";
import { labels, policy } from "./netpol-model.ts";

export const NODE = "node1";
export const NODE_IP = "198.18.0.1";

function pod(
  ns: string,
  name: string,
  ip: string,
  l: Record<string, string>,
  ports: Pod["containers"][number]["ports"] = [],
): Pod {
  return {
    metadata: { name, namespace: ns, labels: l, uid: `uid-pod-${ns}-${name}` },
    containers: [{ name: "main", ports }],
    podIP: ip,
    phase: "Running",
    nodeName: NODE,
    source: { file: "cluster/pods.json" },
  };
}

export const NAMESPACES: readonly Namespace[] = [
  { metadata: { name: "x", labels: { "kubernetes.io/metadata.name": "x", team: "shop" } } },
  { metadata: { name: "y", labels: { "kubernetes.io/metadata.name": "y", team: "web" } } },
];

export const CLIENTS: Readonly<Record<string, Pod>> = {
  a: pod("x", "a", "198.18.1.2", { app: "client", role: "frontend" }),
  b: pod("y", "b", "198.18.1.3", { app: "client" }),
  c: pod("x", "c", "198.18.1.4", { app: "batch" }),
};

export const SERVERS: Readonly<Record<string, Pod>> = {
  web: pod("x", "web", "198.18.2.1", { app: "web" }, [
    { name: "http", containerPort: 8080, protocol: "TCP" },
    { name: "metrics", containerPort: 9090, protocol: "TCP" },
    { name: "mdns", containerPort: 5353, protocol: "UDP" },
  ]),
  db: pod("x", "db", "198.18.2.2", { app: "db" }, [{ name: "pg", containerPort: 5432, protocol: "TCP" }]),
};

export const ALL_PODS: readonly Pod[] = [...Object.values(CLIENTS), ...Object.values(SERVERS)];

/** The connections every scenario probes. */
export const TARGETS: readonly { server: keyof typeof SERVERS; port: number; protocol: NetpolProtocol }[] = [
  { server: "web", port: 8080, protocol: "TCP" },
  { server: "web", port: 9090, protocol: "TCP" },
  { server: "db", port: 5432, protocol: "TCP" },
  { server: "web", port: 5353, protocol: "UDP" },
];

export interface NetpolScenario {
  readonly name: string;
  readonly policies: readonly NetworkPolicy[];
  /** A member removed from a set after generation: the node's ipset is stale. */
  readonly stale?: { readonly ip: string; readonly set: string };
}

const denyIngress = policy("x", "default-deny-ingress", { ingress: [] });
const allowFrontend = policy("x", "allow-web-from-frontend", {
  podSelector: labels({ app: "web" }),
  ingress: [{ from: [{ podSelector: labels({ role: "frontend" }) }], ports: [{ port: "http" }] }],
});

export const SCENARIOS: readonly NetpolScenario[] = [
  { name: "no policies", policies: [] },
  { name: "default deny ingress in x", policies: [denyIngress] },
  { name: "deny + allow web:http from role=frontend (named port)", policies: [denyIngress, allowFrontend] },
  {
    name: "deny + allow web:8080 from namespaces team=web",
    policies: [
      denyIngress,
      policy("x", "allow-web-from-team-web", {
        podSelector: labels({ app: "web" }),
        ingress: [{ from: [{ namespaceSelector: labels({ team: "web" }) }], ports: [{ port: 8080 }] }],
      }),
    ],
  },
  {
    name: "db from ipBlock 198.18.1.0/24 except 198.18.1.4/32",
    policies: [
      policy("x", "allow-db-from-block", {
        podSelector: labels({ app: "db" }),
        ingress: [
          {
            from: [{ ipBlock: { cidr: "198.18.1.0/24", except: ["198.18.1.4/32"] } }],
            ports: [{ port: 5432 }],
          },
        ],
      }),
    ],
  },
  {
    name: "frontend egress only to db:pg",
    policies: [
      policy("x", "frontend-egress", {
        podSelector: labels({ role: "frontend" }),
        egress: [{ to: [{ podSelector: labels({ app: "db" }) }], ports: [{ port: "pg" }] }],
      }),
    ],
  },
  {
    name: "web ports 8000-8100 (endPort)",
    policies: [
      policy("x", "web-range", {
        podSelector: labels({ app: "web" }),
        ingress: [{ ports: [{ port: 8000, endPort: 8100 }] }],
      }),
    ],
  },
  {
    name: "web UDP 5353 only",
    policies: [
      policy("x", "web-udp", {
        podSelector: labels({ app: "web" }),
        ingress: [{ ports: [{ protocol: "UDP", port: 5353 }] }],
      }),
    ],
  },
  {
    name: "frontend both directions: egress to web:8080 only",
    policies: [
      policy("x", "frontend-both", {
        podSelector: labels({ role: "frontend" }),
        ingress: [{}],
        egress: [{ to: [{ podSelector: labels({ app: "web" }) }], ports: [{ port: 8080 }] }],
      }),
    ],
  },
  {
    name: "stale ipset: allow-web-from-frontend's source set misses a (k3s-io/k3s#7446 class)",
    policies: [denyIngress, allowFrontend],
    stale: { ip: "198.18.1.2", set: policyIndexedSourcePodIPSetName("x", "allow-web-from-frontend", 0) },
  },
];
