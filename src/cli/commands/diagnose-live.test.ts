/**
 * `kubectl netdoctor diagnose --from P --to S:PORT` as an SRE types it: kubectl runs
 * `kubectl-netdoctor` from PATH with the words after `netdoctor`, KUBECONFIG names the cluster, and
 * no --bundle, --demo or --live is given. The cluster is the fake API server serving the demo
 * incident's objects and node dumps, so the live answer can be compared with the bundle's.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBundle } from "../../demo/build-bundle.ts";
import { DEMO_FROM, DEMO_HEALTHY_FROM, DEMO_TO, incidentBundleSpec } from "../../demo/incident.ts";
import { FakeKubeApi } from "../../testing/fake-kube-api.ts";

const work = mkdtempSync(join(tmpdir(), "nd-diagnose-live-"));
const bin = join(work, "bin");
let api: FakeKubeApi;
let kubeconfig = "";

const demo = buildBundle(incidentBundleSpec());
const items = (file: string): object[] => (JSON.parse(demo.get(file)!) as { items: object[] }).items;

beforeAll(async () => {
  // The build under test, in its own directory: `kubectl-netdoctor` on PATH is a link to its entry.
  const { execFileSync } = await import("node:child_process");
  execFileSync(process.execPath, ["scripts/build.mjs", "--outdir", join(work, "dist")], { stdio: "pipe" });
  mkdirSync(bin);
  symlinkSync(join(work, "dist/netdoctor.mjs"), join(bin, "kubectl-netdoctor"));
  const nodes = items("cluster/nodes.json").map((n) => {
    const meta = (n as { metadata: { name: string; labels?: Record<string, string> } }).metadata;
    return { name: meta.name, ...(meta.labels === undefined ? {} : { labels: meta.labels }) };
  });
  api = new FakeKubeApi({
    nodes,
    pods: items("cluster/pods.json"),
    services: items("cluster/services.json"),
    endpointslices: items("cluster/endpointslices.json"),
    configmaps: items("cluster/configmaps.json"),
    dump: (node) => demo.get(`nodes/${node}/iptables-save.txt`)!,
    // The demo's host files, so the path across nodes is proven as from the demo bundle.
    hostFile: (node, file) => demo.get(`nodes/${node}/${file}`),
  });
  await api.start();
  // kubectl's context namespace: -n defaults to it, as in kubectl.
  kubeconfig = join(work, "kubeconfig.yaml");
  writeFileSync(
    kubeconfig,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "- name: eopx-prod",
      "  cluster:",
      `    server: ${api.url}`,
      "    insecure-skip-tls-verify: true",
      "users:",
      "- name: sre",
      "  user:",
      "    token: fake-token",
      "contexts:",
      "- name: prod",
      "  context:",
      "    cluster: eopx-prod",
      "    user: sre",
      "    namespace: eopx",
      "current-context: prod",
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
});

afterAll(async () => {
  await api?.close();
  rmSync(work, { recursive: true, force: true });
});

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `kubectl-netdoctor ARGS` found on PATH, as kubectl does for `kubectl netdoctor ARGS`. */
function kubectlNetdoctor(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn("kubectl-netdoctor", args, {
    env: {
      ...process.env,
      PATH: `${bin}:${process.env.PATH ?? ""}`,
      KUBECONFIG: kubeconfig,
      HOME: work,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d));
  child.stderr.on("data", (d: Buffer) => (stderr += d));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

/** The kept bundle named on stderr. */
function keptBundle(stderr: string): string {
  const m = /collected 3 of 3 nodes into (\S+) \(kept for the evidence\)/.exec(stderr);
  expect(m, stderr).not.toBeNull();
  return m![1]!;
}

describe("kubectl netdoctor diagnose against a reachable API, without any extra flag", () => {
  it("collects from the current context, says so on stderr and diagnoses the incident (exit 1)", async () => {
    const r = await kubectlNetdoctor(["diagnose", "--from", DEMO_FROM, "--to", DEMO_TO]);
    expect(r.stderr).toContain(
      'netdoctor: no --bundle or --demo: collecting from the live cluster "eopx-prod" of context "prod"\n',
    );
    const bundle = keptBundle(r.stderr);
    expect(existsSync(join(bundle, "nodes/prod-agent1/iptables-save.txt"))).toBe(true);
    expect(r.stdout).toMatch(/^VERDICT: BROKEN at node-dataplane$/m);
    expect(r.stdout).toContain("ERROR endpoint-stale (node prod-agent1, service eopx/eopx-register)");
    expect(r.code).toBe(1);
    expect(api.livePods()).toEqual([]);
    rmSync(join(bundle, ".."), { recursive: true, force: true });
  });

  it("takes -n from the context: a bare pod name is looked up in the context's namespace", async () => {
    const bare = DEMO_HEALTHY_FROM.split("/")[1]!;
    const r = await kubectlNetdoctor(["diagnose", "--from", bare, "--to", DEMO_TO, "-o", "json"]);
    const d = JSON.parse(r.stdout) as { verdict: string; question: { from: string } };
    expect(d.verdict).toBe("reachable");
    expect(r.code).toBe(0);
    rmSync(join(keptBundle(r.stderr), ".."), { recursive: true, force: true });
    // -n wins over the context, as in kubectl: there is no such pod in "default".
    const other = await kubectlNetdoctor(["diagnose", "--from", bare, "-n", "default", "--to", DEMO_TO]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/default\/eopx-order/);
  });

  it("honours --context and --kubeconfig as kubectl does", async () => {
    const r = await kubectlNetdoctor([
      "diagnose",
      "--context",
      "staging",
      "--from",
      DEMO_FROM,
      "--to",
      DEMO_TO,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^netdoctor: Cannot use context "staging": it is not in the kubeconfig .*kubeconfig\.yaml" \(from \$KUBECONFIG\)\n$/,
    );
    const missing = await kubectlNetdoctor([
      "diagnose",
      "--kubeconfig",
      join(work, "nope"),
      "--from",
      "a",
      "--to",
      "b:1",
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^netdoctor: Cannot load kubeconfig ".*nope": /);
  });

  it("says what to give when there is no kubeconfig at all", async () => {
    const r = await kubectlNetdoctor(["diagnose", "--from", DEMO_FROM, "--to", DEMO_TO], { KUBECONFIG: "" });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "netdoctor: Cannot diagnose: no --bundle DIR or --demo, and no kubeconfig to collect from the live cluster ($KUBECONFIG, ~/.kube/config or --kubeconfig FILE)\n" +
        "see 'kubectl netdoctor diagnose --help'\n",
    );
  });

  it("report collects live the same way and writes the page", async () => {
    const page = join(work, "report.html");
    const r = await kubectlNetdoctor(["report", "--from", DEMO_FROM, "--to", DEMO_TO, "--html", page]);
    expect(r.stderr).toContain('collecting from the live cluster "eopx-prod" of context "prod"');
    expect(r.stderr).toMatch(/wrote .*report\.html \(\d+ KB\): problems found/);
    expect(r.code).toBe(1);
    expect(existsSync(page)).toBe(true);
    rmSync(join(keptBundle(r.stderr), ".."), { recursive: true, force: true });
  });
});
