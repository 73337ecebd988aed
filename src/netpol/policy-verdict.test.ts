/**
 * networkPolicyVerdict() against the statements of the Kubernetes concepts page "Network Policies"
 * (concepts/services-networking/network-policies) and the NetworkPolicy API reference, turned into
 * hand-written cases; plus the undecided answers when the bundle lacks what a rule needs.
 */
import { describe, expect, it } from "vitest";
import type { Pod } from "../model/cluster.ts";
import type { NetworkPolicy } from "../model/network-policy.ts";
import { labels, policy } from "../testing/netpol-model.ts";
import type { NetpolProtocol } from "./netpol-types.ts";
import { effectivePolicyTypes, networkPolicyVerdict } from "./policy-verdict.ts";

function pod(ns: string, name: string, ip: string, l: Record<string, string>, extra: Partial<Pod> = {}): Pod {
  return {
    metadata: { name, namespace: ns, labels: l },
    containers: [],
    podIP: ip,
    phase: "Running",
    ...extra,
  };
}

const namespaces = [
  { metadata: { name: "default", labels: { "kubernetes.io/metadata.name": "default" } } },
  {
    metadata: {
      name: "myproject-ns",
      labels: { "kubernetes.io/metadata.name": "myproject-ns", project: "myproject" },
    },
  },
  { metadata: { name: "other", labels: { "kubernetes.io/metadata.name": "other", user: "alice" } } },
];

function decide(
  policies: NetworkPolicy[],
  client: Pod | { ip: string },
  server: Pod,
  port: number,
  protocol: NetpolProtocol = "TCP",
) {
  return networkPolicyVerdict({ state: { policies, namespaces } }, { client, server, port, protocol });
}

const db = pod("default", "db", "10.42.0.10", { role: "db" });
const frontend = pod("default", "frontend", "10.42.0.11", { role: "frontend" });
const stranger = pod("default", "stranger", "10.42.0.12", { role: "other" });
const inMyproject = pod("myproject-ns", "anything", "10.42.1.5", { app: "x" });
const ext = pod("default", "ext", "10.0.0.7", { app: "ext" });
const extFar = pod("default", "ext-far", "10.0.1.7", { app: "ext" });

describe("networkPolicyVerdict() on the concepts page example test-network-policy", () => {
  // "isolates role=db pods in the default namespace for both ingress and egress traffic ... allows
  // connections to all pods in the default namespace with the label role=db on TCP port 6379 from:
  // any pod in the default namespace with the label role=frontend; any pod in a namespace with the
  // label project=myproject; IP addresses in the ranges 172.17.0.0–172.17.0.255 and
  // 172.17.2.0–172.17.255.255 ... allows connections from any pod in the default namespace with the
  // label role=db to CIDR 10.0.0.0/24 on TCP port 5978"
  const example = policy("default", "test-network-policy", {
    podSelector: labels({ role: "db" }),
    ingress: [
      {
        from: [
          { ipBlock: { cidr: "172.17.0.0/16", except: ["172.17.1.0/24"] } },
          { namespaceSelector: labels({ project: "myproject" }) },
          { podSelector: labels({ role: "frontend" }) },
        ],
        ports: [{ protocol: "TCP", port: 6379 }],
      },
    ],
    egress: [{ to: [{ ipBlock: { cidr: "10.0.0.0/24" } }], ports: [{ protocol: "TCP", port: 5978 }] }],
  });
  const cases: Array<[string, Pod | { ip: string }, Pod, number, "allowed" | "denied"]> = [
    ["role=frontend in default, 6379", frontend, db, 6379, "allowed"],
    ["role=frontend in default, another port", frontend, db, 6380, "denied"],
    ["another pod of default", stranger, db, 6379, "denied"],
    ["any pod of a project=myproject namespace", inMyproject, db, 6379, "allowed"],
    ["172.17.0.9", { ip: "172.17.0.9" }, db, 6379, "allowed"],
    ["172.17.1.9 (except)", { ip: "172.17.1.9" }, db, 6379, "denied"],
    ["172.17.2.9", { ip: "172.17.2.9" }, db, 6379, "allowed"],
    ["egress to 10.0.0.0/24 on 5978", db, ext, 5978, "allowed"],
    ["egress to 10.0.0.0/24 on another port", db, ext, 80, "denied"],
    ["egress outside 10.0.0.0/24", db, extFar, 5978, "denied"],
  ];
  for (const [name, client, server, port, want] of cases) {
    it(`${name}: ${want}`, () => {
      expect(decide([example], client, server, port).decision).toBe(want);
    });
  }

  it("names the policy that allows and the one that isolates, with its file and line", () => {
    const v = decide([example], frontend, db, 6379);
    expect(v.ingress.allowedBy).toEqual([
      {
        policy: {
          namespace: "default",
          name: "test-network-policy",
          file: "cluster/networkpolicies.json",
          line: 1,
        },
        rule: 0,
        why: "ingress[0] admits default/frontend → default/db:6379/TCP",
      },
    ]);
    const denied = decide([example], stranger, db, 6379);
    expect(denied.ingress.reason).toBe(
      "ingress of default/db is isolated by default/test-network-policy and no rule allows default/stranger → default/db:6379/TCP",
    );
  });
});

