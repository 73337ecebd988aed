/**
 * diagnose and trace on bundles whose client node was read back with the real tools (issue 15): the
 * demo's healthy cluster, its client node's iptables rules loaded with iptables-nft-restore next to a
 * native nft table into a throw-away namespace, then dumped with `nft -j` / `nft -a` /
 * `iptables-nft-save` / `ip -j addr` (src/testing/host-bundle.ts). Expectations are written by hand.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
  "host-firewall bundles (real nft in a netns)",
);
const NODE = "master1";
const MAIN = resolve("src/cli/main.ts");

/** A hand-written /etc/nftables.conf that forgot the cluster: forward policy drop. */
const HAND_WRITTEN = `table inet filter {
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
  }
}`;

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** The healthy demo bundle with `nft` beside the client node's iptables rules, as the real tools print them. */
async function bundleWith(nft: string | undefined): Promise<string> {
  const files = buildBundle(healthyCluster());
  const real = realNodeFiles({
    ...(nft === undefined ? {} : { nft }),
    iptablesNft: files.get(`nodes/${NODE}/iptables-save.txt`)!,
    interfaces: [
      { name: "cni0", kind: "bridge", cidr: "10.42.0.1/24" },
      { name: "eth0", kind: "bridge", cidr: "192.168.10.11/24" },
    ],
  });
  for (const [name, text] of real) files.set(`nodes/${NODE}/${name}`, text);
  const dir = await mkdtemp(join(tmpdir(), "nd-hostfw-"));
  dirs.push(dir);
  await writeBundleFiles(dir, files);
  return dir;
}

const step = (d: Diagnosis, check: string) => d.steps.find((s) => s.check === check);

