import { describe, expect, it } from "vitest";
import { buildBundle } from "../demo/build-bundle.ts";
import { DEMO_FROM, DEMO_HEALTHY_FROM, DEMO_TO, incidentBundleSpec } from "../demo/incident.ts";
import type { Diagnosis } from "../model/diagnosis.ts";
import type { FindingCode } from "../model/finding.ts";
import { podIpLookup } from "../net/pod-ip-lookup.ts";
import {
  diagnoseFiles,
  diagnoseSpec,
  healthyCluster,
  replaceIn,
  smallIncident,
} from "../testing/demo-bundles.ts";
import { clusterOf } from "../testing/demo-cluster.ts";
import { addressText } from "../trace/address-text.ts";
import { configPodIpFindings } from "./config-pod-ip.ts";
import { findPod } from "./resolve-target.ts";

const codes = (d: Diagnosis) => [...new Set(d.findings.map((f) => f.code))].sort();
const on = (d: Diagnosis, code: FindingCode) => d.findings.filter((f) => f.code === code);
const M1 = "nodes/master1/iptables-save.txt";

describe("diagnose on a healthy cluster", () => {
  it("reports nothing, every check ok, for the full check and for a question", async () => {
    const full = await diagnoseSpec(healthyCluster());
    expect(full.findings).toEqual([]);
    expect(full.ok).toBe(true);
    expect(full.steps.every((s) => s.ok === true)).toBe(true);
    const q = await diagnoseSpec(healthyCluster(), { from: DEMO_FROM, to: DEMO_TO });
    expect(q.findings).toEqual([]);
    expect(q.ok).toBe(true);
    expect(q.trace?.traces[0]?.headers.dst).toEqual({ kind: "exact", ip: "10.42.1.23", port: 8848 });
  });
});

describe("the incident (small leak)", () => {
  it("breaks at node-dataplane on prod-agent1 with the issue's findings, and only there", async () => {
    const d = await diagnoseSpec(smallIncident(), { from: DEMO_FROM, to: DEMO_TO });
    expect(d.ok).toBe(false);
    expect(d.brokenAt).toBe("node-dataplane");
    expect(codes(d)).toEqual([
      "config-pod-ip",
      "endpoint-missing",
      "endpoint-stale",
      "iptables-known-bug",
      "rules-duplicated",
      "rules-outlier",
    ]);
    for (const f of d.findings) if (f.code !== "config-pod-ip") expect(f.node).toBe("prod-agent1");
    const stale = on(d, "endpoint-stale")[0]!;
    expect(stale.evidence.at(-1)?.text).toMatch(/DNAT --to-destination 10\.42\.2\.17:8848$/);
    expect(stale.evidence.at(-1)?.file).toBe("nodes/prod-agent1/iptables-save.txt");
    expect(d.trace?.traces.map((t) => addressText(t.headers.dst))).toEqual(["10.42.2.17:8848"]);
  });

  it("answers ok from a pod on a healthy node", async () => {
    const d = await diagnoseSpec(smallIncident(), { from: DEMO_HEALTHY_FROM, to: DEMO_TO });
    expect(d.ok).toBe(true);
    expect(d.findings).toEqual([]);
    expect(d.summary).toMatch(/Off this path, node health errors on prod-agent1 \(rules-duplicated, .*\)/);
  });
});