describe("networkPolicyVerdict() on the concepts page selector examples", () => {
  // "contains a single from element allowing connections from Pods with the label role=client in
  // namespaces with the label user=alice" versus "contains two elements in the from array, and allows
  // connections from Pods in the local Namespace with the label role=client, or from any Pod in any
  // namespace with the label user=alice".
  const server = pod("default", "server", "10.42.0.20", { app: "server" });
  const aliceClient = pod("other", "c1", "10.42.2.1", { role: "client" });
  const aliceOther = pod("other", "c2", "10.42.2.2", { role: "x" });
  const localClient = pod("default", "c3", "10.42.0.21", { role: "client" });
  const and = policy("default", "and", {
    ingress: [
      { from: [{ namespaceSelector: labels({ user: "alice" }), podSelector: labels({ role: "client" }) }] },
    ],
  });
  const or = policy("default", "or", {
    ingress: [
      {
        from: [{ namespaceSelector: labels({ user: "alice" }) }, { podSelector: labels({ role: "client" }) }],
      },
    ],
  });
  it("ANDs namespaceSelector and podSelector in one element", () => {
    expect(decide([and], aliceClient, server, 80).decision).toBe("allowed");
    expect(decide([and], aliceOther, server, 80).decision).toBe("denied");
    expect(decide([and], localClient, server, 80).decision).toBe("denied");
  });
  it("ORs two elements", () => {
    expect(decide([or], aliceClient, server, 80).decision).toBe("allowed");
    expect(decide([or], aliceOther, server, 80).decision).toBe("allowed");
    expect(decide([or], localClient, server, 80).decision).toBe("allowed");
    expect(decide([or], stranger, server, 80).decision).toBe("denied");
  });
});

