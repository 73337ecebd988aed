import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { labBundleDir } from "../../testing/hostnet-fixtures.ts";
import { runCliSource } from "../../testing/run-cli-source.ts";

const tmp = mkdtempSync(join(tmpdir(), "nd-trace-multihop-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const netdoctor = (args: readonly string[]) => runCliSource("trace", args);

describe("netdoctor trace --to (across nodes)", () => {
  it("shows both nodes' hops of a healthy pod-to-pod connection and exits 0", () => {
    const r = netdoctor([
      "--bundle",
      labBundleDir("healthy"),
      "--from",
      "default/a1",
      "--to",
      "default/b1:8080",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("on node node-a:");
    expect(r.stdout).toContain("on node node-b:");
    expect(r.stdout).toMatch(/vxlan on flannel\.1 to 198\.19\.255\.12:8472 \(node-b\)/);
    expect(r.stdout).toContain("delivered to pod default/b1");
  });

  it("follows a stale conntrack entry of the client's port to node-c, where nothing answers (exit 1)", () => {
    const r = netdoctor([
      "--bundle",
      labBundleDir("stale-conntrack-dns"),
      "--from",
      "default/a1",
      "--to",
      "kube-dns.kube-system:53",
      "--src",
      "198.18.1.10:40053",
      "-o",
      "json",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    const t = out.traces[0];
    expect(t.hops.map((h: { node: string }) => h.node)).toEqual(["node-a", "node-c"]);
    expect(t.hops[0].steps[0]).toMatchObject({
      kind: "conntrack",
      evidence: { file: "nodes/node-a/conntrack.txt" },
    });
    expect(t.disposition).toMatchObject({ kind: "neighbor-unreachable", ip: "198.18.3.10" });
  });

  it("without the client's port, the Service's current rule reaches the new DNS pod (exit 0)", () => {
    const r = netdoctor([
      "--bundle",
      labBundleDir("stale-conntrack-dns"),
      "--from",
      "default/a1",
      "--to",
      "kube-dns.kube-system:53",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("delivered to pod kube-system/coredns-new");
    expect(r.stdout).toMatch(/nat PREROUTING +line +\d+/);
  });

  it("is undecided (exit 3) and names the file when the endpoint node's routes are missing", () => {
    const dir = join(tmp, "no-route-file");
    cpSync(labBundleDir("healthy"), dir, { recursive: true });
    rmSync(join(dir, "nodes", "node-b", "ip-route.json"));
    const r = netdoctor(["--bundle", dir, "--from", "default/a1", "--to", "default/b1:8080", "-o", "json"]);
    expect(r.code).toBe(3);
    const d = JSON.parse(r.stdout).traces[0].disposition;
    expect(d).toMatchObject({ kind: "undecided", needs: "routing-table" });
    expect(d.reason).toContain("nodes/node-b/ip-route.json");
  });

  it("refuses --to without --bundle (exit 2)", () => {
    const r = netdoctor(["--dump", "testdata/trace/k3s-node.txt", "--from", "pod", "--to", "10.0.0.1:80"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--to");
  });
});