describe("each finding code fires from a bundle that has the problem", () => {
  it("dns-no-service for a name in the cluster domain, with a suggestion", async () => {
    const d = await diagnoseSpec(healthyCluster(), {
      from: DEMO_HEALTHY_FROM,
      to: "eopx-registr.eopx.svc.cluster.local:8848",
    });
    expect(d.brokenAt).toBe("dns");
    expect(on(d, "dns-no-service")[0]?.message).toContain("did you mean eopx/eopx-register?");
  });

  it("resolves svc.ns, FQDN and ClusterIP literals, and a pod IP literal without a Service", async () => {
    const spec = healthyCluster();
    for (const to of [
      "eopx-register.eopx:8848",
      "eopx-register.eopx.svc.cluster.local:8848",
      "10.43.176.183:8848",
    ]) {
      const d = await diagnoseSpec(spec, { from: "kube-system/coredns-d76bd69b-7xk2m", to });
      expect(d.ok, to).toBe(true);
    }
    const pod = await diagnoseSpec(spec, { from: DEMO_HEALTHY_FROM, to: "10.42.1.23:8848" });
    // Addressing a pod works now and breaks when it is rescheduled: at risk, not the verdict.
    expect(pod.steps.find((s) => s.check === "service")?.status).toBe("at-risk");
    expect(pod.verdict).toBe("reachable");
  });

  it("dns fails when CoreDNS has no ready endpoint (endpoints-none on kube-dns)", async () => {
    const d = await diagnoseSpec(healthyCluster(), { from: DEMO_HEALTHY_FROM, to: DEMO_TO }, (files) => {
      replaceIn(
        files,
        "cluster/endpointslices.json",
        /("ready": )true(,\s*"serving": )true(,\s*"terminating": false\s*\},\s*"nodeName": "master1",\s*"targetRef": \{\s*"kind": "Pod",\s*"name": "coredns)/,
        "$1false$2false$3",
      );
    });
    expect(d.brokenAt).toBe("dns");
    expect(on(d, "endpoints-none").map((f) => f.service)).toEqual(["kube-system/kube-dns"]);
  });

  it("dns fails for a hostNetwork client with dnsPolicy ClusterFirst, but not for a ClusterIP literal", async () => {
    const edit = (files: Map<string, string>) => {
      const list = JSON.parse(files.get("cluster/pods.json")!);
      const pod = list.items.find(
        (p: { metadata: { name: string } }) => `eopx/${p.metadata.name}` === DEMO_HEALTHY_FROM,
      );
      pod.spec.hostNetwork = true;
      files.set("cluster/pods.json", JSON.stringify(list, null, 4));
    };
    const d = await diagnoseSpec(healthyCluster(), { from: DEMO_HEALTHY_FROM, to: DEMO_TO }, edit);
    expect(d.brokenAt).toBe("dns");
    expect(on(d, "dns-no-service")[0]?.message).toContain("hostNetwork with dnsPolicy ClusterFirst");
    const byIp = await diagnoseSpec(
      healthyCluster(),
      { from: DEMO_HEALTHY_FROM, to: "10.43.176.183:8848" },
      edit,
    );
    expect(byIp.steps.find((x) => x.check === "dns")?.status).toBe("not-applicable");
    expect(byIp.verdict).toBe("reachable");
  });

  it("service-port-missing", async () => {
    const d = await diagnoseSpec(healthyCluster(), { from: DEMO_HEALTHY_FROM, to: "eopx-register:9999" });
    expect(d.brokenAt).toBe("service");
    expect(on(d, "service-port-missing")[0]?.message).toContain("http 8848/TCP");
  });

  it("endpoints-none", async () => {
    const d = await diagnoseSpec(healthyCluster(), { from: DEMO_FROM, to: "eopx-order:8081" }, (files) => {
      replaceIn(
        files,
        "cluster/endpointslices.json",
        /("ready": )true(,\s*"serving": )true(,\s*"terminating": false\s*\},\s*"nodeName": "master1",\s*"targetRef": \{\s*"kind": "Pod",\s*"name": "eopx-order)/,
        "$1false$2false$3",
      );
    });
    expect(d.brokenAt).toBe("endpoints");
    expect(on(d, "endpoints-none")).toHaveLength(1);
  });

  it("service-rules-missing", async () => {
    const d = await diagnoseSpec(healthyCluster(), undefined, (files) => {
      replaceIn(files, M1, /^-A KUBE-SERVICES -d 10\.43\.33\.201\/32 .*\n/m, "");
    });
    const f = on(d, "service-rules-missing");
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ node: "master1", service: "eopx/eopx-order", severity: "error" });
  });

  it("service-rejected (a node still rejects as 'no endpoints')", async () => {
    const spec = healthyCluster();
    const stale =
      clusterOf(spec.api) &&
      JSON.parse(
        JSON.stringify(spec.api.endpointslices).replace(
          /\{"addresses":\["10\.42\.0\.12"\][^}]*\}[^}]*\}[^}]*\}/,
          "",
        ),
      );
    const d = await diagnoseSpec({
      ...spec,
      nodes: spec.nodes.map((n) =>
        n.name === "master1"
          ? { ...n, lastSynced: { services: spec.api.services, endpointslices: stale } }
          : n,
      ),
    });
    const f = on(d, "service-rejected");
    expect(f.map((x) => x.node)).toEqual(["master1"]);
    expect(f[0]!.evidence[0]!.text).toMatch(/has no endpoints.*-j REJECT/);
  });

  it("chain-undefined", async () => {
    const d = await diagnoseSpec(healthyCluster(), undefined, (files) => {
      replaceIn(files, M1, /^:KUBE-SVC-SCB6NYGJ6WPYNUKU .*\n/m, "");
      replaceIn(files, M1, /^-A KUBE-SVC-SCB6NYGJ6WPYNUKU .*\n/gm, "");
    });
    expect(on(d, "chain-undefined").map((f) => f.evidence[0]!.text)).toEqual([
      expect.stringMatching(/^-A KUBE-SERVICES -d 10\.43\.33\.201\/32 .* -j KUBE-SVC-SCB6NYGJ6WPYNUKU$/),
    ]);
  });

  it("chain-leftover", async () => {
    const d = await diagnoseSpec(healthyCluster(), undefined, (files) => {
      replaceIn(
        files,
        M1,
        ":KUBE-SERVICES - [0:0]\n:KUBE-SVC",
        ":KUBE-SERVICES - [0:0]\n:KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]\n:KUBE-SVC",
      );
    });
    const f = on(d, "chain-leftover");
    expect(f).toHaveLength(1);
    expect(f[0]!.evidence[0]!.text).toBe(":KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]");
  });

  it("endpoint-stale and endpoint-missing, without any comment in the dump", async () => {
    const d = await diagnoseSpec(smallIncident(), undefined, (files) => {
      replaceIn(
        files,
        "nodes/prod-agent1/iptables-save.txt",
        / -m comment --comment (?:"(?:[^"\\]|\\.)*"|\S+)/g,
        "",
      );
    });
    expect(on(d, "endpoint-stale").length).toBe(2);
    expect(on(d, "endpoint-missing").length).toBe(2);
  });

  it("iptables-mixed-backends", async () => {
    const files = buildBundle(healthyCluster());
    files.set(
      "nodes/master2/iptables-legacy-save.txt",
      "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:KUBE-FIREWALL - [0:0]\n-A INPUT -j KUBE-FIREWALL\nCOMMIT\n",
    );
    const d = await diagnoseFiles(files);
    expect(on(d, "iptables-mixed-backends").map((f) => f.node)).toEqual(["master2"]);
  });

  it("config-pod-ip from a ConfigMap value too, naming the pod and the Service", () => {
    const spec = incidentBundleSpec();
    const cluster = clusterOf({
      ...spec.api,
      configmaps: JSON.parse(
        JSON.stringify(spec.api.configmaps).replace("eopx-register:8848", "10.42.1.23:8848"),
      ),
    });
    const pod = findPod(cluster, DEMO_HEALTHY_FROM);
    const f = configPodIpFindings(pod, cluster, podIpLookup(cluster));
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({
      code: "config-pod-ip",
      service: "eopx/eopx-register",
      pod: DEMO_HEALTHY_FROM,
    });
    expect(f[0]!.message).toContain("eopx/eopx-register-0");
    const healthy = clusterOf(incidentBundleSpec().api);
    expect(configPodIpFindings(findPod(healthy, DEMO_HEALTHY_FROM), healthy, podIpLookup(healthy))).toEqual(
      [],
    );
  });
});

describe("trace-unknown", () => {
  it("fires when the client node's path has a rule the tracer cannot evaluate", async () => {
    const d = await diagnoseSpec(healthyCluster(), { from: DEMO_HEALTHY_FROM, to: DEMO_TO }, (files) => {
      replaceIn(
        files,
        M1,
        "-A KUBE-SERVICES -d 10.43.0.1/32",
        "-A KUBE-SERVICES -m rpfilter --invert -j KUBE-MARK-DROP\n-A KUBE-SERVICES -d 10.43.0.1/32",
      );
    });
    const f = on(d, "trace-unknown");
    expect(f).toHaveLength(1);
    expect(f[0]!.node).toBe("master1");
  });
});
