import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { commandUnavailable, skipBecause } from "../testing/capabilities.ts";

const ALERTS_DIR = join(process.cwd(), "deploy/alerts");
const EXPORTER_DIR = join(process.cwd(), "deploy/exporter");
const RULE_FILE = join(ALERTS_DIR, "netdoctor-rules.yaml");
const TEST_FILES = readdirSync(ALERTS_DIR)
  .filter((f) => f.endsWith(".test.yaml"))
  .sort();

interface RuleGroup {
  name: string;
  rules: { alert?: string; record?: string; expr: string; for?: string }[];
}

const groups = (parse(readFileSync(RULE_FILE, "utf8")) as { groups: RuleGroup[] }).groups;
const alertNames = groups.flatMap((g) => g.rules.flatMap((r) => (r.alert === undefined ? [] : [r.alert])));

function promtool(args: string[]): string {
  try {
    return execFileSync("promtool", args, {
      cwd: ALERTS_DIR,
      encoding: "utf8",
      stdio: "pipe",
      timeout: 120_000,
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(" ")} failed:\n${e.stdout ?? ""}${e.stderr ?? ""}`);
  }
}

const noPromtool = skipBecause(commandUnavailable("promtool"), "promtool rule checks and unit tests");

describe.skipIf(noPromtool)("deploy/alerts with promtool", () => {
  test("`promtool check rules` accepts the rule file", () => {
    expect(promtool(["check", "rules", "netdoctor-rules.yaml"])).toContain(
      `SUCCESS: ${groups.flatMap((g) => g.rules).length} rules found`,
    );
  });

  test.each(TEST_FILES)("`promtool test rules %s` passes", (file) => {
    expect(promtool(["test", "rules", file])).toContain("SUCCESS");
  });
});

describe("alert unit test coverage", () => {
  const cases = TEST_FILES.flatMap((file) => {
    const doc = parse(readFileSync(join(ALERTS_DIR, file), "utf8")) as {
      rule_files: string[];
      tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    expect(doc.rule_files).toEqual(["netdoctor-rules.yaml"]);
    return doc.tests.flatMap((t) => t.alert_rule_test ?? []);
  });

  test("there are test files", () => {
    expect(TEST_FILES.length).toBeGreaterThanOrEqual(3);
    expect(alertNames.length).toBeGreaterThanOrEqual(9);
  });

  test.each(alertNames)("%s has a case where it fires and one where it must not", (name) => {
    const mine = cases.filter((c) => c.alertname === name);
    expect(mine.some((c) => c.exp_alerts.length > 0)).toBe(true);
    expect(mine.some((c) => c.exp_alerts.length === 0)).toBe(true);
  });

  test("every alert has summary, description and a runbook naming a netdoctor command", () => {
    for (const rule of groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined)) {
      const a = (rule as { annotations?: Record<string, string> }).annotations ?? {};
      expect(Object.keys(a).sort(), rule.alert).toEqual(["description", "runbook", "summary"]);
      expect(a.runbook, rule.alert).toMatch(/netdoctor (diagnose|scan|fix duplicates)|kubectl/);
    }
  });
});

describe("deploy/exporter manifests", () => {
  const docs = readdirSync(EXPORTER_DIR)
    .filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml")
    .flatMap((f) => parseAllDocuments(readFileSync(join(EXPORTER_DIR, f), "utf8")).map((d) => d.toJS()));
  // biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML
  const byKind = (kind: string): any => {
    const found = docs.filter((d) => d?.kind === kind);
    expect(found, kind).toHaveLength(1);
    return found[0];
  };

  test("the PrometheusRule wraps exactly the groups of deploy/alerts/netdoctor-rules.yaml", () => {
    expect(byKind("PrometheusRule").spec.groups).toEqual(groups);
  });

  test("kustomization lists every manifest", () => {
    const k = parse(readFileSync(join(EXPORTER_DIR, "kustomization.yaml"), "utf8")) as {
      resources: string[];
    };
    const files = readdirSync(EXPORTER_DIR).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml");
    expect([...k.resources].sort()).toEqual(files.sort());
  });

  test("the DaemonSet runs everywhere with the least privileges iptables-save needs", () => {
    const ds = byKind("DaemonSet");
    const pod = ds.spec.template.spec;
    expect(pod.hostNetwork).toBe(true);
    expect(pod.hostPID).toBeUndefined();
    expect(pod.tolerations).toEqual([{ operator: "Exists" }]);
    const [c] = pod.containers;
    expect(c.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      runAsUser: 0,
      capabilities: { drop: ["ALL"], add: ["NET_ADMIN", "NET_RAW", "SYS_CHROOT"] },
    });
    expect(c.resources.limits.memory).toBeDefined();
    expect(c.resources.requests.cpu).toBeDefined();
    expect(c.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "metrics" });
    expect(c.env).toContainEqual({
      name: "NODE_NAME",
      valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } },
    });
    expect(c.volumeMounts).toContainEqual(expect.objectContaining({ mountPath: "/host", readOnly: true }));
    expect(pod.volumes).toContainEqual({ name: "host-root", hostPath: { path: "/", type: "Directory" } });
    expect(c.args[0]).toBe("exporter");
    expect(c.args).toContain("--listen=0.0.0.0:9469");
    expect(c.ports).toEqual([{ name: "metrics", containerPort: 9469, protocol: "TCP" }]);
    expect(pod.serviceAccountName).toBe(byKind("ServiceAccount").metadata.name);
  });

  test("RBAC allows get/list of Services, EndpointSlices, Endpoints (clusters before v1.21) and Nodes only", () => {
    const role = byKind("ClusterRole");
    const grants = role.rules.flatMap((r: { apiGroups: string[]; resources: string[]; verbs: string[] }) =>
      r.apiGroups.flatMap((g) => r.resources.map((res) => `${g}/${res}:${[...r.verbs].sort().join(",")}`)),
    );
    expect(grants.sort()).toEqual([
      "/endpoints:get,list",
      "/nodes:get,list",
      "/services:get,list",
      "discovery.k8s.io/endpointslices:get,list",
    ]);
    const binding = byKind("ClusterRoleBinding");
    expect(binding.roleRef.name).toBe(role.metadata.name);
    expect(binding.subjects).toEqual([
      { kind: "ServiceAccount", name: byKind("ServiceAccount").metadata.name, namespace: "netdoctor" },
    ]);
  });

  test("Service, ServiceMonitor, DaemonSet and the ExporterDown alert agree on labels, port and job", () => {
    const ds = byKind("DaemonSet");
    const svc = byKind("Service");
    const sm = byKind("ServiceMonitor");
    const podLabels = ds.spec.template.metadata.labels;
    expect(podLabels).toMatchObject(svc.spec.selector);
    expect(svc.metadata.labels).toMatchObject(sm.spec.selector.matchLabels);
    expect(svc.spec.ports.map((p: { name: string }) => p.name)).toContain(sm.spec.endpoints[0].port);
    const down = groups.flatMap((g) => g.rules).find((r) => r.alert === "NetdoctorExporterDown");
    // The Prometheus Operator names the job after the Service.
    expect(down?.expr).toContain(`job="${svc.metadata.name}"`);
  });
});
