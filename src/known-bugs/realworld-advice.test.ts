/**
 * The advice each real published dump of ../shared/realworld gets (see its SOURCES.md): written by
 * hand per file from what the file shows (its iptables version in the header, which rules are
 * copied and who owns them), never from the implementation. A known bug is named only where its
 * signature is in the file; a static firewall's copies name none.
 */
import { describe, expect, test } from "vitest";
import type { Finding } from "../model/finding.ts";
import type { TableName } from "../model/ruleset.ts";
import { evidenceFromDump, realworldDump } from "../testing/node-evidence-from-dump.ts";
import { KNOWN_BUGS } from "./known-bugs.ts";
import type { EvidenceFile } from "./node-evidence.ts";
import { nodeHealthFindings, scanHealthReport } from "./node-health.ts";

interface Expected {
  readonly file: string;
  /** What the file is, and why the expectation holds. */
  readonly why: string;
  /** `iptables -S` input of this table. */
  readonly table?: TableName;
  /** Lines the excerpt lacks that iptables -S would print (a grepped chain has no -N line). */
  readonly prefix?: string;
  readonly iptablesVersion?: string;
  /** The rules-duplicated finding: its severity and cause, or none when the file has no copies. */
  readonly duplicates:
    | {
        readonly severity: "warning" | "error";
        readonly cause: "known-bug" | "static" | "unexplained";
      }
    | undefined;
  /** The one known bug that must be named, if any; every other catalogue id must not be. */
  readonly names?: string;
  /** Text the rules-duplicated fix must hold. */
  readonly fixSays?: readonly string[];
}

const NONE = undefined;

const FILES: readonly Expected[] = [
  {
    file: "k8s-14870-leak-v1.4.7.save.txt",
    why: "CentOS 6 iptables 1.4.7; userspace kube-proxy's PREROUTING jump 4 times (kubernetes/kubernetes#14870)",
    duplicates: { severity: "warning", cause: "known-bug" },
    names: "iptables-no-check",
    fixSays: ["[iptables-no-check]", "1.4.11 or later"],
  },
  {
    file: "k8s-12839-reflowed-v1.4.7.save.txt",
    why: "iptables 1.4.7, kube-proxy's chains, but each rule once in the excerpt (PR #12839)",
    duplicates: NONE,
  },
  {
    file: "kube-router-1069-xtables-save-1.8.2.save.txt",
    why: "xtables-save 1.8.2 (nf_tables): the buggy version, but kubelet's KUBE-FIREWALL drop rule once and no other copy",
    duplicates: NONE,
  },
  {
    file: "kube-router-1676-dup-reflowed.rules.txt",
    why: "kube-router's node-port rule twice, grepped without header: no version, so no bug can be named",
    table: "filter",
    prefix: "-N KUBE-ROUTER-INPUT\n",
    duplicates: { severity: "warning", cause: "unexplained" },
    fixSays: ["kube-router's network-policy controller", "Collect `iptables --version`", "1.8.10"],
  },
  {
    file: "kube-router-1676-dup-reflowed.rules.txt",
    why: "the same with the node's iptables v1.8.10 that cloudnativelabs/kube-router#1676 is about",
    table: "filter",
    prefix: "-N KUBE-ROUTER-INPUT\n",
    iptablesVersion: "iptables v1.8.10 (nf_tables)\n",
    duplicates: { severity: "warning", cause: "known-bug" },
    names: "iptables-1.8.10-check",
    fixSays: ["[iptables-1.8.10-check]", "1.8.11"],
  },
  {
    file: "pastebin-bbWXHaTn.save.txt",
    why: "a game server's hand-written firewall (1.4.21): INPUT --dport 13001 ACCEPT twice",
    duplicates: { severity: "warning", cause: "static" },
    fixSays: ["No Kubernetes or container component owns these rules"],
  },
  {
    file: "gopherproxy-v1.4.8.save.txt",
    why: "a blocklist (1.4.8): three source REJECTs twice; iptables older than 1.4.11, but no component's rule",
    duplicates: { severity: "warning", cause: "static" },
    fixSays: ["iptables 1.4.8 (legacy) has no `iptables -C`"],
  },
  {
    file: "openwrt-AA-fixed-newline.save.txt",
    why: "an OpenWrt router (1.4.10): FORWARD's RELATED,ESTABLISHED ACCEPT twice",
    duplicates: { severity: "warning", cause: "static" },
    fixSays: ["iptables 1.4.10 (legacy) has no `iptables -C`"],
  },
  {
    file: "tumnet-router-2015-09-03.save.txt",
    why: "a university core router (1.4.14): 111 redundant copies in its own chains, a static ruleset's, so a warning",
    duplicates: { severity: "warning", cause: "static" },
  },
  { file: "home-user.save.txt", why: "a home router, each rule once", duplicates: NONE },
  { file: "medium-company.save.txt", why: "a company gateway, each rule once", duplicates: NONE },
  { file: "docker-topos4.1.save.txt", why: "a docker host, each rule once", duplicates: NONE },
  { file: "fedora27-firewalld-counters.save.txt", why: "firewalld on Fedora 27 (1.6.1)", duplicates: NONE },
  {
    file: "fedora27-firewalld-ip6tables.save.txt",
    why: "firewalld IPv6 (ip6tables 1.6.1)",
    duplicates: NONE,
  },
  { file: "firewalld-restore-completed.save.txt", why: "firewalld, no header", duplicates: NONE },
  { file: "k3s-single-node-counters-c.save.txt", why: "k3s on iptables 1.8.4, no copies", duplicates: NONE },
  { file: "k8s-istio-sidecar-pod.save.txt", why: "a pod's namespace with Istio", duplicates: NONE },
  {
    file: "k8s-kubeadm-flannel-master-1.8.4.save.txt",
    why: "kubeadm + flannel on 1.8.4, no copies",
    duplicates: NONE,
  },
  {
    file: "k8s-kubeadm-flannel-nft-1.8.10.save.txt",
    why: "kubeadm + flannel on 1.8.10, no copies",
    duplicates: NONE,
  },
  { file: "linux-gda-pl-v1.2.7a.save.txt", why: "iptables 1.2.7a (2003), each rule once", duplicates: NONE },
  { file: "moby-iptabler-portmap-bindlh.save.txt", why: "docker's golden ruleset", duplicates: NONE },
  { file: "shorewall-sqrl-akachan.save.txt", why: "Shorewall-generated router", duplicates: NONE },
  { file: "synology-ds414.save.txt", why: "a Synology NAS", duplicates: NONE },
  { file: "ufw-server2.save.txt", why: "ufw", duplicates: NONE },
  { file: "wireless-ct-helper.save.txt", why: "a router with CT helpers", duplicates: NONE },
  {
    file: "k8s-kubeadm-flannel-filter.S.txt",
    why: "iptables -S of a kubeadm node's filter table",
    table: "filter",
    duplicates: NONE,
  },
  {
    file: "moby-usernet-portmap-filter.S.txt",
    why: "iptables -S of docker's filter table",
    table: "filter",
    duplicates: NONE,
  },
];

