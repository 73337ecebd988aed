/**
 * diagnose's host-firewall link on the endpoint's node (issue 15 follow-up): the demo's healthy
 * question (eopx-order on master1 → eopx-register-0 on master2) with master2's nft ruleset as the
 * real tools print it after a native firewalld-like table is loaded beside master2's iptables-nft
 * rules in a throw-away namespace (src/testing/host-bundle.ts). Expectations are written by hand:
 * firewalld's final reject in filter_FORWARD stops the packet master2 forwards to the pod; once
 * it trusts the pod range, the question is reachable end to end; without master2's nft ruleset it
 * is undecided, naming that file.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildBundle } from "../demo/build-bundle.ts";
import { DEMO_HEALTHY_FROM, DEMO_TO } from "../demo/incident.ts";
import type { Diagnosis } from "../model/diagnosis.ts";
import { netnsUnavailable, skipBecause } from "../testing/capabilities.ts";
import { healthyCluster } from "../testing/demo-bundles.ts";
import { FIREWALLD, FIREWALLD_TRUSTED } from "../testing/firewalld-tables.ts";
import { realNodeFiles } from "../testing/host-bundle.ts";
import { nftUnavailable } from "../testing/nft-lab.ts";
import { writeBundleFiles } from "./demo-bundle.ts";
import { diagnoseBundleDir } from "./diagnose-bundle-dir.ts";

const skip = skipBecause(
  netnsUnavailable() ?? nftUnavailable(),
  "endpoint-node host firewall (real nft in a netns)",
);

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** The healthy demo bundle; master2's nft files from the real nft with `nft` loaded (or removed). */
async function bundle(nft: string | "none"): Promise<string> {
  const files = buildBundle(healthyCluster());
  if (nft === "none") {
    files.delete("nodes/master2/nft-ruleset.json");
    files.delete("nodes/master2/nft-ruleset.txt");
  } else {
    const real = realNodeFiles({ nft, iptablesNft: files.get("nodes/master2/iptables-save.txt")! });
    for (const name of ["nft-ruleset.json", "nft-ruleset.txt"])
      files.set(`nodes/master2/${name}`, real.get(name)!);
  }
  const dir = await mkdtemp(join(tmpdir(), "nd-hostfw-ep-"));
  dirs.push(dir);
  await writeBundleFiles(dir, files);
  return dir;
}

const ask = (dir: string) => diagnoseBundleDir(dir, { from: DEMO_HEALTHY_FROM, to: DEMO_TO });
const step = (d: Diagnosis, check: string) => d.steps.find((s) => s.check === check);

describe.skipIf(skip)("hostFirewallLink() on the endpoint's node", () => {
  it("is broken by firewalld's reject on master2, naming master2's table and rule", {
    timeout: 120_000,
  }, async () => {
    const d = await ask(await bundle(FIREWALLD));
    expect(d.verdict).toBe("broken");
    expect(d.brokenAt).toBe("host-firewall");
    const f = d.findings.find((x) => x.code === "host-firewall-drop")!;
    expect(f.node).toBe("master2");
    expect(f.message).toContain(
      "The nftables table inet firewalld on master2 rejects 100% of the connections",
    );
    expect(f.evidence[0]!.file).toBe("nodes/master2/nft-ruleset.txt");
    expect(f.evidence[0]!.text).toMatch(/^reject with icmpx (type )?admin-prohibited # handle \d+$/);
    // iptables alone (the multi-hop trace's filter on master2) lets it through.
    expect(step(d, "endpoint-node")?.status).toBe("ok");
  });

  it("proves the question end to end once master2's firewalld trusts the pod range", {
    timeout: 120_000,
  }, async () => {
    const d = await ask(await bundle(FIREWALLD_TRUSTED));
    expect(d.verdict).toBe("reachable");
    expect(step(d, "host-firewall")?.detail).toContain("on master2 (the endpoint's node)");
    expect(step(d, "host-firewall")?.detail).toContain("nft inet firewalld");
  });

  it("is undecided without master2's nft ruleset, naming that file", { timeout: 120_000 }, async () => {
    const d = await ask(await bundle("none"));
    expect(d.verdict).toBe("undecided");
    expect(d.undecidedAt).toBe("host-firewall");
    expect(step(d, "host-firewall")?.missing).toBe("nodes/master2/nft-ruleset.json");
    expect(step(d, "host-firewall")?.howToGet).toContain("netdoctor collect --nodes master2");
    expect(step(d, "endpoint-node")?.status).toBe("ok");
  });
});
