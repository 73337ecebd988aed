/**
 * reconcileIpvs() and reconcileIpvsIpsets(): a healthy IPVS node has no findings (testdata/netpol/ipvs:
 * ipset and iptables files printed by the real ipset and iptables-nft-save; the `ipvsadm -Sn` file is
 * hand-written in ipvsadm's rule format because this kernel has no IPVS), a stale real server is
 * found, and the published kubernetes-handbook listing reconciles cleanly with its Services.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parseIpsetSave } from "../../ipset/parse-ipset-save.ts";
import { parseIpvsadm } from "../../ipvs/parse-ipvsadm.ts";
import type { Finding } from "../../model/finding.ts";
import { parseDump } from "../../parse/parse-dump.ts";
import {
  HANDBOOK_CLUSTER,
  IPVS_CLUSTER,
  IPVS_NODE,
  IPVS_NODE_IP,
} from "../../testing/netpol-ipvs-cluster.ts";
import { detectIpvsMode } from "./ipvs-mode.ts";
import { reconcileIpvs } from "./reconcile-ipvs.ts";
import { reconcileIpvsIpsets } from "./reconcile-ipvs-ipsets.ts";

const DIR = resolve(process.cwd(), "testdata/netpol/ipvs");
const read = (f: string) => readFileSync(resolve(DIR, f), "utf8");
const opts = { node: IPVS_NODE, nodeIps: [IPVS_NODE_IP], serviceCidr: "10.43.0.0/16" };
const serious = (fs: readonly Finding[]) => fs.filter((f) => f.severity !== "info");

describe("reconcileIpvs()", () => {
  it("finds nothing wrong on a healthy node; the terminating endpoint's weight-0 server is draining", () => {
    const table = parseIpvsadm(read("healthy.ipvsadm.txt"), { file: "nodes/node1/ipvsadm.txt" });
    expect(table.warnings).toEqual([]);
    const fs = reconcileIpvs(IPVS_CLUSTER, table, opts);
    expect(serious(fs)).toEqual([]);
    expect(fs.map((f) => [f.code, f.evidence[0]?.line])).toEqual([["ipvs-real-server-draining", 9]]);
    expect(fs[0]!.message).toBe(
      "shop/web: real server 10.42.0.8:8080 of tcp 10.43.12.7:80 has weight 0 because its endpoint is terminating: graceful termination, normal while its connections last (`ipvsadm -Ln` shows how many)",
    );
  });

  it("finds the stale real server, the missing virtual server and the leftover one", () => {
    const table = parseIpvsadm(read("stale.ipvsadm.txt"), { file: "nodes/node1/ipvsadm.txt" });
    const fs = serious(reconcileIpvs(IPVS_CLUSTER, table, opts));
    expect(fs.map((f) => [f.code, f.severity, f.service ?? null, f.evidence[0]?.text ?? null])).toEqual([
      ["ipvs-real-server-stale", "error", "shop/web", "-a -t 10.43.12.7:80 -r 10.42.2.44:8080 -m -w 1"],
      ["ipvs-virtual-server-missing", "error", "shop/api", "Service shop/api"],
      ["ipvs-virtual-server-stale", "warning", null, "-A -t 10.43.99.9:80 -s rr"],
    ]);
  });

  it("tells a lingering weight-0 server (no connections, no endpoint) from one still draining", () => {
    const table = parseIpvsadm(read("lingering.ipvsadm-Ln.txt"), { file: "nodes/node1/ipvsadm.txt" });
    const web = {
      ...IPVS_CLUSTER,
      services: IPVS_CLUSTER.services
        .filter((s) => s.metadata.name === "web")
        .map((s) => ({
          ...s,
          type: "ClusterIP" as const,
          ports: s.ports.map(({ nodePort: _n, ...p }) => p),
        })),
    };
    const fs = reconcileIpvs(web, table, opts).filter((f) => f.message.includes("10.42.3."));
    expect(fs.map((f) => [f.code, f.severity])).toEqual([
      ["ipvs-real-server-stale", "warning"],
      ["ipvs-real-server-draining", "info"],
    ]);
    expect(fs[1]!.message).toContain("normal while its 5 connection(s) drain");
  });

  const handbook = resolve(process.cwd(), "../shared/realworld/kube-proxy-ipvs-handbook.ipvsadm.txt");
  it.runIf(existsSync(handbook))(
    "reconciles the published kubernetes-handbook listing with its Services cleanly",
    () => {
      const table = parseIpvsadm(readFileSync(handbook, "utf8"), {
        file: "kube-proxy-ipvs-handbook.ipvsadm.txt",
      });
      expect(reconcileIpvs(HANDBOOK_CLUSTER, table, { node: "n", nodeIps: [] })).toEqual([]);
      // Without ClientIP affinity the same listing still reconciles: persistence is not a finding today.
      const dropped = { ...HANDBOOK_CLUSTER, endpointSlices: HANDBOOK_CLUSTER.endpointSlices.slice(1) };
      expect(reconcileIpvs(dropped, table, { node: "n", nodeIps: [] }).map((f) => f.code)).toEqual([
        "ipvs-real-server-stale",
      ]);
    },
  );
});

describe("reconcileIpvsIpsets()", () => {
  it("finds nothing wrong with the healthy node's sets", () => {
    const sets = parseIpsetSave(read("healthy.ipset-save.txt"), { file: "nodes/node1/ipset-save.txt" });
    expect(reconcileIpvsIpsets(IPVS_CLUSTER, sets, { node: IPVS_NODE })).toEqual([]);
  });

  it("finds a missing ClusterIP entry and a stale node port", () => {
    const text = read("healthy.ipset-save.txt")
      .replace("add KUBE-CLUSTER-IP 10.43.20.5,tcp:8443\n", "")
      .replace(
        "add KUBE-NODE-PORT-TCP 30081\n",
        "add KUBE-NODE-PORT-TCP 30081\nadd KUBE-NODE-PORT-TCP 31999\n",
      );
    const sets = parseIpsetSave(text, { file: "nodes/node1/ipset-save.txt" });
    const fs = reconcileIpvsIpsets(IPVS_CLUSTER, sets, { node: IPVS_NODE });
    expect(fs.map((f) => [f.code, f.severity, f.message])).toEqual([
      [
        "ipvs-ipset-entry-missing",
        "error",
        "shop/api: KUBE-CLUSTER-IP lacks 10.43.20.5,tcp:8443: the IPVS glue rules do not recognise this ClusterIP:port",
      ],
      [
        "ipvs-ipset-entry-stale",
        "warning",
        "KUBE-NODE-PORT-TCP holds 31999, which no current Service node port explains",
      ],
    ]);
  });
});

describe("detectIpvsMode()", () => {
  it("recognises kube-proxy's IPVS glue by its KUBE-CLUSTER-IP set match, with the rule as evidence", () => {
    const r = detectIpvsMode(parseDump(read("healthy.iptables-save.txt")), "nodes/node1/iptables-save.txt");
    expect(r.ipvs).toBe(true);
    expect(r.evidence[0]?.text).toContain("--match-set KUBE-CLUSTER-IP dst,dst");
  });

  it("says no for an iptables-mode dump", () => {
    expect(
      detectIpvsMode(parseDump("*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\nCOMMIT\n"), "f").ipvs,
    ).toBe(false);
  });
});
