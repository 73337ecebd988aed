/**
 * Issue 12, items 1-4 (consumer side of 4): the situations an outage produces, reproduced on the demo
 * bundle (the incident with a small leak: same API objects and rules, fewer leaked copies), must get
 * "undecided" with what is missing, "at risk", "outside the cluster" or a usage error — never a false
 * verdict. Expectations are written from the text, not from the implementation.
 */
import { describe, expect, it } from "vitest";
import { DEMO_FROM, DEMO_HEALTHY_FROM, DEMO_TO } from "../demo/incident.ts";
import { ExpectedPorts } from "../kube-proxy/expected-ports.ts";
import type { Diagnosis } from "../model/diagnosis.ts";
import { diagnoseSpec, healthyCluster, replaceIn, smallIncident } from "../testing/demo-bundles.ts";
import { clusterOf } from "../testing/demo-cluster.ts";
import { addressText } from "../trace/address-text.ts";
import { dataplaneLink } from "./link-dataplane.ts";
import { parseTo } from "./parse-to.ts";
import { resolveQuestion } from "./question.ts";
import { QuestionError } from "./question-error.ts";

const HEALTHY_Q = { from: DEMO_HEALTHY_FROM, to: DEMO_TO };
const step = (d: Diagnosis, check: string) => d.steps.find((s) => s.check === check);
const codes = (d: Diagnosis) => d.findings.map((f) => f.code);

function dropNode(files: Map<string, string>, node: string): void {
  for (const k of [...files.keys()]) if (k.startsWith(`nodes/${node}/`)) files.delete(k);
}

describe("diagnose on a partial bundle (item 1)", () => {
  it("is undecided at client-node, never OK, when the client's node directory is missing", async () => {
    const d = await diagnoseSpec(smallIncident(), HEALTHY_Q, (f) => dropNode(f, "master1"));
    expect(d.ok).toBe(false);
    expect(d.verdict).toBe("undecided");
    expect(d.undecidedAt).toBe("client-node");
    expect(step(d, "client-node")?.missing).toContain("nodes/master1/");
    expect(step(d, "client-node")?.howToGet).toContain("netdoctor collect --nodes master1");
    expect(step(d, "node-dataplane")?.status).toBe("undecided");
    expect(d.summary).toMatch(/not proven/);
  });

  it("is undecided at node-dataplane when the client's iptables-save.txt is missing", async () => {
    const d = await diagnoseSpec(smallIncident(), HEALTHY_Q, (f) =>
      f.delete("nodes/master1/iptables-save.txt"),
    );
    expect(d.verdict).toBe("undecided");
    // host-firewall comes first: iptables-nft's tables are in nft-ruleset.json only as xt statements.
    expect(d.undecidedAt).toBe("host-firewall");
    expect(step(d, "host-firewall")?.missing).toContain("nodes/master1/iptables-save.txt is missing");
    expect(step(d, "node-dataplane")?.status).toBe("undecided");
    expect(step(d, "node-dataplane")?.missing).toBe("nodes/master1/iptables-save.txt");
    expect(step(d, "node-dataplane")?.howToGet).toContain("ssh master1 sudo iptables-save");
    // The whole-host walk still runs on nft-ruleset.json, but decides no path without the dump.
    for (const t of d.trace?.traces ?? []) expect(t.disposition.kind).toBe("undecided");
  });

  it("is undecided when the client's dump does not parse", async () => {
    const d = await diagnoseSpec(smallIncident(), HEALTHY_Q, (f) =>
      f.set("nodes/master1/iptables-save.txt", "*nat\n-A NOPE -j\nCOMMIT\n"),
    );
    expect(d.verdict).toBe("undecided");
    expect(step(d, "node-dataplane")?.status).toBe("undecided");
    expect(codes(d)).toContain("bundle-invalid");
  });

  it("is undecided when iptables-save failed on the client's node, with its stderr as evidence", async () => {
    const d = await diagnoseSpec(smallIncident(), HEALTHY_Q, (f) => {
      f.delete("nodes/master1/iptables-save.txt");
      f.set("nodes/master1/iptables-save.err", "Another app is currently holding the xtables lock.\n");
      f.set("nodes/master1/iptables-save.exit", "4\n");
    });
    expect(d.verdict).toBe("undecided");
    expect(step(d, "node-dataplane")?.detail).toContain("iptables-save failed on master1");
    expect(d.findings.find((f) => f.code === "iptables-unreadable")?.evidence[0]?.file).toBe(
      "nodes/master1/iptables-save.err",
    );
  });

  it("is undecided, not broken at config, when the bundle has no nodes/ at all (item 2)", async () => {
    const d = await diagnoseSpec(smallIncident(), { from: DEMO_FROM, to: DEMO_TO }, (f) => {
      for (const n of ["master1", "master2", "prod-agent1"]) dropNode(f, n);
    });
    expect(d.verdict).toBe("undecided");
    expect(d.brokenAt).toBeUndefined();
    expect(step(d, "config")?.status).toBe("at-risk");
  });
});

