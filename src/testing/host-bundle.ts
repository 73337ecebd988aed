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

/** flannel's iptables-nft rules on a k3s node (its `FLANNEL-POSTRTG` / `FLANNEL-FWD`), pod CIDR `cidr`. */
export function flannelRules(cidr: string): string {
  return `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:FLANNEL-POSTRTG - [0:0]
-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
-A FLANNEL-POSTRTG -s ${cidr} -d ${cidr} -m comment --comment "flanneld masq" -j RETURN
-A FLANNEL-POSTRTG -s ${cidr} ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:FLANNEL-FWD - [0:0]
-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD
-A FLANNEL-FWD -s ${cidr} -m comment --comment "flanneld forward" -j ACCEPT
-A FLANNEL-FWD -d ${cidr} -m comment --comment "flanneld forward" -j ACCEPT
COMMIT
`;
}

/** knftables transaction text (kube-proxy's fixtures) in an order `nft -f` loads: declarations first. */
export function loadableKnftables(text: string): string {
  const lines = text.split("\n");
  const decl = lines.filter((l) => /^add (table|set|map|chain) /.test(l));
  return [...decl, ...lines.filter((l) => !decl.includes(l))].join("\n");
}
