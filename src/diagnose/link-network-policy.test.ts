/**
 * The network-policy link on the demo cluster with a NetworkPolicy on eopx-register, whose nodes'
 * iptables-save.txt and ipset-save.txt are what the real iptables-save and ipset save printed after
 * the kube-router chains were loaded into a namespace (src/testing/netpol-demo-bundle.ts). The
 * expectations are hand-written from the policy: gateway -> register:8848 is denied by ingress when
 * the policy admits only 9848, allowed when it admits 8848, and a stale source ipset on master2 is
 * a disagreement. Every cited line is read back from the file it names.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diagnoseBundleDir } from "../collect/diagnose-bundle-dir.ts";
import { DEMO_FROM } from "../demo/incident.ts";
import type { Diagnosis } from "../model/diagnosis.ts";
import { skipBecause } from "../testing/capabilities.ts";
import { type NetpolVariant, writeNetpolDemoBundle } from "../testing/netpol-demo-bundle.ts";
import { ipsetNetnsUnavailable } from "../testing/netpol-ipset-netns.ts";
import { runCliSource } from "../testing/run-cli-source.ts";

const skip = skipBecause(
  ipsetNetnsUnavailable(),
  "network-policy link on bundles with real iptables-save/ipset save output",
);
const QUESTION = { from: DEMO_FROM, to: "eopx-register:8848" };
let root = "";

async function bundle(variant: NetpolVariant, name: string = variant): Promise<string> {
  const dir = join(root, name);
  await writeNetpolDemoBundle(dir, variant);
  return dir;
}

const step = (d: Diagnosis) => d.steps.find((s) => s.check === "network-policy")!;

/** Every `file:line` the text cites, with the line read from the bundle. */
function cited(dir: string, text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/((?:nodes|cluster)\/[\w./-]+):(\d+)/g)) {
    const lines = readFileSync(join(dir, m[1]!), "utf8").split("\n");
    out.set(`${m[1]}:${m[2]}`, lines[Number(m[2]) - 1] ?? "");
  }
  return out;
}