describe("the full check without evidence", () => {
  it("is undecided, never healthy, when the bundle has no node directory", async () => {
    const d = await diagnoseSpec(smallIncident(), undefined, (f) => {
      for (const n of ["master1", "master2", "prod-agent1"]) dropNode(f, n);
    });
    expect(d.verdict).toBe("undecided");
    expect(step(d, "node-dataplane")?.status).toBe("undecided");
    expect(step(d, "node-dataplane")?.detail).toBe(
      "the bundle has no node directory: no node's rules were read",
    );
    expect(step(d, "node-health")?.status).toBe("undecided");
  });
});

describe("diagnose with a warning on a healthy path (item 2)", () => {
  it("answers reachable with config at risk when the gateway runs on a healthy node", async () => {
    const d = await diagnoseSpec(smallIncident(), { from: DEMO_FROM, to: DEMO_TO }, (f) => {
      const list = JSON.parse(f.get("cluster/pods.json")!);
      const gw = list.items.find((p: { metadata: { name: string } }) => DEMO_FROM.endsWith(p.metadata.name));
      gw.spec.nodeName = "master1";
      gw.status.podIP = "10.42.0.99";
      gw.status.podIPs = [{ ip: "10.42.0.99" }];
      f.set("cluster/pods.json", JSON.stringify(list, null, 4));
    });
    expect(d.steps.filter((s) => s.status === "broken")).toEqual([]);
    expect(d.verdict).toBe("reachable");
    expect(d.ok).toBe(true);
    expect(d.atRisk).toEqual(["config"]);
    expect(codes(d)).toEqual(["config-pod-ip"]);
    expect(d.summary).toMatch(/can reach eopx-register:8848: .*; at risk: config/);
  });
});

