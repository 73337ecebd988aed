import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { detectKnownBugs } from "../known-bugs/known-bugs.ts";
import { parseDump } from "../parse/parse-dump.ts";
import {
  FAILING_IPTABLES_STDERR,
  FakeKubeApi,
  type FakeNodeBehavior,
  smallDump,
} from "../testing/fake-kube-api.ts";
import { prng } from "../testing/prng.ts";
import { deleteCollectorPods } from "./cleanup-pods.ts";
import { collectBundle } from "./collect-bundle.ts";
import { diagnoseBundleDir } from "./diagnose-bundle-dir.ts";
import { KubeApi } from "./kube-api.ts";
import { readBundle, readBundleNode } from "./read-bundle.ts";

const work = mkdtempSync(join(tmpdir(), "nd-collect-"));
/** Limits that only guard against a hang: far above any work here, however busy the machine. */
const HANG_GUARD_MS = 600_000;
afterAll(() => rmSync(work, { recursive: true, force: true }));
let servers: FakeKubeApi[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

let n = 0;
function outDir(): string {
  return join(work, `bundle-${++n}`);
}

async function fake(
  options: ConstructorParameters<typeof FakeKubeApi>[0],
): Promise<{ api: FakeKubeApi; kubeconfig: string }> {
  const api = new FakeKubeApi(options);
  servers.push(api);
  await api.start();
  const dir = mkdtempSync(join(work, "kc-"));
  return { api, kubeconfig: api.writeKubeconfig(dir) };
}

const recordedPods = [
  {
    metadata: { name: "api-gw-1", namespace: "prod", uid: "u1", creationTimestamp: "2024-05-01T10:00:00Z" },
    spec: {
      nodeName: "node-000",
      containers: [{ name: "gw", image: "gw:1", env: [{ name: "CFG", value: "10.42.2.17" }] }],
    },
    status: { phase: "Running", podIP: "10.42.0.9" },
  },
];
const recordedServices = [
  {
    metadata: { name: "cfg-center", namespace: "prod" },
    spec: {
      clusterIP: "10.43.176.183",
      ports: [{ name: "http", port: 8848, targetPort: 8848, protocol: "TCP" }],
    },
  },
];
const recordedSlices = [
  {
    metadata: {
      name: "cfg-center-abc",
      namespace: "prod",
      labels: { "kubernetes.io/service-name": "cfg-center" },
    },
    addressType: "IPv4",
    endpoints: [{ addresses: ["10.42.2.18"], conditions: { ready: true }, nodeName: "node-001" }],
    ports: [{ name: "http", port: 8848, protocol: "TCP" }],
  },
];

describe("collectBundle() through a fake API server with the real client library", () => {
  // The per-node limit is far above the work (it guards against a hang): whether a healthy node
  // finishes in time must not depend on how busy the machine is. Timeouts have their own test below.
  it(
    "collects 200 nodes at concurrency 20 with 5% failing: partial bundle, failures reported, no pod left",
    async () => {
      const random = prng(20241125);
      const nodes = Array.from({ length: 200 }, (_, i) => ({ name: `node-${String(i).padStart(3, "0")}` }));
      const kinds: FakeNodeBehavior[] = ["reject-psa", "iptables-fails", "log-cut", "reject-quota"];
      const behaviors = new Map<string, FakeNodeBehavior>();
      while (behaviors.size < 10) {
        const node = nodes[Math.floor(random() * nodes.length)]!.name;
        if (!behaviors.has(node)) behaviors.set(node, kinds[behaviors.size % kinds.length]!);
      }
      const { api, kubeconfig } = await fake({
        nodes,
        pods: recordedPods,
        services: recordedServices,
        endpointslices: recordedSlices,
        behavior: (node) => behaviors.get(node) ?? "ok",
      });
      const out = outDir();
      const progress: number[][] = [];
      const summary = await collectBundle({
        out,
        via: "pod",
        kubeconfig,
        concurrency: 20,
        timeoutMs: HANG_GUARD_MS,
        onProgress: (done, failed, total) => progress.push([done, failed, total]),
      });

      // Every pod that was created was deleted, and the fake holds none.
      expect(api.livePods()).toEqual([]);
      // Rejected pods were never created; every other node got exactly one pod.
      expect(api.created.length).toBe(
        200 - countOf(behaviors, "reject-psa") - countOf(behaviors, "reject-quota"),
      );
      expect(new Set(api.deleted)).toEqual(new Set(api.created));
      // Secrets are never read; ConfigMaps only when asked.
      expect(api.requests.some((r) => r.includes("secrets"))).toBe(false);
      expect(api.requests.some((r) => r.includes("configmaps"))).toBe(false);

      expect(summary.cluster).toBe("fake-cluster");
      expect(summary.nodes).toHaveLength(200);
      const bad = summary.nodes.filter((r) => r.status !== "ok");
      expect(new Set(bad.map((b) => b.node))).toEqual(new Set(behaviors.keys()));
      for (const b of bad) {
        const behavior = behaviors.get(b.node);
        const expected = {
          "reject-psa": /Pod Security Admission.*pod-security\.kubernetes\.io\/enforce=privileged/,
          "reject-quota": /ResourceQuota rejected.*exceeded quota/,
          "log-cut": /output ended early \(the pod.s log was cut.*\(pod Failed, container OOMKilled/,
          "iptables-fails":
            /iptables-save exited with 1: iptables-save v1\.8\.4 \(nf_tables\): Couldn't load match/,
        }[behavior as "reject-psa" | "reject-quota" | "log-cut" | "iptables-fails"];
        expect(b.error, `${b.node} (${behavior})`).toMatch(expected);
        if (process.env.ND_SHOW_ERRORS) console.log(b.node, behavior, b.error);
        expect(b.status).toBe(behavior === "iptables-fails" ? "command-failed" : "failed");
      }
      expect(progress.at(-1)).toEqual([200, 10, 200]);

      // The bundle: format, modes, cluster lists as kubectl -o json Lists, node files.
      const meta = JSON.parse(readFileSync(join(out, "bundle.json"), "utf8"));
      expect(meta).toMatchObject({ format: "netdoctor-bundle/v1", cluster: "fake-cluster" });
      expect(Number.isNaN(Date.parse(meta.collectedAt))).toBe(false);
      expect(statSync(out).mode & 0o777).toBe(0o700);
      for (const [file, kind, count] of [
        ["nodes.json", "Node", 200],
        ["pods.json", "Pod", 1],
        ["services.json", "Service", 1],
        ["endpointslices.json", "EndpointSlice", 1],
      ] as const) {
        const list = JSON.parse(readFileSync(join(out, "cluster", file), "utf8"));
        expect(list.kind).toBe("List");
        expect(list.items).toHaveLength(count);
        expect(list.items[0].kind).toBe(kind);
        expect(statSync(join(out, "cluster", file)).mode & 0o777).toBe(0o600);
      }
      const slices = JSON.parse(readFileSync(join(out, "cluster", "endpointslices.json"), "utf8"));
      expect(slices.items[0].apiVersion).toBe("discovery.k8s.io/v1");
      expect(readdirSync(join(out, "nodes"))).toHaveLength(200);
      for (const { name } of nodes) {
        const dir = join(out, "nodes", name);
        expect(statSync(dir).mode & 0o777).toBe(0o700);
        const files = readdirSync(dir).sort();
        for (const f of files) expect(statSync(join(dir, f)).mode & 0o777, `${name}/${f}`).toBe(0o600);
        const behavior = behaviors.get(name);
        if (behavior === undefined) {
          expect(files).toEqual([
            "iptables-save.txt",
            "iptables-version.txt",
            "k3s-version.txt",
            "kube-proxy-metrics.txt",
            "kube-proxy-mode.txt",
            "nft-ruleset.json",
            "nft-ruleset.txt",
          ]);
          const text = readFileSync(join(dir, "iptables-save.txt"), "utf8");
          expect(text).toBe(smallDump(name));
          expect(parseDump(text).tables.get("nat")?.chains.get("KUBE-SERVICES")?.rules).toHaveLength(1);
        } else if (behavior === "iptables-fails") {
          expect(files).toEqual([
            "iptables-save.err",
            "iptables-save.exit",
            "iptables-version.txt",
            "k3s-version.txt",
            "kube-proxy-metrics.txt",
            "kube-proxy-mode.txt",
            "nft-ruleset.json",
            "nft-ruleset.txt",
          ]);
          expect(readFileSync(join(dir, "iptables-save.err"), "utf8")).toBe(FAILING_IPTABLES_STDERR);
          expect(readFileSync(join(dir, "iptables-save.exit"), "utf8")).toBe("1\n");
        } else {
          expect(files).toEqual(["iptables-save.err"]);
          expect(readFileSync(join(dir, "iptables-save.err"), "utf8")).toMatch(
            /^netdoctor: could not collect from this node: /,
          );
        }
      }

      // diagnose's own reader takes the bundle: no problems, every node readable or reported unreadable.
      const bundle = await readBundle(out);
      // configmaps.json is optional (collected only with --configmaps); any other problem is a bug.
      expect(bundle.problems.filter((p) => !p.message.includes("configmaps.json"))).toEqual([]);
      expect(bundle.cluster.nodes).toHaveLength(200);
      expect(bundle.cluster.pods.map((p) => p.metadata.name)).toEqual(["api-gw-1"]);
      expect(bundle.nodeDirs).toHaveLength(200);
      for (const node of bundle.nodeDirs) {
        const read = await readBundleNode(out, node);
        expect(read.problems, node).toEqual([]);
        const unreadable = detectKnownBugs(read.evidence).filter((f) => f.code === "iptables-unreadable");
        if (behaviors.has(node)) {
          expect(read.evidence.scan, node).toBeUndefined();
          expect(unreadable, node).toHaveLength(1);
        } else {
          expect(read.evidence.scan?.file).toBe(`nodes/${node}/iptables-save.txt`);
          expect(unreadable, node).toEqual([]);
        }
      }
      // And the whole diagnosis runs on it: exactly the failed nodes are reported unreadable.
      const diagnosis = await diagnoseBundleDir(out, undefined, {});
      const unreadableNodes = diagnosis.findings
        .filter((f) => f.code === "iptables-unreadable")
        .map((f) => f.node);
      expect(new Set(unreadableNodes)).toEqual(new Set(behaviors.keys()));
      expect(unreadableNodes).toHaveLength(behaviors.size);
    },
    HANG_GUARD_MS,
  );

  it("gives up on a node at its time limit and says what its pod was doing; the pod is deleted", async () => {
    // Only nodes that never finish: the limit is the one thing that ends them, so it can be short
    // without racing any real work.
    const { api, kubeconfig } = await fake({
      nodes: [{ name: "stuck" }, { name: "hung" }],
      behavior: (node) => (node === "stuck" ? "never-start" : "hang"),
    });
    const summary = await collectBundle({ out: outDir(), via: "pod", kubeconfig, timeoutMs: 3000 });
    expect(summary.nodes.map((n) => [n.node, n.status])).toEqual([
      ["hung", "failed"],
      ["stuck", "failed"],
    ]);
    expect(summary.nodes[0]!.error).toMatch(
      /^timed out after 3s \(pod kube-system\/netdoctor-.* was Running/,
    );
    expect(summary.nodes[1]!.error).toMatch(
      /^timed out after 3s \(pod kube-system\/netdoctor-.* was Pending, ImagePullBackOff/,
    );
    expect(api.livePods()).toEqual([]);
    expect(new Set(api.deleted)).toEqual(new Set(api.created));
  });

  it(
    "streams a large iptables-save (180,000 leaked rules) through the pod log byte for byte",
    async () => {
      const lines = [
        "# Generated by iptables-save v1.8.4 on agent1",
        "*filter",
        ":INPUT ACCEPT [0:0]",
        ":KUBE-FIREWALL - [0:0]",
      ];
      for (let i = 0; i < 180_000; i++) {
        lines.push(
          `-A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j DROP`,
        );
      }
      for (let i = 0; i < 20_000; i++) lines.push(`-A INPUT -s 198.18.${i >> 8}.${i & 255}/32 -j ACCEPT`);
      lines.push("COMMIT", "");
      const big = lines.join("\n");
      const { api, kubeconfig } = await fake({ nodes: [{ name: "agent1" }], dump: () => big });
      const out = outDir();
      const summary = await collectBundle({ out, via: "pod", kubeconfig, timeoutMs: HANG_GUARD_MS });
      expect(summary.nodes[0]?.status).toBe("ok");
      const got = readFileSync(join(out, "nodes", "agent1", "iptables-save.txt"));
      expect(got.length).toBe(Buffer.byteLength(big));
      expect(createHash("sha256").update(got).digest("hex")).toBe(
        createHash("sha256").update(big).digest("hex"),
      );
      expect(api.livePods()).toEqual([]);
    },
    HANG_GUARD_MS,
  );

  it("collects ConfigMaps only with configmaps: true, selects nodes by label, and names unknown nodes", async () => {
    const { api, kubeconfig } = await fake({
      nodes: [{ name: "m1", labels: { role: "master" } }, { name: "a1" }, { name: "a2" }],
      configmaps: [
        { metadata: { name: "app-cfg", namespace: "prod" }, data: { url: "http://10.42.2.17:8848" } },
      ],
    });
    const out = outDir();
    const summary = await collectBundle({
      out,
      via: "pod",
      kubeconfig,
      configmaps: true,
      selector: "role=master",
    });
    expect(summary.nodes.map((r) => r.node)).toEqual(["m1"]);
    expect(JSON.parse(readFileSync(join(out, "cluster", "configmaps.json"), "utf8")).items[0].kind).toBe(
      "ConfigMap",
    );
    expect(readdirSync(join(out, "nodes"))).toEqual(["m1"]);
    expect(api.requests).toContain("GET /api/v1/nodes?labelSelector=role%3Dmaster");
    await expect(
      collectBundle({ out: outDir(), via: "pod", kubeconfig, nodes: ["a1", "zz"] }),
    ).rejects.toThrow('Cannot find node "zz" in the cluster');
  });

  it("keeps going when a list is forbidden: the error is reported and the nodes are still collected", async () => {
    const { api, kubeconfig } = await fake({
      nodes: [{ name: "a1" }],
      forbid: ["/apis/discovery.k8s.io/v1/endpointslices"],
    });
    const warnings: string[] = [];
    const out = outDir();
    const summary = await collectBundle({ out, via: "pod", kubeconfig, onWarning: (w) => warnings.push(w) });
    expect(summary.lists.find((l) => l.file === "cluster/endpointslices.json")?.error).toBe(
      'Cannot list EndpointSlices (/apis/discovery.k8s.io/v1/endpointslices): endpointslices is forbidden: User "tester" cannot list resource "endpointslices" at the cluster scope (HTTP 403: grant the read access of deploy/rbac-collect.yaml to the user of the kubeconfig)',
    );
    expect(warnings).toHaveLength(1);
    expect(readdirSync(join(out, "cluster")).sort()).toEqual([
      "namespaces.json",
      "networkpolicies.json",
      "nodes.json",
      "pods.json",
      "services.json",
    ]);
    expect(summary.nodes.map((r) => r.status)).toEqual(["ok"]);
    expect(api.livePods()).toEqual([]);
  });

  it("refuses a non-empty output directory instead of mixing two bundles", async () => {
    const { kubeconfig } = await fake({ nodes: [{ name: "a1" }] });
    const out = outDir();
    await collectBundle({ out, via: "pod", kubeconfig });
    await expect(collectBundle({ out, via: "pod", kubeconfig })).rejects.toThrow(
      /the directory is not empty/,
    );
  });

  it("deletes every pod of the run when aborted mid-run, and --cleanup removes only netdoctor's pods", async () => {
    const nodes = Array.from({ length: 30 }, (_, i) => ({ name: `n${i}` }));
    const { api, kubeconfig } = await fake({ nodes, pendingMs: 300, runningMs: 300 });
    const controller = new AbortController();
    const out = outDir();
    const run = collectBundle({
      out,
      via: "pod",
      kubeconfig,
      concurrency: 5,
      signal: controller.signal,
    });
    while (api.created.length < 3) await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    const summary = await run;
    expect(summary.interrupted).toBe(true);
    expect(summary.notStarted.length).toBeGreaterThan(0);
    // Nothing half-written: neither the bundle nor its staging sibling is left.
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(work).filter((f) => f.includes(".partial-"))).toEqual([]);
    expect(api.created.length).toBeGreaterThan(0);
    expect(api.livePods()).toEqual([]);

    // A stranger's pod in the namespace survives --cleanup; a leftover of ours does not.
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedPod({
      namespace: "kube-system",
      body: {
        metadata: { name: "coredns-x" },
        spec: { nodeName: "n1", containers: [{ name: "c", image: "i" }] },
      },
    });
    await core.createNamespacedPod({
      namespace: "kube-system",
      body: {
        metadata: { name: "netdoctor-old-n1", labels: { "app.kubernetes.io/managed-by": "netdoctor" } },
        spec: { nodeName: "n1", containers: [{ name: "c", image: "i" }] },
      },
    });
    const result = await deleteCollectorPods(KubeApi.load({ kubeconfig }), { namespace: "kube-system" });
    expect(result).toEqual({ deleted: ["netdoctor-old-n1"], failed: [] });
    expect(api.livePods()).toEqual(["coredns-x"]);
  });
});

function countOf(map: Map<string, FakeNodeBehavior>, kind: FakeNodeBehavior): number {
  return [...map.values()].filter((v) => v === kind).length;
}
