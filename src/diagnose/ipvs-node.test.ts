/**
 * diagnose on a node in IPVS mode: judged by its IPVS table, never by the iptables-mode checks.
 * Evidence: testdata/netpol/ipvs (the iptables glue and ipsets printed by the real iptables-nft-save
 * and ipset save; the `ipvsadm -Sn` files written in ipvsadm's rule format from kube-proxy's
 * proxier.go, as this kernel has no IPVS) and the hand-written cluster of src/testing.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parseIpsetSave } from "../ipset/parse-ipset-save.ts";
import { KubeProxyIndexer } from "../kube-proxy/kube-proxy-index.ts";
import type { Pod } from "../model/cluster.ts";
import type { Diagnosis } from "../model/diagnosis.ts";
import { DumpReader } from "../parse/dump-reader.ts";
import { IPVS_CLUSTER, IPVS_NODE } from "../testing/netpol-ipvs-cluster.ts";
import { evidenceFromDump } from "../testing/node-evidence-from-dump.ts";
import { type DiagnoseQuestion, DiagnosisBuilder } from "./diagnosis-builder.ts";

const DIR = resolve(process.cwd(), "testdata/netpol/ipvs");
const read = (f: string) => readFileSync(resolve(DIR, f), "utf8");
const FILE = `nodes/${IPVS_NODE}/iptables-save.txt`;

const CLIENT: Pod = {
  metadata: { name: "client", namespace: "shop", labels: { app: "client" } },
  containers: [{ name: "main" }],
  podIP: "10.42.0.30",
  phase: "Running",
  nodeName: IPVS_NODE,
};
const CLUSTER = { ...IPVS_CLUSTER, pods: [CLIENT] };

function diagnose(ipvsadm: string | undefined, question?: DiagnoseQuestion, ipsets = true): Diagnosis {
  const dump = read("healthy.iptables-save.txt");
  const idx = new KubeProxyIndexer();
  const reader = new DumpReader(idx.handler);
  reader.push(dump);
  reader.end();
  const b = new DiagnosisBuilder({ cluster: CLUSTER, problems: [] }, question);
  b.addNode({
    evidence: evidenceFromDump(IPVS_NODE, dump, { file: FILE }),
    index: idx.finish(),
    kubeProxy:
      ipvsadm === undefined
        ? {}
        : { ipvsadm: { file: `nodes/${IPVS_NODE}/ipvsadm.txt`, text: read(ipvsadm) } },
    problems: [],
    ...(ipsets
      ? {
          ipsets: parseIpsetSave(read("healthy.ipset-save.txt"), {
            file: `nodes/${IPVS_NODE}/ipset-save.txt`,
          }),
        }
      : {}),
  });
  return b.finish();
}

const dataplane = (d: Diagnosis) => d.steps.find((s) => s.check === "node-dataplane")!;
const serious = (d: Diagnosis) => d.findings.filter((f) => f.severity !== "info").map((f) => f.code);

describe("diagnose: a node in IPVS mode", () => {
  it("has no false findings when healthy (no 'rules missing' from the iptables checks)", () => {
    const d = diagnose("healthy.ipvsadm.txt", undefined);
    expect(serious(d)).toEqual([]);
    expect(dataplane(d).status).toBe("ok");
    expect(d.nodes[0]!.kubeProxy?.mode).toBe("ipvs");
  });

  it("finds the stale real server and the missing virtual server", () => {
    const d = diagnose("stale.ipvsadm.txt", undefined);
    // The leftover tcp 10.43.99.9:80 is outside the smallest range covering the ClusterIPs (with
    // no distribution default known): it may be another IPVS user's, so it is not reported.
    expect(serious(d).sort()).toEqual(["ipvs-real-server-stale", "ipvs-virtual-server-missing"]);
    expect(d.verdict).toBe("broken");
  });

  it("answers a question through the virtual server and its real servers", () => {
    const q = { from: "shop/client", to: "10.43.12.7:80" };
    const ok = dataplane(diagnose("healthy.ipvsadm.txt", q));
    expect(ok.status).toBe("ok");
    expect(ok.detail).toMatch(
      /IPVS virtual server tcp 10\.43\.12\.7:80 \(nodes\/node1\/ipvsadm\.txt:\d+\) → /,
    );
    const stale = dataplane(diagnose("stale.ipvsadm.txt", q));
    expect(stale).toMatchObject({ status: "broken", findings: ["ipvs-real-server-stale"] });
    expect(stale.detail).toContain("10.42.2.44:8080");
  });

  it("is undecided, saying how to get it, without ipvsadm.txt", () => {
    const s = dataplane(diagnose(undefined, { from: "shop/client", to: "10.43.12.7:80" }, false));
    expect(s).toMatchObject({ status: "undecided", missing: "nodes/node1/ipvsadm.txt" });
    expect(s.howToGet).toContain("ipvsadm -Sn > nodes/node1/ipvsadm.txt");
  });
});
