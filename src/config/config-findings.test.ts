// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Spring placeholders are the data under test
import { describe, expect, it } from "vitest";
import type { ClusterState } from "../model/cluster.ts";
import { configFindings } from "./config-findings.ts";
import { DEMO_BOOTSTRAP_YML } from "./demo-app-jar.ts";
import { discoverConfig } from "./discover-config.ts";
import type { EnvVarValue } from "./property-sources.ts";

const CLUSTER: ClusterState = {
  pods: [
    {
      metadata: { name: "eopx-register-0", namespace: "eopx", labels: { app: "register" } },
      containers: [],
      podIP: "10.42.1.17",
      source: { file: "cluster/pods.json", line: 300 },
    },
    { metadata: { name: "gw-1", namespace: "eopx" }, containers: [], podIP: "10.42.2.5" },
  ],
  services: [
    {
      metadata: { name: "eopx-register", namespace: "eopx" },
      type: "ClusterIP",
      clusterIP: "10.43.176.183",
      ports: [{ protocol: "TCP", port: 8848 }],
      selector: { app: "register" },
    },
  ],
  endpointSlices: [],
  nodes: [{ metadata: { name: "agent1" }, addresses: [], podCIDR: "10.42.3.0/24" }],
  configMaps: [],
};

function report(host: string | undefined) {
  const env = new Map<string, EnvVarValue>(
    host === undefined
      ? []
      : [
          [
            "NACOS_HOST",
            {
              name: "NACOS_HOST",
              value: host,
              source: "cluster/pods.json:812 (pod eopx/gw-1, container gw)",
            },
          ],
        ],
  );
  return discoverConfig([{ path: "BOOT-INF/classes/bootstrap.yml", text: DEMO_BOOTSTRAP_YML }], {
    env,
    includeProperties: true,
  });
}

describe("configFindings()", () => {
  it("fires config-pod-ip when NACOS_HOST pins the register pod's IP, naming the pod, the env var and the default Service", () => {
    const r = report("10.42.1.17");
    const findings = configFindings(r.endpoints, {
      cluster: CLUSTER,
      client: "eopx/gw-1",
      filePrefix: "app.jar!/",
      properties: r.properties ?? [],
    });
    expect(findings.map((f) => f.code)).toEqual(["config-pod-ip", "config-pod-ip"]);
    const f = findings[0]!;
    expect(f).toMatchObject({ severity: "warning", pod: "eopx/gw-1", service: "eopx/eopx-register" });
    expect(f.message).toBe(
      'spring.cloud.nacos.discovery.server-addr of the app\'s configuration pins 10.42.1.17 (in "10.42.1.17:8848"), the IP of pod eopx/eopx-register-0, which Service eopx/eopx-register fronts: it breaks when that pod restarts and gets a new IP. It comes from environment variable NACOS_HOST, which overrides the default "eopx-register" (the Service eopx/eopx-register)',
    );
    expect(f.evidence).toEqual([
      {
        file: "app.jar!/BOOT-INF/classes/bootstrap.yml",
        line: 9,
        text: "spring.cloud.nacos.discovery.server-addr: ${NACOS_HOST:eopx-register}:${NACOS_PORT:8848}",
      },
      { file: "cluster/pods.json", line: 812, text: "NACOS_HOST=10.42.1.17" },
      { file: "cluster/pods.json", line: 300, text: "pod eopx/eopx-register-0 podIP 10.42.1.17" },
    ]);
    expect(f.fix).toBe(
      'Remove NACOS_HOST from the workload\'s env so the default "eopx-register" applies: dial the Service, not a pod',
    );
  });

  it("fires for a stale IP in a node's pod range that no pod has", () => {
    const findings = configFindings(report("10.42.3.99").endpoints, {
      cluster: CLUSTER,
      client: "eopx/gw-1",
    });
    expect(findings[0]?.message).toContain("in node agent1's pod range 10.42.3.0/24 but no pod has it now");
  });

  it("does not fire for the Service name, a ClusterIP or an outside address", () => {
    for (const host of [undefined, "10.43.176.183", "192.0.2.10"]) {
      expect(configFindings(report(host).endpoints, { cluster: CLUSTER })).toEqual([]);
    }
  });
});