/** Every catalogue id the findings name (`[id]` in a message or fix). */
function namedIds(findings: readonly Finding[]): string[] {
  const text = findings.map((f) => `${f.message} ${f.fix ?? ""}`).join("\n");
  return KNOWN_BUGS.map((b) => b.id).filter((id) => text.includes(`[${id}]`));
}

describe("advice on the real-world dumps", () => {
  for (const x of FILES) {
    test(`nodeHealthFindings() on ${x.file}${x.iptablesVersion === undefined ? "" : " with its iptables --version"}: ${x.why}`, () => {
      const text = realworldDump(x.file, `advice on ${x.file}`);
      if (text === undefined) return;
      const versionFile: EvidenceFile | undefined =
        x.iptablesVersion === undefined
          ? undefined
          : { file: "nodes/n/iptables-version.txt", text: x.iptablesVersion };
      const evidence = evidenceFromDump("n", `${x.prefix ?? ""}${text}`, {
        ...(x.table === undefined ? {} : { table: x.table }),
        ...(versionFile === undefined ? {} : { extra: { iptablesVersion: versionFile } }),
      });
      const findings = nodeHealthFindings(evidence);
      const dup = findings.filter((f) => f.code === "rules-duplicated");
      if (x.duplicates === undefined) {
        expect(dup).toEqual([]);
      } else {
        expect(dup.map((f) => f.severity)).toEqual([x.duplicates.severity]);
        const fix = dup[0]!.fix!;
        const cause = fix.startsWith("The copies match a known bug")
          ? "known-bug"
          : fix.startsWith("No Kubernetes or container component")
            ? "static"
            : fix.startsWith("No known iptables bug matches")
              ? "unexplained"
              : fix;
        expect(cause).toBe(x.duplicates.cause);
        for (const s of x.fixSays ?? []) expect(fix).toContain(s);
        if (x.duplicates.cause === "static") {
          expect(`${fix} ${dup[0]!.message}`).not.toMatch(/k3s|kubelet|1\.8\.\d/);
          expect(dup[0]!.references).toBeUndefined();
        }
      }
      expect(namedIds(findings)).toEqual(x.names === undefined ? [] : [x.names]);
      if (x.names === undefined) expect(JSON.stringify(findings)).not.toContain('k3s-io/k3s#3117"]');
    });
  }

  test("scanHealthReport() gives a dump without other evidence the same duplicate advice as a bundle node", () => {
    for (const name of [
      "k8s-14870-leak-v1.4.7.save.txt",
      "pastebin-bbWXHaTn.save.txt",
      "gopherproxy-v1.4.8.save.txt",
    ]) {
      const text = realworldDump(name, `scan advice on ${name}`);
      if (text === undefined) return;
      const evidence = evidenceFromDump("n", text);
      const fromScan = scanHealthReport([evidence.scan!]).findings.filter(
        (f) => f.code === "rules-duplicated",
      );
      const fromNode = nodeHealthFindings(evidence).filter((f) => f.code === "rules-duplicated");
      expect(fromScan).toEqual(fromNode);
    }
  });
});