describe("networkPolicyVerdict() on the default policies of the concepts page", () => {
  const a = pod("default", "a", "10.42.0.1", { app: "a" });
  const b = pod("default", "b", "10.42.0.2", { app: "b" });
  it("default deny all ingress isolates every pod of the namespace", () => {
    expect(decide([policy("default", "default-deny-ingress", { ingress: [] })], a, b, 80).decision).toBe(
      "denied",
    );
  });
  it("allow all ingress admits everything", () => {
    const v = decide(
      [policy("default", "allow-all-ingress", { ingress: [{}] })],
      { ip: "203.0.113.9" },
      b,
      80,
    );
    expect(v.decision).toBe("allowed");
  });
  it("default deny all egress isolates the client", () => {
    const v = decide([policy("default", "default-deny-egress", { egress: [] })], a, b, 80);
    expect(v.decision).toBe("denied");
    expect(v.egress.selecting.map((p) => p.name)).toEqual(["default-deny-egress"]);
    expect(v.ingress.decision).toBe("allowed");
  });
  it("allow all egress admits everything", () => {
    expect(decide([policy("default", "allow-all-egress", { egress: [{}] })], a, b, 80).decision).toBe(
      "allowed",
    );
  });
  it("endPort admits the range 32000-32768 and nothing beyond", () => {
    // "allows Pods with the label role=db ... to communicate with any IP within the range 10.0.0.0/24
    // over TCP, provided that the target port is between the range 32000 and 32768"
    const p = policy("default", "multi-port-egress", {
      podSelector: labels({ role: "db" }),
      egress: [
        {
          to: [{ ipBlock: { cidr: "10.0.0.0/24" } }],
          ports: [{ protocol: "TCP", port: 32000, endPort: 32768 }],
        },
      ],
    });
    expect(decide([p], db, ext, 32000).decision).toBe("allowed");
    expect(decide([p], db, ext, 32768).decision).toBe("allowed");
    expect(decide([p], db, ext, 32769).decision).toBe("denied");
    expect(decide([p], db, ext, 31999).decision).toBe("denied");
    expect(decide([p], db, ext, 32500, "UDP").decision).toBe("denied");
  });
  it("defaults policyTypes: Ingress always, Egress when there are egress rules", () => {
    const onlyEgress: NetworkPolicy = {
      metadata: { name: "e", namespace: "default" },
      podSelector: {},
      egress: [{ ports: [{ port: 53, protocol: "UDP" }] }],
    };
    expect(effectivePolicyTypes(onlyEgress)).toEqual(["Ingress", "Egress"]);
    const noRules: NetworkPolicy = { metadata: { name: "n", namespace: "default" }, podSelector: {} };
    expect(effectivePolicyTypes(noRules)).toEqual(["Ingress"]);
    // Defaulted Ingress with no ingress rules isolates for ingress.
    expect(decide([onlyEgress], { ip: "10.1.1.1" }, b, 80).decision).toBe("denied");
  });
});

describe("networkPolicyVerdict() when evidence is missing or does not apply", () => {
  const a = pod("default", "a", "10.42.0.1", { app: "a" });
  const b = pod("default", "b", "10.42.0.2", { app: "b" });
  it("is undecided without networkpolicies.json, saying which command writes it", () => {
    const v = networkPolicyVerdict({ state: {} }, { client: a, server: b, port: 80, protocol: "TCP" });
    expect(v.decision).toBe("undecided");
    expect(v.ingress.missing).toEqual([
      "cluster/networkpolicies.json was not collected (kubectl get networkpolicies -A -o json)",
    ]);
  });
  it("is undecided when a namespaceSelector needs labels namespaces.json does not hold", () => {
    const p = policy("default", "from-team", {
      ingress: [{ from: [{ namespaceSelector: labels({ team: "blue" }) }] }],
    });
    const v = networkPolicyVerdict(
      { state: { policies: [p] } },
      { client: a, server: b, port: 80, protocol: "TCP" },
    );
    expect(v.decision).toBe("undecided");
    expect(v.ingress.missing[0]).toContain("cluster/namespaces.json was not collected");
  });
  it("still decides when another rule allows regardless of the unknown labels", () => {
    const p = policy("default", "mixed", {
      ingress: [
        { from: [{ namespaceSelector: labels({ team: "blue" }) }] },
        { from: [{ podSelector: labels({ app: "a" }) }] },
      ],
    });
    const v = networkPolicyVerdict(
      { state: { policies: [p] } },
      { client: a, server: b, port: 80, protocol: "TCP" },
    );
    expect(v.decision).toBe("allowed");
  });
  it("never selects a hostNetwork server", () => {
    const host = pod("default", "h", "192.168.1.5", { app: "b" }, { hostNetwork: true });
    const v = decide([policy("default", "deny", { ingress: [] })], a, host, 80);
    expect(v.decision).toBe("allowed");
    expect(v.ingress.reason).toContain("uses the host network");
  });
  it("resolves a named port through the server's container ports, protocol included", () => {
    const web = pod(
      "default",
      "web",
      "10.42.0.30",
      { app: "web" },
      {
        containers: [{ name: "c", ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }] }],
      },
    );
    const p = policy("default", "named", {
      podSelector: labels({ app: "web" }),
      ingress: [{ ports: [{ port: "http" }] }],
    });
    expect(decide([p], a, web, 8080).decision).toBe("allowed");
    expect(decide([p], a, web, 80).decision).toBe("denied");
    expect(decide([p], a, web, 8080, "UDP").decision).toBe("denied");
  });
});
