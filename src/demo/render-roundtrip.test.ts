/**
 * The kernel is the judge of the generator's format: every healthy node dump of the demo cluster is
 * loaded with the real iptables-restore into a throw-away namespace and saved again; apart from the
 * `#` header lines the text must come back byte for byte.
 */
import { execFileSync } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { netnsUnavailable, skipBecause } from "../testing/capabilities.ts";
import { healthyCluster } from "../testing/demo-bundles.ts";
import { buildBundle } from "./build-bundle.ts";

const skip = skipBecause(netnsUnavailable(), "generator round-trip through iptables-restore/iptables-save");
const created: string[] = [];
let n = 0;

function inNamespace<T>(fn: (ns: string) => T): T {
  const ns = `nd-diagnose-${process.pid}-${n++}`;
  execFileSync("ip", ["netns", "add", ns], { timeout: 10_000 });
  created.push(ns);
  try {
    return fn(ns);
  } finally {
    execFileSync("ip", ["netns", "del", ns], { timeout: 10_000 });
    created.splice(created.indexOf(ns), 1);
  }
}

afterAll(() => {
  for (const ns of created) execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" });
});

const body = (dump: string) =>
  dump
    .split("\n")
    .filter((l) => !l.startsWith("#"))
    .join("\n");

describe.skipIf(skip)("generated dumps survive a real iptables-restore/iptables-save round trip", () => {
  const files = buildBundle(healthyCluster());
  for (const node of ["master1", "master2", "prod-agent1"]) {
    it(`node ${node}`, () => {
      const dump = files.get(`nodes/${node}/iptables-save.txt`)!;
      const saved = inNamespace((ns) => {
        execFileSync("ip", ["netns", "exec", ns, "iptables-nft-restore"], { input: dump, timeout: 20_000 });
        return execFileSync("ip", ["netns", "exec", ns, "iptables-nft-save"], {
          encoding: "utf8",
          timeout: 20_000,
        });
      });
      expect(body(saved)).toBe(body(dump));
    });
  }
});