describe.skipIf(skip)("diagnose with the client node's nftables ruleset (issue 15)", () => {
  let plain: string;
  let firewalld: string;
  let handWritten: string;
  let trusted: string;
  beforeAll(async () => {
    [plain, firewalld, handWritten, trusted] = await Promise.all([
      bundleWith(undefined),
      bundleWith(FIREWALLD),
      bundleWith(HAND_WRITTEN),
      bundleWith(FIREWALLD_TRUSTED),
    ]);
  }, 120_000);

  const ask = (dir: string) => diagnoseBundleDir(dir, { from: DEMO_HEALTHY_FROM, to: DEMO_TO });

  it("proves host-firewall when only the iptables-nft tables are there: every table read, nothing broken", async () => {
    const d = await ask(plain);
    expect(step(d, "host-firewall")?.status).toBe("ok");
    expect(step(d, "host-firewall")?.detail).toContain(
      "iptables-nft filter (nodes/master1/iptables-save.txt)",
    );
    // ip-addr.json alone makes the across-nodes links (route, …) ask for the other host files:
    // nothing is broken, and the client node's links are proven.
    expect(d.brokenAt).toBeUndefined();
    expect(d.findings.filter((f) => f.severity === "error")).toEqual([]);
  });

  it("is broken at host-firewall by firewalld's final reject, while kube-proxy's rules say ok", async () => {
    const d = await ask(firewalld);
    expect(d.brokenAt).toBe("host-firewall");
    const f = d.findings.find((x) => x.code === "host-firewall-drop")!;
    expect(f.message).toBe(
      "The nftables table inet firewalld on master1 rejects 100% of the connections in chain filter_FORWARD (nodes/master1/nft-ruleset.txt:" +
        `${f.evidence[0]!.line} handle ${(f.evidence[0] as { handle?: number }).handle}): a host firewall, not Kubernetes' rules; the client gets EHOSTUNREACH ("No route to host (musl: Host is unreachable)")`,
    );
    expect(f.evidence[0]!.text).toMatch(/^reject with icmpx (type )?admin-prohibited # handle \d+$/);
    expect(f.fix).toContain("firewall-cmd --permanent --zone=trusted --add-source=");
    // The kube-proxy side is right: no kube-proxy finding.
    expect(d.findings.filter((x) => ["endpoint-stale", "endpoint-missing"].includes(x.code))).toEqual([]);
  });

  it("the text evidence line is the rule's own line in nft-ruleset.txt", async () => {
    const d = await ask(firewalld);
    const f = d.findings.find((x) => x.code === "host-firewall-drop")!;
    const { readFile } = await import("node:fs/promises");
    const lines = (await readFile(join(firewalld, "nodes/master1/nft-ruleset.txt"), "utf8")).split("\n");
    expect(lines[f.evidence[0]!.line! - 1]!.trim()).toBe(f.evidence[0]!.text);
  });

  it("is broken at host-firewall by a hand-written forward policy drop", async () => {
    const d = await ask(handWritten);
    expect(d.brokenAt).toBe("host-firewall");
    const f = d.findings.find((x) => x.code === "host-firewall-drop")!;
    expect(f.message).toContain(
      "The nftables table inet filter on master1 drops 100% of the connections in chain forward",
    );
    expect(f.message).toContain("the client times out (no answer)");
  });

  it("proves host-firewall again once firewalld trusts the pod range", async () => {
    const d = await ask(trusted);
    expect(step(d, "host-firewall")?.status).toBe("ok");
    // ip-addr.json alone makes the across-nodes links (route, …) ask for the other host files:
    // nothing is broken, and the client node's links are proven.
    expect(d.brokenAt).toBeUndefined();
    expect(d.findings.filter((f) => f.severity === "error")).toEqual([]);
  });

  it("with nft-ruleset.txt but no nft-ruleset.json the host-firewall link is undecided, naming the file", async () => {
    const dir = await bundleWith(FIREWALLD);
    await rm(join(dir, "nodes/master1/nft-ruleset.json"));
    const d = await ask(dir);
    expect(step(d, "host-firewall")?.status).toBe("undecided");
    expect(step(d, "host-firewall")?.missing).toBe(
      "native nftables tables (nodes/master1/nft-ruleset.json is missing)",
    );
    // iptables alone says the packet is delivered.
    expect(step(d, "node-dataplane")?.status).toBe("ok");
    expect(d.verdict).toBe("undecided");
  });

  it("without any nft file host-firewall is undecided, never ok: the firewalld table there is unseen", async () => {
    const dir = await bundleWith(FIREWALLD);
    await rm(join(dir, "nodes/master1/nft-ruleset.json"));
    await rm(join(dir, "nodes/master1/nft-ruleset.txt"));
    const d = await ask(dir);
    expect(step(d, "host-firewall")?.status).toBe("undecided");
    expect(step(d, "host-firewall")?.missing).toBe("nodes/master1/nft-ruleset.json");
    expect(step(d, "host-firewall")?.howToGet).toContain(
      "sudo nft -j list ruleset > nodes/master1/nft-ruleset.json",
    );
    expect(d.verdict).toBe("undecided");
    // ip-addr.json alone makes the across-nodes links (route, …) ask for the other host files:
    // nothing is broken, and the client node's links are proven.
    expect(d.brokenAt).toBeUndefined();
    expect(d.findings.filter((f) => f.severity === "error")).toEqual([]);
  });
});

describe.skipIf(skip)("netdoctor trace --bundle with nft-ruleset.json (issue 15)", () => {
  const trace = (dir: string, more: readonly string[]) =>
    spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        MAIN,
        "trace",
        "--bundle",
        dir,
        "--from",
        DEMO_HEALTHY_FROM,
        "--dst",
        "10.43.176.183:8848",
        ...more,
      ],
      { encoding: "utf8", timeout: 120_000 },
    );

  it("names every table read and the firewalld rule that rejects, with its handle", async () => {
    const dir = await bundleWith(FIREWALLD);
    const r = trace(dir, ["-o", "json"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.wholeHost).toBe(true);
    expect(out.tables).toEqual(
      expect.arrayContaining([
        "nft inet firewalld",
        "iptables-nft filter (nodes/master1/iptables-save.txt)",
        "iptables-nft nat (nodes/master1/iptables-save.txt)",
      ]),
    );
    expect(out.notRead).toEqual([]);
    const t = out.traces[0];
    expect(t.disposition).toMatchObject({
      kind: "rejected",
      rejectWith: "icmp-admin-prohibited",
      clientError: "EHOSTUNREACH",
    });
    const last = t.hops[0].steps.at(-1);
    expect(last).toMatchObject({
      kind: "filter",
      backend: "nft",
      family: "inet",
      table: "firewalld",
      chain: "filter_FORWARD",
      action: { kind: "reject", rejectWith: "icmp-admin-prohibited" },
      evidence: { file: "nodes/master1/nft-ruleset.txt", handle: expect.any(Number) },
    });
    // kube-proxy's DNAT came first, from iptables-save.
    const dnat = t.hops[0].steps.find((s: { kind: string }) => s.kind === "transform");
    expect(dnat).toMatchObject({
      backend: "iptables",
      table: "nat",
      evidence: { file: "nodes/master1/iptables-save.txt" },
    });
  });

  it("netdoctor diagnose exits 1, broken at host-firewall, naming the rule and the fix", async () => {
    const dir = await bundleWith(FIREWALLD);
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", MAIN, "diagnose", "--bundle", dir, "--from", DEMO_HEALTHY_FROM, "--to", DEMO_TO],
      { encoding: "utf8", timeout: 120_000 },
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^VERDICT: BROKEN at host-firewall$/m);
    expect(r.stdout).toMatch(
      /^ {4}nodes\/master1\/nft-ruleset\.txt:\d+ {2}reject with icmpx (type )?admin-prohibited # handle \d+$/m,
    );
    expect(r.stdout).toContain("firewall-cmd --permanent --zone=trusted --add-source=");
  });

  it("says which tables were not looked at without nft-ruleset.json, and keeps today's answer", async () => {
    const dir = await bundleWith(FIREWALLD);
    await rm(join(dir, "nodes/master1/nft-ruleset.json"));
    await rm(join(dir, "nodes/master1/nft-ruleset.txt"));
    const r = trace(dir, []);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("Traced through iptables-save.txt only.");
    expect(r.stdout).toContain(
      "Not looked at: native nftables tables (nodes/master1/nft-ruleset.json is missing)",
    );
  });
});
