/**
 * mixed-iptables-backends (issue 15 item 4, KB-07) on bundles the real tools printed: the demo's
 * healthy master1 with kube-proxy rules left in the other iptables backend, loaded with
 * iptables-legacy-restore / iptables-nft-restore into a throw-away namespace and read back with
 * iptables-legacy-save, iptables-nft-save and nft (src/testing/host-bundle.ts). Expectations are
 * hand-written: the finding cites both files, and a second backend without Kubernetes' chains gets
 * only the milder iptables-mixed-backends.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildBundle } from "../demo/build-bundle.ts";
import { DEMO_HEALTHY_FROM, DEMO_TO } from "../demo/incident.ts";
import type { Finding } from "../model/finding.ts";
import { commandUnavailable, netnsUnavailable, skipBecause } from "../testing/capabilities.ts";
import { healthyCluster } from "../testing/demo-bundles.ts";
import { realNodeFiles } from "../testing/host-bundle.ts";
import { nftUnavailable } from "../testing/nft-lab.ts";
import { writeBundleFiles } from "./demo-bundle.ts";
import { diagnoseBundleDir } from "./diagnose-bundle-dir.ts";

const skip = skipBecause(
  netnsUnavailable() ?? nftUnavailable() ?? commandUnavailable("iptables-legacy-restore"),
  "mixed iptables backends (real iptables-legacy, iptables-nft and nft in a netns)",
);

/** What a kube-proxy of the other backend left: its Service chains, DNAT to an old pod IP. */
const STALE_KUBE_PROXY = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-NSJVJHFONQ4S5KJM - [0:0]
:KUBE-SEP-OLD0000000000000 - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-SERVICES -d 10.43.176.183/32 -p tcp -m tcp --dport 8848 -j KUBE-SVC-NSJVJHFONQ4S5KJM
-A KUBE-SVC-NSJVJHFONQ4S5KJM -j KUBE-SEP-OLD0000000000000
-A KUBE-SEP-OLD0000000000000 -p tcp -m tcp -j DNAT --to-destination 10.42.2.17:8848
COMMIT
`;

/** A hand-written legacy rule that is not Kubernetes'. */
const LEGACY_HOST_RULE = `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp -m tcp --dport 2222 -j ACCEPT
COMMIT
`;

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** The healthy demo bundle with master1's files from the namespace (`swap`: legacy is iptables-save). */
async function bundle(legacy: string, swap: boolean): Promise<string> {
  const files = buildBundle(healthyCluster());
  const nftRules = files.get("nodes/master1/iptables-save.txt")!;
  const real = realNodeFiles(
    swap ? { iptablesNft: STALE_KUBE_PROXY, legacy: nftRules } : { iptablesNft: nftRules, legacy },
  );
  for (const name of ["nft-ruleset.json", "nft-ruleset.txt"])
    files.set(`nodes/master1/${name}`, real.get(name)!);
  if (swap) files.set("nodes/master1/iptables-save.txt", real.get("iptables-legacy-save.txt")!);
  else {
    files.set("nodes/master1/iptables-save.txt", real.get("iptables-save.txt")!);
    files.set("nodes/master1/iptables-legacy-save.txt", real.get("iptables-legacy-save.txt")!);
  }
  const dir = await mkdtemp(join(tmpdir(), "nd-hostfw-mixed-"));
  dirs.push(dir);
  await writeBundleFiles(dir, files);
  return dir;
}

const on = (fs: readonly Finding[], code: string) =>
  fs.filter((f) => f.code === code && f.node === "master1");

describe.skipIf(skip)("mixed-iptables-backends on bundles from the real tools", () => {
  it("fires for kube-proxy chains left in legacy beside nf_tables, citing both files", {
    timeout: 120_000,
  }, async () => {
    const d = await diagnoseBundleDir(await bundle(STALE_KUBE_PROXY, false));
    const [f, ...more] = on(d.findings, "mixed-iptables-backends");
    expect(more).toEqual([]);
    expect(f?.severity).toBe("warning");
    expect(f?.message).toContain("3 in legacy (nodes/master1/iptables-legacy-save.txt)");
    expect(f?.message).toContain("by the same name (KUBE-SERVICES, KUBE-SVC-NSJVJHFONQ4S5KJM)");
    expect(f?.evidence.map((e) => [e.file, e.text])).toEqual([
      ["nodes/master1/iptables-legacy-save.txt", ":KUBE-SERVICES - [0:0]"],
      ["nodes/master1/iptables-save.txt", ":KUBE-SERVICES - [0:0]"],
    ]);
    // The specific finding replaces the generic one.
    expect(on(d.findings, "iptables-mixed-backends")).toEqual([]);
  });

  it("leaves the question undecided: which nat table DNATs first (same priority) is not in the dumps", {
    timeout: 120_000,
  }, async () => {
    const dir = await bundle(STALE_KUBE_PROXY, false);
    const d = await diagnoseBundleDir(dir, { from: DEMO_HEALTHY_FROM, to: DEMO_TO });
    // iptables-nft's nat sends the packet to 10.42.1.23 (ready), the legacy leftover to 10.42.2.17:
    // both run at priority -100, in an order only their registration time decides.
    expect(d.verdict).toBe("undecided");
    expect(d.undecidedAt).toBe("host-firewall");
    expect(d.steps.find((s) => s.check === "host-firewall")?.detail).toContain(
      "share priority -100 at prerouting",
    );
    expect(d.trace?.traces.every((t) => t.disposition.kind === "undecided")).toBe(true);
  });

  it("fires for a legacy iptables-save beside iptables-nft's kube-proxy tables in nft-ruleset.txt", {
    timeout: 120_000,
  }, async () => {
    const dir = await bundle("", true);
    const d = await diagnoseBundleDir(dir);
    const [f] = on(d.findings, "mixed-iptables-backends");
    expect(f?.evidence.map((e) => e.file)).toEqual([
      "nodes/master1/iptables-save.txt",
      "nodes/master1/nft-ruleset.txt",
    ]);
    expect(f?.evidence[1]?.text).toMatch(/^chain KUBE-SERVICES \{ # handle \d+$/);
  });

  it("leaves a second backend without Kubernetes chains to iptables-mixed-backends", {
    timeout: 120_000,
  }, async () => {
    const d = await diagnoseBundleDir(await bundle(LEGACY_HOST_RULE, false));
    expect(on(d.findings, "mixed-iptables-backends")).toEqual([]);
    expect(on(d.findings, "iptables-mixed-backends")).toHaveLength(1);
  });
});
