import { beforeAll, describe, expect, it } from "vitest";
import { readHostEvidence } from "../collect/read-host-evidence.ts";
import type { Finding } from "../model/finding.ts";
import { editJsonItems, labBundleDir, labHostFiles } from "../testing/hostnet-fixtures.ts";
import type { HostPathInput } from "../trace/host-path-input.ts";
import { checkHostNetwork } from "./check-host-network.ts";
import type { FlannelNode } from "./flannel-node.ts";
import { type HostEvidence, parseHostEvidence } from "./host-evidence.ts";

// Bundles captured from the overlay lab (src/testing/overlay-lab-capture.ts); edits to them are the
// breakages each test names, stated by hand.
const bundles = new Map<string, HostPathInput>();
beforeAll(async () => {
  for (const name of ["healthy", "vtep-mac-changed", "asymmetric-rp-strict", "stale-conntrack-dns"]) {
    bundles.set(name, await readHostEvidence(labBundleDir(name)));
  }
});

type Edits = Readonly<Record<string, Readonly<Record<string, (text: string) => string | undefined>>>>;

function hostsOf(name: string, edits: Edits = {}): Map<string, HostEvidence> {
  const hosts = new Map<string, HostEvidence>();
  for (const node of ["node-a", "node-b", "node-c"]) {
    hosts.set(node, parseHostEvidence(labHostFiles(name, node, edits[node]), { node, dir: `nodes/${node}` }));
  }
  return hosts;
}

function run(
  name: string,
  options: { edits?: Edits; nodes?: (n: FlannelNode) => FlannelNode } = {},
): Finding[] {
  const b = bundles.get(name)!;
  return checkHostNetwork({
    hosts: hostsOf(name, options.edits),
    nodes: b.nodes.map(options.nodes ?? ((n) => n)),
    pods: b.pods,
    cluster: b.cluster,
  });
}

const codes = (fs: readonly Finding[], severities = ["error", "warning"]) =>
  [...new Set(fs.filter((f) => severities.includes(f.severity)).map((f) => `${f.code}@${f.node}`))].sort();

