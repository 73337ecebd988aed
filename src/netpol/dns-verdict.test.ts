import { describe, expect, it } from "vitest";
import type { ClusterState, Pod } from "../model/cluster.ts";
import { labels, policy } from "../testing/netpol-model.ts";
import { dnsFindings, dnsTargets, dnsVerdict } from "./dns-verdict.ts";

const coredns: Pod = {
  metadata: { name: "coredns-6799fbcd5-x2x9m", namespace: "kube-system", labels: { "k8s-app": "kube-dns" } },
  containers: [
    {
      name: "coredns",
      ports: [
        { name: "dns", containerPort: 53, protocol: "UDP" },
        { name: "dns-tcp", containerPort: 53, protocol: "TCP" },
      ],
    },
  ],
  podIP: "10.42.0.3",
  phase: "Running",
};
const client: Pod = {
  metadata: { name: "app", namespace: "shop", labels: { app: "shop" } },
  containers: [],
  podIP: "10.42.1.9",
  phase: "Running",
};

const cluster: ClusterState = {
  pods: [coredns, client],
  services: [],
  nodes: [],
  configMaps: [],
  endpointSlices: [
    {
      metadata: { name: "kube-dns-abcde", namespace: "kube-system" },
      serviceName: "kube-dns",
      addressType: "IPv4",
      endpoints: [
        {
          addresses: ["10.42.0.3"],
          conditions: { ready: true },
          targetPod: "kube-system/coredns-6799fbcd5-x2x9m",
        },
      ],
      ports: [
        { name: "dns", port: 53, protocol: "UDP" },
        { name: "dns-tcp", port: 53, protocol: "TCP" },
      ],
    },
  ],
};
const namespaces = [
  { metadata: { name: "shop", labels: { "kubernetes.io/metadata.name": "shop" } } },
  { metadata: { name: "kube-system", labels: { "kubernetes.io/metadata.name": "kube-system" } } },
];

const targets = dnsTargets(cluster);
const toDns = {
  namespaceSelector: labels({ "kubernetes.io/metadata.name": "kube-system" }),
  podSelector: labels({ "k8s-app": "kube-dns" }),
};

describe("dnsVerdict()", () => {
  it("finds the DNS pods behind kube-system/kube-dns", () => {
    expect(typeof targets).not.toBe("string");
    if (typeof targets === "string") return;
    expect(targets.map((t) => [t.pod.metadata.name, t.port, t.protocol])).toEqual([
      ["coredns-6799fbcd5-x2x9m", 53, "UDP"],
      ["coredns-6799fbcd5-x2x9m", 53, "TCP"],
    ]);
  });

  it("denies name resolution under a default-deny egress policy, and reports netpol-dns-denied", () => {
    if (typeof targets === "string") throw new Error(targets);
    const deny = policy("shop", "default-deny-egress", { egress: [] });
    const v = dnsVerdict({ state: { policies: [deny], namespaces } }, client, targets);
    expect([v.decision, v.udp, v.tcp]).toEqual(["denied", "denied", "denied"]);
    const f = dnsFindings(client, v);
    expect(f.map((x) => [x.code, x.severity, x.pod])).toEqual([["netpol-dns-denied", "error", "shop/app"]]);
    expect(f[0]!.evidence.map((e) => e.text)).toEqual(["NetworkPolicy shop/default-deny-egress"]);
  });

  it("allows it with the usual DNS egress rule, and notes a UDP-only rule", () => {
    if (typeof targets === "string") throw new Error(targets);
    const deny = policy("shop", "default-deny-egress", { egress: [] });
    const both = policy("shop", "allow-dns", {
      egress: [
        {
          to: [toDns],
          ports: [
            { port: 53, protocol: "UDP" },
            { port: 53, protocol: "TCP" },
          ],
        },
      ],
    });
    expect(dnsVerdict({ state: { policies: [deny, both], namespaces } }, client, targets).decision).toBe(
      "allowed",
    );
    const udpOnly = policy("shop", "allow-dns-udp", {
      egress: [{ to: [toDns], ports: [{ port: 53, protocol: "UDP" }] }],
    });
    const v = dnsVerdict({ state: { policies: [deny, udpOnly], namespaces } }, client, targets);
    expect([v.decision, v.tcp]).toEqual(["allowed", "denied"]);
    expect(v.reason).toContain("TCP, used for large answers, is denied");
  });

  it("is not applicable to a pod that does not use cluster DNS", () => {
    if (typeof targets === "string") throw new Error(targets);
    const v = dnsVerdict(
      { state: { policies: [], namespaces } },
      { ...client, dnsPolicy: "Default" },
      targets,
    );
    expect(v.decision).toBe("not-applicable");
  });

  it("says what is missing when the DNS Service has no slices", () => {
    expect(dnsTargets({ ...cluster, endpointSlices: [] })).toBe(
      "no EndpointSlice of kube-system/kube-dns in cluster/endpointslices.json",
    );
  });
});