describe("diagnose of destinations outside the cluster (item 3)", () => {
  it("says a name the cluster DNS does not own is outside, with dns undecided", async () => {
    const d = await diagnoseSpec(healthyCluster(), { from: DEMO_HEALTHY_FROM, to: "google.com:443" });
    expect(d.verdict).toBe("undecided");
    expect(d.undecidedAt).toBe("dns");
    expect(step(d, "dns")?.detail).toMatch(/outside the cluster.*upstream resolver/);
    expect(d.findings.map((f) => [f.code, f.severity])).toEqual([["destination-outside", "info"]]);
    expect(d.question?.destination).toBe("outside");
    expect(step(d, "node-dataplane")?.status).toBe("undecided");
  });

  it("traces an IP outside the Service and pod ranges as egress, masqueraded, and stays undecided", async () => {
    const d = await diagnoseSpec(healthyCluster(), { from: DEMO_HEALTHY_FROM, to: "8.8.8.8:53" });
    expect(d.verdict).toBe("undecided");
    expect(step(d, "dns")?.status).toBe("not-applicable");
    expect(step(d, "node-dataplane")?.status).toBe("ok");
    expect(step(d, "node-dataplane")?.detail).toContain("masqueraded");
    expect(
      d.trace?.traces.map((t) => [t.disposition.kind, addressText(t.headers.dst), t.headers.src.kind]),
    ).toEqual([["forwarded", "8.8.8.8:53", "out-interface"]]);
    const f = d.findings.find((x) => x.code === "destination-outside");
    expect(f?.message).toContain("outside its Service range 10.43.0.0/16 and pod range 10.42.0.0/22");
    expect(d.findings.some((x) => x.code === "dns-no-service")).toBe(false);
  });

  it("is broken at node-dataplane when the client node drops the egress", async () => {
    const d = await diagnoseSpec(healthyCluster(), { from: DEMO_HEALTHY_FROM, to: "8.8.8.8:53" }, (f) =>
      replaceIn(
        f,
        "nodes/master1/iptables-save.txt",
        /^(-A FORWARD .*)$/m,
        "-A FORWARD -d 8.8.8.8/32 -j DROP\n$1",
      ),
    );
    expect(d.verdict).toBe("broken");
    // A hand-written DROP in FORWARD is the host's firewall, not Kubernetes': host-firewall says it
    // first, node-dataplane (the client node's rules) shows the same rule.
    expect(d.brokenAt).toBe("host-firewall");
    const fw = d.findings.find((f) => f.code === "host-firewall-drop");
    expect(fw?.evidence[0]?.text).toBe("-A FORWARD -d 8.8.8.8/32 -j DROP");
    expect(step(d, "node-dataplane")?.status).toBe("broken");
    const blocked = d.findings.find((f) => f.code === "path-blocked");
    expect(blocked?.evidence[0]?.text).toBe("-A FORWARD -d 8.8.8.8/32 -j DROP");
    expect(d.summary).toContain("the client times out (no answer)");
  });

  it("offers 'did you mean' for a typo of a Service name and does not call it broken", async () => {
    const d = await diagnoseSpec(healthyCluster(), { from: DEMO_HEALTHY_FROM, to: "eopx-registr:8848" });
    expect(d.verdict).toBe("undecided");
    const f = d.findings.find((x) => x.code === "destination-outside");
    expect(f?.severity).toBe("warning");
    expect(f?.message).toContain("did you mean eopx/eopx-register?");
    expect(f?.fix).toContain("--to eopx-register:8848");
  });

  it("breaks at endpoints for a pod IP nobody has any more in a node's pod CIDR", async () => {
    const d = await diagnoseSpec(healthyCluster(), { from: DEMO_HEALTHY_FROM, to: "10.42.2.17:8848" });
    expect(d.brokenAt).toBe("endpoints");
    expect(d.findings.find((f) => f.code === "destination-unassigned")?.message).toContain(
      "node prod-agent1's pod CIDR 10.42.2.0/24",
    );
  });

  it("breaks at service for an address in the Service range that no Service has", async () => {
    const d = await diagnoseSpec(healthyCluster(), { from: DEMO_HEALTHY_FROM, to: "10.43.99.99:80" });
    expect(d.brokenAt).toBe("service");
    expect(d.findings.map((f) => f.code)).toEqual(["destination-unassigned"]);
  });
});

