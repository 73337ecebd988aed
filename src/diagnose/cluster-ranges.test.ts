import { describe, expect, it } from "vitest";
import type { ClusterState } from "../model/cluster.ts";
import { clusterRanges, placeOf } from "./cluster-ranges.ts";

function cluster(clusterIps: string[], podCidrs: string[], kubeletVersion = "v1.29.1"): ClusterState {
  return {
    pods: [],
    services: clusterIps.map((ip, i) => ({
      metadata: { name: `s${i}`, namespace: "default" },
      type: "ClusterIP" as const,
      clusterIP: ip,
      ports: [],
    })),
    endpointSlices: [],
    nodes: podCidrs.map((c, i) => ({
      metadata: { name: `n${i}` },
      addresses: [],
      podCIDR: c,
      kubeletVersion,
    })),
    configMaps: [],
  };
}

describe("placeOf()", () => {
  it("places addresses by evidence: node pod CIDRs, the range covering every ClusterIP, else outside", () => {
    const r = clusterRanges(
      cluster(["10.96.0.1", "10.100.7.7"], ["10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24"]),
    );
    expect(placeOf("10.244.1.9", r)).toEqual({ kind: "node-pod-cidr", node: "n1", cidr: "10.244.1.0/24" });
    expect(placeOf("10.244.3.9", r)).toMatchObject({ kind: "pod-range", range: { cidr: "10.244.0.0/22" } });
    expect(placeOf("10.101.0.1", r)).toMatchObject({
      kind: "service-range",
      range: { cidr: "10.96.0.0/13" },
    });
    expect(placeOf("8.8.8.8", r)).toEqual({ kind: "outside" });
  });

  it("uses a distribution's default range only as an assumption that agrees with the evidence", () => {
    // 10.43.0.1 and 10.43.0.10 prove only 10.43.0.0/28; k3s's default 10.43.0.0/16 is assumed around it.
    const k3s = clusterRanges(cluster(["10.43.0.1", "10.43.0.10"], ["10.42.0.0/24"], "v1.23.6+k3s1"));
    expect(placeOf("10.43.0.5", k3s).kind).toBe("service-range");
    expect(placeOf("10.43.99.1", k3s)).toMatchObject({ kind: "assumed", role: "service" });
    // A cluster whose ClusterIPs lie outside the default does not assume it.
    const custom = clusterRanges(cluster(["10.50.0.1"], ["10.42.0.0/24"], "v1.23.6+k3s1"));
    expect(custom.assumed.map((a) => a.role)).toEqual(["pod"]);
    expect(placeOf("10.43.99.1", custom)).toEqual({ kind: "outside" });
  });
});
