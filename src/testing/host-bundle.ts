/**
 * A node directory's netfilter and interface files as the real tools print them: a native nft
 * ruleset, iptables-nft rules and legacy rules are loaded into a throw-away namespace (nft first:
 * `nft -f` flushes the whole ruleset), interfaces are created there, and the namespace is read back
 * with `nft -j list ruleset`, `nft -a list ruleset`, `iptables-nft-save`, `iptables-legacy-save` and
 * `ip -j addr` — the files `netdoctor collect` writes (docs/bundle.md). Only imported by tests.
 */
import { createIptablesNetns } from "./iptables-netns.ts";
import { loadNft } from "./nft-lab.ts";

export interface NodeRules {
  /** Native nft ruleset text (`table inet firewalld { … }`). */
  readonly nft?: string;
  /** iptables-restore input loaded with iptables-nft-restore. */
  readonly iptablesNft?: string;
  /** iptables-restore input loaded with iptables-legacy-restore. */
  readonly legacy?: string;
  /** Interfaces to create: bridges (no dummy module on every kernel), with one IPv4 address each. */
  readonly interfaces?: readonly { readonly name: string; readonly kind: "bridge"; readonly cidr: string }[];
}

/** The files of `nodes/NODE/` the real tools printed, keyed by file name. */
export function realNodeFiles(rules: NodeRules): Map<string, string> {
  const ns = createIptablesNetns("hostfw");
  try {
    loadNft(ns.name, rules.nft ?? "");
    if (rules.iptablesNft !== undefined) ns.restore(rules.iptablesNft, { backend: "nft", counters: true });
    if (rules.legacy !== undefined) ns.restore(rules.legacy, { backend: "legacy", counters: true });
    for (const i of rules.interfaces ?? []) {
      ns.exec("ip", ["link", "add", i.name, "type", i.kind]);
      ns.exec("ip", ["addr", "add", i.cidr, "dev", i.name]);
      ns.exec("ip", ["link", "set", i.name, "up"]);
    }
    const files = new Map<string, string>([
      ["nft-ruleset.json", ns.exec("nft", ["-j", "list", "ruleset"])],
      ["nft-ruleset.txt", ns.exec("nft", ["-a", "list", "ruleset"])],
      ["iptables-save.txt", ns.save({ backend: "nft", counters: true })],
      ["ip-addr.json", ns.exec("ip", ["-j", "addr"])],
    ]);
    if (rules.legacy !== undefined)
      files.set("iptables-legacy-save.txt", ns.save({ backend: "legacy", counters: true }));
    return files;
  } finally {
    ns.destroy();
  }
}