describe("checkHostNetwork()", () => {
  it("finds nothing at all on the healthy lab", () => {
    expect(run("healthy").map((f) => f.message)).toEqual([]);
  });

  it("reports stale FDB and neighbour entries for a changed VTEP MAC, with evidence on both nodes", () => {
    const fs = run("vtep-mac-changed");
    expect(codes(fs)).toEqual([
      "overlay-fdb-stale@node-a",
      "overlay-fdb-stale@node-c",
      "overlay-neighbor-stale@node-a",
      "overlay-neighbor-stale@node-c",
    ]);
    const fdb = fs.find((f) => f.code === "overlay-fdb-stale" && f.node === "node-a")!;
    expect(fdb.evidence.map((e) => e.file)).toEqual([
      "nodes/node-a/bridge-fdb.json",
      "cluster/nodes.json",
      "nodes/node-b/ip-link.json",
    ]);
    expect(fdb.evidence[1]?.line).toBeGreaterThan(1);
    expect(fdb.references).toContain("flannel-io/flannel#1788");
  });

  it("reports the wrong interface and the strict rp_filter of an asymmetric overlay path", () => {
    const fs = run("asymmetric-rp-strict");
    expect(codes(fs)).toEqual(["overlay-wrong-interface@node-b", "rp-filter-drop@node-b"]);
    expect(fs.find((f) => f.code === "overlay-wrong-interface")?.severity).toBe("warning");
    const rp = fs.find((f) => f.code === "rp-filter-drop")!;
    expect(rp.message).toMatch(/eth1.*route back to 198\.19\.255\.1[13] leaves by eth0/);
    expect(
      rp.evidence.some((e) => e.file === "nodes/node-b/sysctl.txt" && /rp_filter = 1/.test(e.text)),
    ).toBe(true);
  });

  it("ties a stale UDP conntrack entry to the Service whose ClusterIP it was for", () => {
    const fs = run("stale-conntrack-dns");
    expect(codes(fs)).toEqual(["conntrack-stale-endpoint@node-a"]);
    const f = fs[0]!;
    expect(f).toMatchObject({ severity: "error", service: "kube-system/kube-dns" });
    expect(f.message).toMatch(/198\.19\.0\.10:53.*198\.18\.3\.10/);
    expect(f.evidence.map((e) => e.file)).toEqual(["nodes/node-a/conntrack.txt", "cluster/services.json"]);
    expect(f.fix).toBe(
      "conntrack -D -p udp --reply-src 198.18.3.10 on node node-a (kube-proxy should have done it when the endpoint went away)",
    );
  });

  it("reports a missing route and a route without onlink", () => {
    const drop = editJsonItems((r) => (r.dst === "198.18.2.0/24" ? undefined : r));
    expect(codes(run("healthy", { edits: { "node-a": { "ip-route.json": drop } } }))).toEqual([
      "overlay-route-missing@node-a",
    ]);
    const noOnlink = editJsonItems((r) => (r.dst === "198.18.3.0/24" ? { ...r, flags: [] } : r));
    const fs = run("healthy", { edits: { "node-b": { "ip-route.json": noOnlink } } });
    expect(codes(fs)).toEqual(["overlay-route-wrong@node-b"]);
    expect(fs[0]?.message).toMatch(/no "onlink" flag/);
  });

  it("reports a missing FDB entry and a neighbour entry with another MAC", () => {
    const b = bundles.get("healthy")!;
    const macB = b.nodes.find((n) => n.name === "node-b")!.vtepMac;
    const dropFdb = editJsonItems((e) => (e.mac === macB ? undefined : e));
    const wrongNeigh = editJsonItems((n) =>
      n.dst === "198.18.2.0" ? { ...n, lladdr: "02:00:00:00:00:01" } : n,
    );
    expect(
      codes(
        run("healthy", { edits: { "node-c": { "bridge-fdb.json": dropFdb, "ip-neigh.json": wrongNeigh } } }),
      ),
    ).toEqual(["overlay-fdb-missing@node-c", "overlay-neighbor-stale@node-c"]);
  });

  it("reports a node whose device MAC is not the VtepMAC it announces", () => {
    const fs = run("healthy", {
      nodes: (n) => (n.name === "node-b" ? { ...n, vtepMac: "02:00:00:00:00:02" } : n),
    });
    expect(codes(fs)).toContain("overlay-vtep-mismatch@node-b");
    expect(codes(fs)).toContain("overlay-fdb-stale@node-a");
  });

  it("reports forwarding off, br_netfilter missing, and MTUs that disagree", () => {
    const fs = run("healthy", {
      edits: {
        "node-a": { "sysctl.txt": (t) => t.replace("net.ipv4.ip_forward = 1", "net.ipv4.ip_forward = 0") },
        "node-b": { "sysctl.txt": (t) => t.replace(/^net\.bridge\.bridge-nf-call-iptables = 1\n/m, "") },
        "node-c": {
          "ip-link.json": editJsonItems((l) => (l.ifname === "cni0" ? { ...l, mtu: 1500 } : l)),
          "flannel-subnet.env": (t) => t.replace("FLANNEL_MTU=1450", "FLANNEL_MTU=1400"),
        },
      },
    });
    expect(codes(fs)).toEqual([
      "bridge-nf-disabled@node-b",
      "ip-forward-disabled@node-a",
      "overlay-mtu-mismatch@node-c",
    ]);
    expect(fs.filter((f) => f.code === "overlay-mtu-mismatch").map((f) => f.severity)).toEqual([
      "warning",
      "warning",
    ]);
    expect(fs.find((f) => f.code === "bridge-nf-disabled")?.message).toMatch(/br_netfilter is not loaded/);
  });

  it("reports the VXLAN checksum-offload bug on kernels before 5.7 and behind NAT", () => {
    const old = run("healthy", { nodes: (n) => ({ ...n, kernelVersion: "4.19.0-17-amd64" }) });
    expect(codes(old)).toEqual([
      "overlay-checksum-offload@node-a",
      "overlay-checksum-offload@node-b",
      "overlay-checksum-offload@node-c",
    ]);
    expect(old[0]?.evidence[0]).toMatchObject({ file: "nodes/node-a/ethtool-k-flannel.1.txt", line: 5 });
    const off = run("healthy", {
      nodes: (n) => ({ ...n, kernelVersion: "4.19.0-17-amd64" }),
      edits: {
        "node-a": {
          "ethtool-k-flannel.1.txt": (t) =>
            t.replace("tx-checksum-ip-generic: on", "tx-checksum-ip-generic: off"),
        },
      },
    });
    expect(codes(off)).not.toContain("overlay-checksum-offload@node-a");
    const unknown = run("healthy", {
      nodes: (n) => {
        if (n.name !== "node-c") return n;
        const { kernelVersion: _, ...rest } = n;
        return rest;
      },
    });
    expect(codes(unknown, ["info"])).toEqual(["hostnet-undecided@node-c"]);
  });

  it("says undecided, never OK, for checks whose files are missing", () => {
    const fs = run("healthy", {
      edits: { "node-c": { "sysctl.txt": () => undefined, "bridge-fdb.json": () => undefined } },
    });
    expect(codes(fs)).toEqual([]);
    const info = fs.filter((f) => f.code === "hostnet-undecided");
    expect(info.map((f) => f.node)).toEqual(["node-c"]);
    expect(info[0]?.message).toMatch(
      /peer FDB entries.*forwarding, br_netfilter and rp_filter not checked; missing nodes\/node-c\/bridge-fdb\.json, nodes\/node-c\/sysctl\.txt/,
    );
  });

  it("leaves nodes that do not run flannel VXLAN out of the overlay checks", () => {
    const fs = run("healthy", { nodes: (n) => ({ ...n, backendType: "host-gw" }) });
    expect(fs).toEqual([]);
  });
});
