/**
 * The route, overlay and endpoint-node links on bundles captured from the overlay lab
 * (testdata/hostnet/lab; the kernel's outcome of each is in src/testing/overlay-lab-cases*.ts, and
 * overlay-lab.test.ts runs every case live). Expectations are written by hand from the lab's layout.
 */
import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { diagnoseBundleDir } from "../collect/diagnose-bundle-dir.ts";
import type { Diagnosis } from "../model/diagnosis.ts";
import { labBundleDir } from "../testing/hostnet-fixtures.ts";

const tmp = mkdtempSync(join(tmpdir(), "nd-link-host-path-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function copy(name: string, as: string): string {
  const dir = join(tmp, as);
  cpSync(labBundleDir(name), dir, { recursive: true });
  return dir;
}

function links(d: Diagnosis) {
  return Object.fromEntries(
    ["route", "overlay", "endpoint-node"].map((c) => [
      c,
      d.steps.find((s) => s.check === c)?.status ?? "absent",
    ]),
  );
}

describe("route, overlay and endpoint-node links", () => {
  it("hostPathLinks() proves a healthy cross-node path and records the trace of both nodes", async () => {
    const d = await diagnoseBundleDir(labBundleDir("healthy"), {
      from: "default/a1",
      to: "198.18.2.10:8080",
    });
    expect(links(d)).toEqual({ route: "ok", overlay: "ok", "endpoint-node": "ok" });
    expect(d.pathTrace?.traces[0]?.hops.map((h) => h.node)).toEqual(["node-a", "node-b"]);
    expect(d.findings.filter((f) => f.severity === "error")).toEqual([]);
  });

  it("hostPathLinks() leaves route and overlay out of a same-node connection", async () => {
    const d = await diagnoseBundleDir(labBundleDir("healthy"), {
      from: "default/a1",
      to: "198.18.1.11:8080",
    });
    expect(links(d)).toEqual({ route: "not-applicable", overlay: "not-applicable", "endpoint-node": "ok" });
  });

  // node-b needs its routes to receive VXLAN at all (rp_filter on the outer packet), so the path
  // stops before decapsulation: the overlay is what cannot be proven.
  it("hostPathLinks() is undecided at the overlay without the receiver's routes, naming the file and the command", async () => {
    const dir = copy("healthy", "no-route-b");
    rmSync(join(dir, "nodes", "node-b", "ip-route.json"));
    const d = await diagnoseBundleDir(dir, { from: "default/a1", to: "198.18.2.10:8080" });
    expect(links(d)).toEqual({ route: "ok", overlay: "undecided", "endpoint-node": "not-applicable" });
    const step = d.steps.find((s) => s.check === "overlay")!;
    expect(step.missing).toContain("nodes/node-b/ip-route.json");
    expect(step.howToGet).toContain("ip -j route show table all");
    expect(d.verdict).not.toBe("reachable");
  });

  it("hostPathLinks() is undecided on the client node without its neighbour table (never ok)", async () => {
    const dir = copy("healthy", "no-neigh-a");
    rmSync(join(dir, "nodes", "node-a", "ip-neigh.json"));
    const d = await diagnoseBundleDir(dir, { from: "default/a1", to: "198.18.2.10:8080" });
    const s = d.steps.find((x) => x.check === "overlay")!;
    expect(s.status).toBe("undecided");
    expect(s.missing).toContain("nodes/node-a/ip-neigh.json");
  });

  it("hostPathLinks() is undecided past decapsulation without the endpoint node's rules, asking for its iptables-save", async () => {
    const dir = copy("healthy", "no-rules-b");
    rmSync(join(dir, "nodes", "node-b", "iptables-save.txt"));
    const d = await diagnoseBundleDir(dir, { from: "default/a1", to: "198.18.2.10:8080" });
    const undecided = d.steps.filter(
      (s) => s.status === "undecided" && ["overlay", "endpoint-node"].includes(s.check),
    );
    expect(undecided).toHaveLength(1);
    expect(undecided[0]!.missing).toBe("nodes/node-b/iptables-save.txt");
    expect(undecided[0]!.howToGet).toContain("iptables-save > nodes/node-b/iptables-save.txt");
    const t = d.pathTrace!.traces[0]!;
    expect(t.disposition).toMatchObject({ kind: "undecided", needs: "node-rules" });
  });

  it("hostPathLinks() is undecided, naming each missing file and its command, for a bundle collected before host files existed", async () => {
    const dir = copy("healthy", "old-bundle");
    for (const node of ["node-a", "node-b", "node-c"])
      for (const f of readdirSync(join(dir, "nodes", node)))
        if (!f.startsWith("iptables") && !f.startsWith("nft")) rmSync(join(dir, "nodes", node, f));
    const d = await diagnoseBundleDir(dir, { from: "default/a1", to: "198.18.2.10:8080" });
    expect(d.verdict).toBe("undecided");
    expect(d.ok).toBe(false);
    expect(links(d)).toEqual({
      route: "undecided",
      overlay: "not-applicable",
      "endpoint-node": "not-applicable",
    });
    const route = d.steps.find((s) => s.check === "route")!;
    expect(route.missing).toContain("nodes/node-a/ip-route.json");
    expect(route.howToGet).toContain("`ip -j route show table all > nodes/node-a/ip-route.json`");
    expect(route.howToGet).toContain("`netdoctor collect --nodes node-a,node-b`");
  });

  it("hostPathLinks() is undecided at the endpoint's node when only that node lacks its host files", async () => {
    const dir = copy("healthy", "half-bundle");
    for (const f of readdirSync(join(dir, "nodes", "node-b")))
      if (!f.startsWith("iptables") && !f.startsWith("nft")) rmSync(join(dir, "nodes", "node-b", f));
    const d = await diagnoseBundleDir(dir, { from: "default/a1", to: "198.18.2.10:8080" });
    expect(d.verdict).toBe("undecided");
    // node-a sends VXLAN to an address no node of the bundle shows: node-b's files are named.
    expect(links(d)).toEqual({
      route: "undecided",
      overlay: "not-applicable",
      "endpoint-node": "not-applicable",
    });
    const route = d.steps.find((s) => s.check === "route")!;
    expect(route.missing).toContain("nodes/node-b/ip-addr.json");
    expect(route.missing).not.toContain("nodes/node-a/");
    expect(route.howToGet).toContain("`netdoctor collect --nodes node-b`");
  });

  it("hostPathLinks() ties the client's stale UDP conntrack entry to the DNS Service and follows it to the dead pod", async () => {
    const d = await diagnoseBundleDir(labBundleDir("stale-conntrack-dns"), {
      from: "default/a1",
      to: "198.19.0.10:53",
    });
    expect(links(d)).toEqual({ route: "ok", overlay: "ok", "endpoint-node": "broken" });
    const step = d.steps.find((s) => s.check === "endpoint-node")!;
    expect(step.findings).toEqual(["conntrack-stale-endpoint"]);
    expect(step.detail).toContain("port 40053");
    expect(step.detail).toContain("node-c");
    const f = d.findings.find((x) => x.code === "conntrack-stale-endpoint")!;
    expect(f.node).toBe("node-a");
    expect(f.service).toBe("kube-system/kube-dns");
    expect(f.evidence.map((e) => e.file)).toEqual(
      expect.arrayContaining(["nodes/node-a/conntrack.txt", "cluster/services.json"]),
    );
  });
});