describe("diagnose of Services without kube-proxy rules", () => {
  function addService(files: Map<string, string>, spec: Record<string, unknown>, name: string): void {
    const list = JSON.parse(files.get("cluster/services.json")!);
    list.items.push({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, namespace: "eopx", uid: `uid-${name}` },
      spec,
    });
    files.set("cluster/services.json", JSON.stringify(list, null, 4));
  }

  it("is undecided for an ExternalName Service: the CNAME's target is resolved outside the cluster", async () => {
    const d = await diagnoseSpec(healthyCluster(), { from: DEMO_HEALTHY_FROM, to: "ext-db:5432" }, (f) =>
      addService(
        f,
        { type: "ExternalName", externalName: "db.example.com", ports: [{ port: 5432, protocol: "TCP" }] },
        "ext-db",
      ),
    );
    expect(d.verdict).toBe("undecided");
    expect(d.undecidedAt).toBe("dns");
    expect(step(d, "dns")?.detail).toContain('"db.example.com" is outside the cluster');
    expect(step(d, "service")?.status).toBe("not-applicable");
  });

  it("is undecided at node-dataplane for a headless Service (the client dials pod IPs DNS returns)", async () => {
    const d = await diagnoseSpec(
      healthyCluster(),
      { from: DEMO_HEALTHY_FROM, to: "register-hl:8848" },
      (f) => {
        addService(
          f,
          {
            type: "ClusterIP",
            clusterIP: "None",
            selector: { app: "eopx-register" },
            ports: [{ port: 8848, protocol: "TCP" }],
          },
          "register-hl",
        );
        const slices = JSON.parse(f.get("cluster/endpointslices.json")!);
        slices.items.push({
          apiVersion: "discovery.k8s.io/v1",
          kind: "EndpointSlice",
          addressType: "IPv4",
          metadata: {
            name: "register-hl-x1",
            namespace: "eopx",
            labels: { "kubernetes.io/service-name": "register-hl" },
          },
          endpoints: [{ addresses: ["10.42.1.23"], conditions: { ready: true } }],
          ports: [{ port: 8848, protocol: "TCP" }],
        });
        f.set("cluster/endpointslices.json", JSON.stringify(slices, null, 4));
      },
    );
    expect(step(d, "endpoints")?.status).toBe("ok");
    expect(d.verdict).toBe("undecided");
    // No packet to follow (the ClusterIP is None): host-firewall cannot be proven either.
    expect(d.undecidedAt).toBe("host-firewall");
    expect(step(d, "host-firewall")?.detail).toContain("no packet to follow");
    expect(step(d, "node-dataplane")?.status).toBe("undecided");
    expect(step(d, "node-dataplane")?.detail).toContain("headless Service");
  });

  it("breaks at endpoints for a headless Service without ready pods", async () => {
    const d = await diagnoseSpec(healthyCluster(), { from: DEMO_HEALTHY_FROM, to: "register-hl:8848" }, (f) =>
      addService(
        f,
        {
          type: "ClusterIP",
          clusterIP: "None",
          selector: { app: "nothing" },
          ports: [{ port: 8848, protocol: "TCP" }],
        },
        "register-hl",
      ),
    );
    expect(d.brokenAt).toBe("endpoints");
  });
});

describe("parseTo()", () => {
  it("refuses URLs and IPv6 literals with one line that says what to type", () => {
    const cases: [string, string][] = [
      ["http://eopx-register:8848", "--to eopx-register:8848"],
      ["https://api.example.com/v1", "--to api.example.com:443"],
      ["[fd00::1]:8848", "IPv6 destinations are not supported yet"],
      ["fd00::1:8848", "IPv6 destinations are not supported yet"],
      ["eopx-register:8848/nacos", "without a path, e.g. --to eopx-register:8848"],
    ];
    for (const [to, hint] of cases) {
      expect(() => parseTo(to), to).toThrow(QuestionError);
      expect(() => parseTo(to), to).toThrow(hint);
    }
    expect(parseTo("eopx-register:http")).toEqual({ host: "eopx-register", port: "http" });
  });
});

describe("dataplaneLink() with a proxy mode netdoctor does not analyse (item 4, consumer side)", () => {
  it("is undecided with reconciliation's reason, and reports no missing-rules finding", () => {
    const spec = healthyCluster();
    const cluster = clusterOf(spec.api);
    const question = resolveQuestion(cluster, new ExpectedPorts(cluster), HEALTHY_Q);
    const link = dataplaneLink({
      question,
      cluster,
      gaps: new Set(),
      config: [],
      node: {
        node: "master1",
        file: "nodes/master1/iptables-save.txt",
        dump: "read",
        dataplane: [],
        proxyUndecided: "kube-proxy runs in IPVS mode (KUBE-SERVICES matches the KUBE-CLUSTER-IP ipset)",
        health: [],
        summary: {
          node: "master1",
          file: "nodes/master1/iptables-save.txt",
          readable: true,
          rules: 173,
          chains: 60,
          duplicateRules: 0,
          knownBugs: [],
        },
        problems: [],
      },
    });
    expect(link.step.status).toBe("undecided");
    expect(link.step.detail).toContain("IPVS mode");
    expect(link.findings).toEqual([]);
  });
});