describe.skipIf(skip)("networkPolicyLink() on bundles with real iptables-save and ipset save", () => {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "nd-netpol-link-"));
  });
  afterAll(async () => {
    if (root !== "") await rm(root, { recursive: true, force: true });
  });

  it("is broken at network-policy, naming the policy (API) and the node rule and ipset (master2, ingress)", async () => {
    const dir = await bundle("deny");
    const d = await diagnoseBundleDir(dir, QUESTION);
    expect(d.verdict).toBe("broken");
    expect(d.brokenAt).toBe("network-policy");
    const s = step(d);
    expect(s.findings).toEqual(["netpol-denied"]);
    expect(s.detail).toContain("isolated by eopx/register-from-gateway");
    const lines = cited(dir, s.detail);
    const rule = [...lines].find(([k]) => k.startsWith("nodes/master2/iptables-save.txt"));
    expect(rule?.[1]).toMatch(/^-A KUBE-POD-FW-\S+ .*POD name:eopx-register-0 namespace: eopx.* -j REJECT/);
    const sets = [...lines].filter(([k]) => k.startsWith("nodes/master2/ipset-save.txt")).map(([, v]) => v);
    // The source set of the policy holds the gateway: the rule that admits it is on another port.
    expect(sets).toContainEqual(expect.stringMatching(/^add KUBE-SRC-\S+ 10\.42\.2\.31 timeout 0$/));
    const f = d.findings.find((x) => x.code === "netpol-denied")!;
    const policy = f.evidence.find((e) => e.file === "cluster/networkpolicies.json")!;
    const json = readFileSync(join(dir, policy.file), "utf8").split("\n");
    // The cited line is the policy object's uid (read-network-policies cites the uid line).
    expect(json[policy.line! - 1]).toMatch(/"uid": "/);
    expect(json[policy.line! - 2]).toContain('"name": "register-from-gateway"');
    expect(d.summary).toContain('ECONNREFUSED ("Connection refused")');
  });

  it("is ok, naming the allowing policy and master2's marking rule, when the policy admits the port", async () => {
    const dir = await bundle("allow");
    const d = await diagnoseBundleDir(dir, QUESTION);
    // Proven across nodes: the packet is routed (cni0 -> flannel.1 on prod-agent1, flannel.1 -> cni0
    // on master2), so kube-router's `-m physdev --physdev-is-bridged` jumps do not match and the
    // plain jumps walk the pod chains, with each node's ipsets.
    expect(d.verdict).toBe("reachable");
    expect(d.steps.filter((x) => x.status !== "ok" && x.status !== "not-applicable")).toEqual([]);
    const s = step(d);
    expect(s.status).toBe("ok");
    expect(s.detail).toContain(
      "allowed by NetworkPolicy eopx/register-from-gateway (cluster/networkpolicies.json:",
    );
    const rule = [...cited(dir, s.detail)].find(([k]) => k.startsWith("nodes/master2/iptables-save.txt"));
    expect(rule?.[1]).toMatch(
      /^-A KUBE-NWPLCY-\S+ .*selected by policy name register-from-gateway namespace eopx.* -j MARK/,
    );
    // `netdoctor diagnose` exits 0 only on a proven path.
    const cli = runCliSource("diagnose", ["--bundle", dir, "--from", QUESTION.from, "--to", QUESTION.to]);
    expect(cli.stdout).toContain("VERDICT: REACHABLE");
    expect(cli.code).toBe(0);
  });

  it("is netpol-node-disagrees when master2's ipset misses the client's IP", async () => {
    const dir = await bundle("stale-ipset");
    const d = await diagnoseBundleDir(dir, QUESTION);
    expect(d.brokenAt).toBe("network-policy");
    expect(step(d).findings).toEqual(["netpol-node-disagrees"]);
    expect(readFileSync(join(dir, "nodes/master2/ipset-save.txt"), "utf8")).not.toContain("10.42.2.31");
  });

  it("is broken by an egress policy on the client, proven on the client's node (prod-agent1)", async () => {
    const dir = await bundle("egress-deny");
    const d = await diagnoseBundleDir(dir, QUESTION);
    expect(d.brokenAt).toBe("network-policy");
    const s = step(d);
    expect(s.detail).toContain(
      "egress of eopx/eopx-gateway-7d9c6b8f5-x4kq2 is isolated by eopx/gateway-dns-only",
    );
    const rule = [...cited(dir, s.detail)].find(([k]) => k.startsWith("nodes/prod-agent1/iptables-save.txt"));
    expect(rule?.[1]).toMatch(
      /^-A KUBE-POD-FW-\S+ .*POD name:eopx-gateway-7d9c6b8f5-x4kq2 namespace: eopx.* -j REJECT/,
    );
  });

  it("breaks the dns link (netpol-dns-denied) when an egress policy leaves out DNS, proven on prod-agent1", async () => {
    const dir = await bundle("egress-no-dns");
    const d = await diagnoseBundleDir(dir, QUESTION);
    expect(d.brokenAt).toBe("dns");
    const dns = d.steps.find((s) => s.check === "dns")!;
    expect(dns.findings).toEqual(["netpol-dns-denied"]);
    expect(dns.detail).toContain("eopx/gateway-to-register");
    const rule = [...cited(dir, dns.detail)].find(([k]) =>
      k.startsWith("nodes/prod-agent1/iptables-save.txt"),
    );
    expect(rule?.[1]).toMatch(
      /^-A KUBE-POD-FW-\S+ .*POD name:eopx-gateway-7d9c6b8f5-x4kq2 namespace: eopx.* -j REJECT/,
    );
    // The connection itself is allowed by the same policy.
    expect(step(d)).toMatchObject({ status: "ok", findings: ["netpol-allowed"] });
  });

  it("is at risk (netpol-not-enforced) when the endpoint's node runs no NetworkPolicy controller", async () => {
    const dir = await bundle("not-enforced");
    const d = await diagnoseBundleDir(dir, QUESTION);
    // What is proven: master2 has no kube-router chains, so its FORWARD lets the packet through and
    // the connection works today; the policy that would deny it is the risk.
    expect(d.verdict).toBe("reachable");
    expect(d.atRisk).toContain("network-policy");
    expect(step(d)).toMatchObject({ status: "at-risk", findings: ["netpol-not-enforced"] });
    expect(step(d).detail).toContain('node "master2" has no NetworkPolicy controller\'s rules');
  });

  it("is undecided, asking for master2's ipset save, when the allowing rule needs it", async () => {
    const dir = await bundle("allow", "no-ipsets");
    await unlink(join(dir, "nodes/master2/ipset-save.txt"));
    const d = await diagnoseBundleDir(dir, QUESTION);
    expect(d.verdict).toBe("undecided");
    // The first link to stop is master2's host firewall (its whole-host walk meets kube-router's
    // set match before any other table); it says which set and file it could not read.
    expect(d.undecidedAt).toBe("host-firewall");
    const fw = d.steps.find((x) => x.check === "host-firewall")!;
    expect(fw.status).toBe("undecided");
    expect(fw.detail).toMatch(/on master2 .*ipset KUBE-SRC-\w+ cannot be read: .*ipset-save\.txt/);
    expect(step(d)).toMatchObject({ status: "undecided", missing: "nodes/master2/ipset-save.txt" });
    expect(step(d).howToGet).toContain("ipset save > nodes/master2/ipset-save.txt");
    // The path stops at the same place: master2's allowing rule matches on its source ipset.
    const end = d.steps.find((x) => x.check === "endpoint-node")!;
    expect(end).toMatchObject({ status: "undecided", missing: "nodes/master2/ipset-save.txt" });
    expect(end.detail).toMatch(/Cannot decide line \d+: ipset membership: ipset KUBE-SRC-/);
  });

  it("without master2's ipsets a denial no ipset can lift is still proven (the port matches no rule)", async () => {
    const dir = await bundle("deny", "deny-no-ipsets");
    await unlink(join(dir, "nodes/master2/ipset-save.txt"));
    const d = await diagnoseBundleDir(dir, QUESTION);
    // The API verdict has no node proof (the link needs the ipsets to name the node's rule)...
    expect(step(d)).toMatchObject({ status: "undecided", missing: "nodes/master2/ipset-save.txt" });
    // ...but the packet's path is proven: every allowing rule of the policy's chain is for 9848,
    // so whatever the sets hold the pod chain's REJECT is reached (rule read back from the file).
    expect(d.verdict).toBe("broken");
    expect(d.brokenAt).toBe("endpoint-node");
    const rule = [...cited(dir, d.steps.find((x) => x.check === "endpoint-node")!.detail)].find(([k]) =>
      k.startsWith("nodes/master2/iptables-save.txt"),
    );
    expect(rule?.[1]).toMatch(/^-A KUBE-POD-FW-\S+ .*POD name:eopx-register-0 namespace: eopx.* -j REJECT/);
    expect(d.summary).toContain('ECONNREFUSED ("Connection refused")');
  });

  it("is ok with one line when there are no policies, undecided without the file", async () => {
    const dir = await bundle("allow", "no-policies");
    await writeFile(
      join(dir, "cluster/networkpolicies.json"),
      '{"apiVersion":"v1","kind":"List","items":[]}\n',
    );
    const none = step(await diagnoseBundleDir(dir, QUESTION));
    expect(none).toMatchObject({ status: "ok", detail: expect.stringMatching(/^no NetworkPolicy in/) });
    await unlink(join(dir, "cluster/networkpolicies.json"));
    const absent = step(await diagnoseBundleDir(dir, QUESTION));
    expect(absent).toMatchObject({
      status: "undecided",
      missing: expect.stringContaining("cluster/networkpolicies.json"),
    });
  });
});
