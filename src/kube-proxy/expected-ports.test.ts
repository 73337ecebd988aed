import { describe, expect, it } from "vitest";
import { endpointSlice, list, service } from "../demo/k8s-objects.ts";
import { healthyCluster } from "../testing/demo-bundles.ts";
import { clusterOf } from "../testing/demo-cluster.ts";
import { ExpectedPorts } from "./expected-ports.ts";
import { expectedServicePorts } from "./expected-state.ts";

describe("ExpectedPorts", () => {
  const cluster = clusterOf(healthyCluster().api);

  it("of() gives each Service the ports the whole-cluster computation gives it", () => {
    const ports = new ExpectedPorts(cluster);
    const everything = expectedServicePorts(cluster);
    expect(cluster.services.length).toBeGreaterThan(10); // past the scans, into the index
    for (const svc of cluster.services) {
      const key = `${svc.metadata.namespace}/${svc.metadata.name}`;
      expect(ports.of(svc), key).toEqual(everything.filter((p) => p.service === key));
    }
    expect(ports.all()).toEqual(everything);
  });

  it("all() asked first equals expectedServicePorts(), and inClusterOrder() keeps the cluster's order", () => {
    const ports = new ExpectedPorts(cluster);
    const all = ports.all();
    expect(all).toEqual(expectedServicePorts(cluster));
    const [first, second] = [all[0]!, all.at(-1)!];
    expect(ports.inClusterOrder([second, undefined, first, second])).toEqual([first, second]);
  });

  it("matches slices by namespace and Service name only, as kube-proxy does", () => {
    const svc = (ns: string) =>
      service({
        namespace: ns,
        name: "web",
        clusterIP: `10.43.0.${ns.length}`,
        ports: [{ port: 80, targetPort: 8080 }],
      });
    const slice = (ns: string, ip: string) =>
      endpointSlice({
        namespace: ns,
        service: "web",
        suffix: "a",
        ports: [{ port: 8080 }],
        endpoints: [{ ip }],
      });
    const c = clusterOf({
      services: list([svc("a"), svc("bb")]),
      endpointslices: list([slice("bb", "10.42.0.2"), slice("a", "10.42.0.1")]),
    });
    const ports = new ExpectedPorts(c);
    expect(ports.of(c.services[0]!)[0]!.endpoints.map((e) => e.ip)).toEqual(["10.42.0.1"]);
    expect(ports.of(c.services[1]!)[0]!.endpoints.map((e) => e.ip)).toEqual(["10.42.0.2"]);
  });
});
