/**
 * diagnose on a node in kube-proxy's nftables mode (issue 15, done-when 1): upstream kube-proxy's
 * own TestOverallNFTablesRules rules (../shared/fixtures, verbatim) loaded with the real nft beside
 * flannel's iptables-nft rules, dumped with `nft -j` / `nft -a` / `iptables-nft-save` into a bundle
 * with the Services and EndpointSlices that test builds (testdata/nft/kube-proxy-upstream/). Healthy:
 * no finding; a stale endpoint and a missing Service are found with handle evidence; no iptables-mode
 * finding is ever made for the node.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Diagnosis } from "../model/diagnosis.ts";
import { netnsUnavailable, skipBecause } from "../testing/capabilities.ts";
import { flannelRules, loadableKnftables, realNodeFiles } from "../testing/host-bundle.ts";
import { nftUnavailable } from "../testing/nft-lab.ts";
import { KUBE_PROXY_FIXTURES, skipWithoutSharedFixtures } from "../testing/shared-fixtures.ts";
import { diagnoseBundleDir } from "./diagnose-bundle-dir.ts";

const FIXTURE = "kube-proxy-nftables-v1.31to1.35-TestOverallNFTablesRules.nft.txt";
const skip =
  skipWithoutSharedFixtures("diagnose in kube-proxy nftables mode (upstream fixture)") ||
  skipBecause(netnsUnavailable() ?? nftUnavailable(), "diagnose in kube-proxy nftables mode (real nft)");

const NODE_DIR = "nodes/test-node";
let nodeFiles: Map<string, string>;
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

interface Pod {
  readonly ns: string;
  readonly name: string;
  readonly ip: string;
}

/** The upstream test's objects, a client pod and the endpoints' pods, edited by `edit`. */
async function bundle(edit: (cluster: string) => void = () => {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "nd-nftmode-"));
  dirs.push(dir);
  cpSync("testdata/nft/kube-proxy-upstream", dir, { recursive: true });
  mkdirSync(join(dir, NODE_DIR), { recursive: true });
  for (const [name, text] of nodeFiles) writeFileSync(join(dir, NODE_DIR, name), text);
  writeFileSync(join(dir, NODE_DIR, "kube-proxy-mode.txt"), "nftables");
  const pods: Pod[] = [
    { ns: "ns0", name: "client", ip: "10.0.1.5" },
    { ns: "ns1", name: "ep1", ip: "10.180.0.1" },
    { ns: "ns1", name: "ep9", ip: "10.180.0.9" },
  ];
  const items = pods.map((p) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { namespace: p.ns, name: p.name },
    spec: { nodeName: "test-node", containers: [{ name: "c", image: "registry.example/c" }] },
    status: { phase: "Running", podIP: p.ip, podIPs: [{ ip: p.ip }] },
  }));
  writeFileSync(join(dir, "cluster/pods.json"), JSON.stringify({ apiVersion: "v1", kind: "List", items }));
  edit(join(dir, "cluster"));
  return dir;
}

function editJson(file: string, change: (doc: { items: Record<string, unknown>[] }) => void): void {
  const doc = JSON.parse(readFileSync(file, "utf8"));
  change(doc);
  writeFileSync(file, JSON.stringify(doc));
}

const ask = (dir: string, to = "172.30.0.41:80") => diagnoseBundleDir(dir, { from: "ns0/client", to });
const step = (d: Diagnosis, check: string) => d.steps.find((s) => s.check === check);

