import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { endpointSlice, list, service } from "../demo/k8s-objects.ts";
import { clusterOf } from "../testing/demo-cluster.ts";
import { indexDumpText } from "../testing/index-dump-text.ts";
import { KUBE_PROXY_FIXTURES } from "../testing/shared-fixtures.ts";
import { expectedServicePorts } from "./expected-state.ts";
import { detectProxyMode } from "./proxy-mode.ts";
import { reconcileNode } from "./reconcile-node.ts";

const IPVS_DUMP = resolve(process.cwd(), "testdata/ipvs-mode/iptables-save.txt");
const SHARED = resolve(process.cwd(), "../shared");
const HANDBOOK = join(SHARED, "realworld/kube-proxy-ipvs-handbook.ipvsadm.txt");
const REALKUBE_NODE1 = join(SHARED, "realkube/healthy/nodes/node1/iptables-save.txt");
const NFT_LIST = join(KUBE_PROXY_FIXTURES, "normalized/nft-list-v1.31to1.35-TestOverallNFTablesRules.txt");

const indexOf = indexDumpText;

/** Skips (with the reason printed) when a shared file is absent. */
function shared(path: string): string | undefined {
  if (existsSync(path)) return readFileSync(path, "utf8");
  console.warn(`SKIP part of proxy-mode tests: ${path} is absent`);
  return undefined;
}

const EMPTY_NAT = "*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n";

/** A cluster whose `default/kubernetes` has a ready endpoint, as the IPVS node's API would list it. */
function cluster() {
  return clusterOf({
    services: list([
      service({
        namespace: "default",
        name: "kubernetes",
        clusterIP: "10.0.0.1",
        ports: [{ name: "https", port: 443, targetPort: 6443 }],
      }),
    ]),
    endpointslices: list([
      endpointSlice({
        namespace: "default",
        service: "kubernetes",
        suffix: "x",
        ports: [{ name: "https", port: 6443 }],
        endpoints: [{ ip: "192.168.0.1", node: "master", ready: true }],
      }),
    ]),
  });
}

describe("detectProxyMode()", () => {
  it("recognises IPVS mode from KUBE-SERVICES matching the ipset KUBE-CLUSTER-IP, with the ipvsadm listing", () => {
    const index = indexOf(readFileSync(IPVS_DUMP, "utf8"));
    const handbook = shared(HANDBOOK);
    const r = detectProxyMode({
      index,
      dumpFile: "nodes/n1/iptables-save.txt",
      ...(handbook === undefined ? {} : { ipvsadm: { file: "nodes/n1/ipvsadm.txt", text: handbook } }),
    });
    expect(r.mode).toBe("ipvs");
    expect(r.evidence[0]).toEqual({
      file: "nodes/n1/iptables-save.txt",
      line: 70,
      text: '-A KUBE-SERVICES ! -s 10.244.0.0/16 -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ',
    });
    if (handbook !== undefined)
      expect(r.evidence[1]).toEqual({
        file: "nodes/n1/ipvsadm.txt",
        line: 4,
        text: "TCP  10.0.0.1:443 rr persistent 10800",
      });
  });

  it("keeps IPVS mode when KUBE-SVC-* chains of an earlier iptables mode linger", () => {
    const text = readFileSync(IPVS_DUMP, "utf8").replace(
      ":KUBE-SERVICES - [0:0]\n",
      ":KUBE-SERVICES - [0:0]\n:KUBE-SVC-NPX46M4PTMTKRN6Y - [0:0]\n",
    );
    const r = detectProxyMode({ index: indexOf(text), dumpFile: "d" });
    expect(r.mode).toBe("ipvs");
    expect(r.reason).toContain("leftovers of iptables mode");
  });

  it("takes iptables mode from a real kube-proxy v1.20 dump", () => {
    const text = shared(REALKUBE_NODE1);
    if (text === undefined) return;
    const r = detectProxyMode({ index: indexOf(text), dumpFile: "d" });
    expect(r.mode).toBe("iptables");
    expect(r.evidence.map((e) => e.text)).toEqual([":KUBE-SERVICES", ":KUBE-SVC-67NZLRHBNDSAWJRO"]);
  });

  it("recognises nftables mode from kube-proxy's table in nft list ruleset", () => {
    const nft = shared(NFT_LIST);
    if (nft === undefined) return;
    const r = detectProxyMode({
      index: indexOf(EMPTY_NAT),
      nftRuleset: { file: "nodes/n1/nft-ruleset.txt", text: nft },
    });
    expect(r.mode).toBe("nftables");
    expect(r.evidence[0]?.text).toMatch(/^table ip kube-proxy/);
  });

  it("believes kube-proxy's own /proxyMode answer over the dump", () => {
    const r = detectProxyMode({
      index: indexOf(EMPTY_NAT),
      reported: { file: "nodes/n1/kube-proxy-mode.txt", text: "nftables" },
    });
    expect(r).toMatchObject({
      mode: "nftables",
      evidence: [{ file: "nodes/n1/kube-proxy-mode.txt", line: 1, text: "nftables" }],
    });
  });

  it("says no kube-proxy when another proxy's chains replace KUBE-SERVICES (Cilium)", () => {
    const text =
      "*nat\n:PREROUTING ACCEPT [0:0]\n:CILIUM_POST_nat - [0:0]\n-A PREROUTING -j CILIUM_POST_nat\nCOMMIT\n";
    const r = detectProxyMode({ index: indexOf(text), dumpFile: "d" });
    expect(r).toMatchObject({ mode: "none", evidence: [{ file: "d", line: 3, text: ":CILIUM_POST_nat" }] });
  });

  it("is unknown, with kube-proxy's silence as evidence, when nothing shows a proxy", () => {
    const r = detectProxyMode({
      index: indexOf(EMPTY_NAT),
      dumpFile: "d",
      reported: { file: "m.txt", text: "# netdoctor: kube-proxy did not answer (curl exit 7)\n" },
    });
    expect(r.mode).toBe("unknown");
    expect(r.reason).toContain("does not answer on 127.0.0.1:10249");
  });
});

