import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { expectedServicePorts } from "../kube-proxy/expected-state.ts";
import { reconcileNode } from "../kube-proxy/reconcile-node.ts";
import { indexDumpText } from "../testing/index-dump-text.ts";
import { realworldDump } from "../testing/node-evidence-from-dump.ts";
import { nodeSummary } from "./node-summary.ts";

const indexOf = indexDumpText;

const EMPTY = { services: [], endpointSlices: [], nodes: [], pods: [], configMaps: [] };

describe("nodeSummary()", () => {
  it("nodeSummary() gives a real kubeadm node's mode and the era its chains show (KUBE-PROXY-FIREWALL: v1.25+)", () => {
    const text = realworldDump("k8s-kubeadm-flannel-nft-1.8.10.save.txt", "node summary of a kubeadm node");
    if (text === undefined) return;
    const file = "nodes/ctr/iptables-save.txt";
    const s = nodeSummary({ node: "ctr" }, { file, index: indexOf(text) });
    expect(s.kubeProxy?.mode).toBe("iptables");
    expect(s.kubeProxy?.era?.label).toBe("v1.25 or later");
    expect(s.kubeProxy?.era?.evidence).toContainEqual({
      file,
      line: 25,
      text: ":KUBE-PROXY-FIREWALL - [0:0]",
    });
    expect(s.readable).toBe(false);
  });

  it("nodeSummary() says the same with and without the node's reconciliation (a node off the question's path)", () => {
    const text = realworldDump(
      "k8s-kubeadm-flannel-master-1.8.4.save.txt",
      "node summary of a kubeadm master",
    );
    if (text === undefined) return;
    const file = "nodes/m/iptables-save.txt";
    const index = indexOf(text);
    const mode = { file: "nodes/m/kube-proxy-mode.txt", text: "iptables\n" };
    const reconciled = reconcileNode(expectedServicePorts(EMPTY), index, {
      node: "m",
      file,
      evidence: { mode },
    });
    const a = nodeSummary({ node: "m" }, { file, reconciled });
    const b = nodeSummary({ node: "m" }, { file, index, kubeProxyFiles: { mode } });
    expect(a.kubeProxy).toEqual(b.kubeProxy);
    expect(a.kubeProxy?.modeReason).toBe('kube-proxy reports proxy mode "iptables"');
  });

  it("nodeSummary() of a node in IPVS mode has the mode with its reason and no era (nothing is reconciled)", () => {
    const text = readFileSync(resolve(process.cwd(), "testdata/ipvs-mode/iptables-save.txt"), "utf8");
    const s = nodeSummary({ node: "n1" }, { file: "nodes/n1/iptables-save.txt", index: indexOf(text) });
    expect(s.kubeProxy?.mode).toBe("ipvs");
    expect(s.kubeProxy?.modeReason).toMatch(/KUBE-CLUSTER-IP/);
    expect(s.kubeProxy?.era).toBeUndefined();
  });

  it("nodeSummary() has no kube-proxy part for a node whose dump was not read", () => {
    expect(nodeSummary({ node: "x" }, { file: "nodes/x/iptables-save.txt" }).kubeProxy).toBeUndefined();
  });
});