describe.skipIf(skip)("diagnose in kube-proxy nftables mode (upstream TestOverallNFTablesRules)", () => {
  beforeAll(() => {
    const rules = loadableKnftables(readFileSync(join(KUBE_PROXY_FIXTURES, FIXTURE), "utf8"));
    nodeFiles = realNodeFiles({
      nft: rules,
      iptablesNft: flannelRules("10.0.0.0/8"),
      interfaces: [
        { name: "cni0", kind: "bridge", cidr: "10.0.0.1/8" },
        { name: "eth0", kind: "bridge", cidr: "192.168.0.2/24" },
      ],
    });
  }, 60_000);

  it("finds nothing wrong and proves node-dataplane when kube-proxy's table matches the API", async () => {
    const d = await ask(await bundle());
    expect(d.findings).toEqual([]);
    // ip-addr.json alone makes the across-nodes links (route, …) ask for the other host files:
    // nothing is broken, and the client node's links are proven.
    expect(d.brokenAt).toBeUndefined();
    expect(d.findings.filter((f) => f.severity === "error")).toEqual([]);
    expect(step(d, "node-dataplane")?.detail).toContain("kube-proxy rules for ns1/svc1:p80 match the API");
    expect(d.nodes[0]?.kubeProxy?.mode).toBe("nftables");
    // The DNAT came from kube-proxy's nft table, with its handle.
    const dnat = d.trace?.traces[0]?.hops[0]?.steps.find((s) => s.kind === "transform");
    expect(dnat).toMatchObject({
      backend: "nft",
      family: "ip",
      table: "kube-proxy",
      chain: "endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80",
      action: { kind: "dnat", to: "10.180.0.1:80" },
      evidence: { file: `${NODE_DIR}/nft-ruleset.txt`, handle: expect.any(Number) },
    });
  });

  it("finds the stale endpoint with handle evidence, and no iptables-mode finding", async () => {
    const dir = await bundle((c) =>
      editJson(join(c, "endpointslices.json"), (doc) => {
        const s = doc.items.find((x) => (x.metadata as { name: string }).name === "svc1-1")!;
        (s.endpoints as { addresses: string[] }[])[0]!.addresses = ["10.180.0.9"];
      }),
    );
    const d = await ask(dir);
    expect(d.brokenAt).toBe("node-dataplane");
    const codes = d.findings.map((f) => f.code).sort();
    expect(codes).toEqual(["endpoint-missing", "endpoint-stale"]);
    const stale = d.findings.find((f) => f.code === "endpoint-stale")!;
    expect(stale.message).toContain("to 10.180.0.1:80, which is not a ready endpoint of ns1/svc1");
    expect(stale.message).toContain("10.180.0.1 now belongs to pod ns1/ep1");
    const lines = nodeFiles.get("nft-ruleset.txt")!.split("\n");
    for (const e of stale.evidence) {
      expect(e.file).toBe(`${NODE_DIR}/nft-ruleset.txt`);
      expect(lines[e.line! - 1]!.trim()).toBe(e.text);
    }
    expect(stale.evidence.some((e) => (e as { handle?: number }).handle !== undefined)).toBe(true);
    for (const f of d.findings) for (const e of f.evidence) expect(e.file).not.toContain("iptables-save");
  });

  it("checks the node in the full check too: healthy, then the stale endpoint", async () => {
    const healthy = await diagnoseBundleDir(await bundle());
    expect(healthy.verdict).toBe("reachable");
    expect(step(healthy, "node-dataplane")?.status).toBe("ok");
    const dir = await bundle((c) =>
      editJson(join(c, "endpointslices.json"), (doc) => {
        const s = doc.items.find((x) => (x.metadata as { name: string }).name === "svc1-1")!;
        (s.endpoints as { addresses: string[] }[])[0]!.addresses = ["10.180.0.9"];
      }),
    );
    const d = await diagnoseBundleDir(dir);
    expect(d.verdict).toBe("broken");
    expect(
      d.findings
        .filter((f) => f.severity === "error")
        .map((f) => f.code)
        .sort(),
    ).toEqual(["endpoint-missing", "endpoint-stale"]);
  });

  it("finds a Service the table is missing, and never calls the node undecided for its mode", async () => {
    const dir = await bundle((c) => {
      editJson(join(c, "services.json"), (doc) => {
        const svc1 = doc.items.find((x) => (x.metadata as { name: string }).name === "svc1")!;
        const copy = JSON.parse(JSON.stringify(svc1));
        copy.metadata.name = "svc7";
        copy.metadata.uid = "svc7";
        copy.spec.clusterIP = "172.30.0.47";
        copy.spec.clusterIPs = ["172.30.0.47"];
        doc.items.push(copy);
      });
      editJson(join(c, "endpointslices.json"), (doc) => {
        const s = JSON.parse(
          JSON.stringify(doc.items.find((x) => (x.metadata as { name: string }).name === "svc1-1")),
        );
        s.metadata.name = "svc7-1";
        s.metadata.labels["kubernetes.io/service-name"] = "svc7";
        doc.items.push(s);
      });
    });
    const d = await ask(dir, "172.30.0.47:80");
    expect(d.brokenAt).toBe("node-dataplane");
    const f = d.findings.find((x) => x.code === "service-rules-missing")!;
    expect(f.service).toBe("ns1/svc7");
    expect(f.message).toContain("172.30.0.47");
    expect(step(d, "node-dataplane")?.detail).not.toContain("does not compare");
  });
});