describe("reconcileNode() outside iptables mode", () => {
  it("is undecided on an IPVS node, with no missing-rules finding", () => {
    const r = reconcileNode(expectedServicePorts(cluster()), indexOf(readFileSync(IPVS_DUMP, "utf8")), {
      node: "n1",
      file: "nodes/n1/iptables-save.txt",
    });
    expect(r.mode).toBe("ipvs");
    expect(r.undecided).toMatch(/^Node "n1" runs kube-proxy in IPVS mode .*ipvsadm -Ln/);
    expect(r.findings).toEqual([]);
  });

  it("is undecided without any evidence of a proxy, and says what to collect", () => {
    const r = reconcileNode(expectedServicePorts(cluster()), indexOf(EMPTY_NAT), { node: "n1", file: "d" });
    expect(r.mode).toBe("unknown");
    expect(r.undecided).toContain("curl -s 127.0.0.1:10249/proxyMode");
    expect(r.findings).toEqual([]);
  });

  it("still reports missing rules when kube-proxy says it runs in iptables mode but wrote none", () => {
    const r = reconcileNode(expectedServicePorts(cluster()), indexOf(EMPTY_NAT), {
      node: "n1",
      file: "d",
      evidence: { mode: { file: "nodes/n1/kube-proxy-mode.txt", text: "iptables\n" } },
    });
    expect(r.mode).toBe("iptables");
    expect(r.undecided).toBeUndefined();
    expect(r.findings.map((f) => f.code)).toEqual(["service-rules-missing"]);
  });
});

describe("diagnoseBundleDir() on a node in IPVS mode (issue 12, item 4)", () => {
  it("leaves node-dataplane undecided with the reason instead of reporting missing rules", async () => {
    const { cpSync, mkdirSync, mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { diagnoseBundleDir } = await import("../collect/diagnose-bundle-dir.ts");
    const dir = mkdtempSync(join(tmpdir(), "nd-ipvs-"));
    try {
      cpSync(resolve(process.cwd(), "testdata/kube-proxy-eras/v1.31-TestOverallIPTablesRules"), dir, {
        recursive: true,
      });
      mkdirSync(join(dir, "nodes/test-hostname"), { recursive: true });
      cpSync(IPVS_DUMP, join(dir, "nodes/test-hostname/iptables-save.txt"));
      const d = await diagnoseBundleDir(dir);
      const step = d.steps.find((s) => s.check === "node-dataplane");
      expect(step?.ok).toBeUndefined();
      expect(step?.status).toBe("undecided");
      expect(step?.detail).toContain('Node "test-hostname" runs kube-proxy in IPVS mode');
      expect(
        d.findings.filter((f) => f.code === "service-rules-missing" || f.code.startsWith("endpoint-")),
      ).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
