/**
 * renderNft() against the real tools: each demo dump (and the variants tests build: a leak, a node
 * that still rejects a Service as having no endpoints) is loaded with the real iptables-nft-restore
 * into a throw-away network namespace, and what the real `nft -j list ruleset` and `nft -a list
 * ruleset` print there must equal the demo's nft-ruleset.json and nft-ruleset.txt byte for byte.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { commandUnavailable, netnsUnavailable, skipBecause } from "../testing/capabilities.ts";
import { healthyCluster, smallIncident } from "../testing/demo-bundles.ts";
import { type BundleSpec, nodeDump } from "./build-bundle.ts";
import { renderNft } from "./render-nft.ts";

const skip = skipBecause(
  netnsUnavailable() ?? commandUnavailable("nft") ?? commandUnavailable("iptables-nft-restore"),
  "demo nft listing against the real iptables-nft and nft",
);

let counter = 0;

/** What the real nft lists after iptables-nft-restore loads `dump` into a fresh namespace. */
function realNft(dump: string): { json: string; text: string } {
  const ns = `nd-hostfw-${process.pid}-${counter++}`;
  const run = (args: string[], input?: string) =>
    execFileSync("ip", ["netns", "exec", ns, ...args], {
      input,
      stdio: "pipe",
      encoding: "utf8",
      timeout: 120_000,
    });
  execFileSync("ip", ["netns", "add", ns], { stdio: "pipe", timeout: 10_000 });
  try {
    run(["iptables-nft-restore"], dump);
    return { json: run(["nft", "-j", "list", "ruleset"]), text: run(["nft", "-a", "list", "ruleset"]) };
  } finally {
    execFileSync("ip", ["netns", "del", ns], { stdio: "pipe", timeout: 10_000 });
  }
}

/** master1 still syncing a Service whose endpoints are gone: kube-proxy's REJECT rules. */
function rejecting(): BundleSpec {
  const spec = healthyCluster();
  const slices = JSON.parse(JSON.stringify(spec.api.endpointslices));
  slices.items = slices.items.filter(
    (s: { metadata: { name: string } }) => !s.metadata.name.startsWith("eopx-order"),
  );
  return {
    ...spec,
    nodes: spec.nodes.map((n) =>
      n.name === "master1"
        ? { ...n, lastSynced: { services: spec.api.services, endpointslices: slices } }
        : n,
    ),
  };
}

const CASES: [string, BundleSpec, string][] = [
  ["healthy master1", healthyCluster(), "master1"],
  ["healthy master2", healthyCluster(), "master2"],
  ["leaking prod-agent1 (comment-last layout)", smallIncident(), "prod-agent1"],
  ["master1 rejecting a Service without endpoints", rejecting(), "master1"],
];

describe.skipIf(skip)("renderNft() against the real nft", () => {
  it.each(CASES)(
    "%s: nft-ruleset.json and .txt equal what nft lists",
    { timeout: 300_000 },
    (_, spec, name) => {
      const dump = nodeDump(spec, spec.nodes.find((n) => n.name === name)!);
      const real = realNft(dump);
      const ours = renderNft(dump);
      expect(ours.json).toBe(real.json);
      expect(ours.text).toBe(real.text);
    },
  );

  it("covers REJECT, a leak's copies and every table the demo writes", () => {
    const dumps = CASES.map(([, spec, name]) => nodeDump(spec, spec.nodes.find((n) => n.name === name)!));
    expect(dumps.some((d) => d.includes("-j REJECT"))).toBe(true);
    expect(dumps.some((d) => d.split("\n").length > 1000)).toBe(true);
    for (const t of ["*mangle", "*filter", "*nat"]) expect(dumps.every((d) => d.includes(t))).toBe(true);
  });
});
