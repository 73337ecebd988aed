import { describe, expect, it } from "vitest";
import { incidentBundleSpec } from "../demo/incident.ts";
import { clusterOf } from "../testing/demo-cluster.ts";
import { ipv4Literals, podIpLookup } from "./pod-ip-lookup.ts";

describe("podIpLookup", () => {
  const cluster = clusterOf(incidentBundleSpec().api);
  const lookup = podIpLookup(cluster);

  it("names the pod, its node and the Services that front it", () => {
    expect(lookup.lookup("10.42.1.23")).toMatchObject({
      pod: "eopx/eopx-register-0",
      node: "master2",
      services: [{ service: "eopx/eopx-register", ports: [8848, 9848] }],
    });
  });

  it("knows nothing of node IPs, ClusterIPs and unknown addresses", () => {
    expect(lookup.lookup("192.168.10.11")).toBeUndefined();
    expect(lookup.lookup("10.43.176.183")).toBeUndefined();
    expect(lookup.lookup("10.42.2.17")).toBeUndefined();
  });
});

describe("ipv4Literals", () => {
  it("finds addresses in URLs and host:port strings, not in version numbers", () => {
    expect(ipv4Literals("http://10.42.1.23:8848/nacos, backup=10.42.0.4")).toEqual([
      "10.42.1.23",
      "10.42.0.4",
    ]);
    expect(ipv4Literals("v1.2.3.4.5 999.1.1.1 1.2.3")).toEqual([]);
  });
});
