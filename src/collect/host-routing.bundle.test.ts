/**
 * The whole-host trace's out-interface from the node's routes (issue 15 follow-up): the demo's
 * healthy question with master1's nft ruleset as the real nft prints it after a hand-written table
 * that matches on `oifname` is loaded beside master1's iptables-nft rules in a throw-away namespace
 * (src/testing/host-bundle.ts). master1's routes (the demo's ip-route.json) send 10.42.1.23 out of
 * flannel.1, so a drop of everything leaving by eth0 does not touch the question, and a drop of
 * what leaves by flannel.1 does. Without ip-route.json the out-interface is unknown: undecided.
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
import { realNodeFiles } from "../testing/host-bundle.ts";
import { nftUnavailable } from "../testing/nft-lab.ts";
import { writeBundleFiles } from "./demo-bundle.ts";
import { diagnoseBundleDir } from "./diagnose-bundle-dir.ts";

const skip = skipBecause(
  netnsUnavailable() ?? nftUnavailable(),
  "out-interface from ip-route.json (real nft in a netns)",
);

/** A hand-written egress policy: nothing forwarded may leave by `dev`. */
const dropOut = (dev: string) => `table inet filter {
  chain forward {
    type filter hook forward priority filter; policy accept;
    oifname "${dev}" drop
  }
}`;

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function bundle(nft: string, withoutRoutes = false): Promise<string> {
  const files = buildBundle(healthyCluster());
  const real = realNodeFiles({ nft, iptablesNft: files.get("nodes/master1/iptables-save.txt")! });
  for (const name of ["nft-ruleset.json", "nft-ruleset.txt"])
    files.set(`nodes/master1/${name}`, real.get(name)!);
  if (withoutRoutes) files.delete("nodes/master1/ip-route.json");
  const dir = await mkdtemp(join(tmpdir(), "nd-hostfw-route-"));
  dirs.push(dir);
  await writeBundleFiles(dir, files);
  return dir;
}

const ask = (dir: string) => diagnoseBundleDir(dir, { from: DEMO_HEALTHY_FROM, to: DEMO_TO });
const step = (d: Diagnosis, check: string) => d.steps.find((s) => s.check === check);

describe.skipIf(skip)("the whole-host trace's out-interface from ip-route.json", () => {
  it("proves a drop of eth0-bound traffic harmless: the packet leaves by flannel.1", {
    timeout: 120_000,
  }, async () => {
    const d = await ask(await bundle(dropOut("eth0")));
    expect(step(d, "host-firewall")?.status).toBe("ok");
    expect(d.verdict).toBe("reachable");
  });

  it("breaks at host-firewall when the drop is of what leaves by flannel.1", {
    timeout: 120_000,
  }, async () => {
    const d = await ask(await bundle(dropOut("flannel.1")));
    expect(d.brokenAt).toBe("host-firewall");
    const f = d.findings.find((x) => x.code === "host-firewall-drop")!;
    expect(f.message).toContain(
      "The nftables table inet filter on master1 drops 100% of the connections in chain forward",
    );
    expect(f.evidence[0]!.text).toMatch(/^oifname "flannel\.1" drop # handle \d+$/);
  });

  it("is undecided without ip-route.json: the out-interface is unknown", { timeout: 120_000 }, async () => {
    const d = await ask(await bundle(dropOut("eth0"), true));
    expect(step(d, "host-firewall")?.status).toBe("undecided");
    expect(step(d, "host-firewall")?.detail).toContain("the interface is not known");
    expect(d.verdict).toBe("undecided");
  });
});
