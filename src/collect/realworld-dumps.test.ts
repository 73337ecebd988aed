/**
 * Every real dump of ../shared/realworld (SOURCES.md says where each comes from) read through the
 * reading edge, each with its outcome written here by hand: the `-A` line counts come from
 * SOURCES.md, the duplicate counts from `awk | sort | uniq -c` over the files, the refusals and hints
 * from what each file is (its format column in SOURCES.md).
 */
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import type { ParseWarning } from "../model/ruleset.ts";
import { DumpSyntaxError } from "../parse/dump-syntax-error.ts";
import { readDump } from "./read-dump.ts";
import { scanFile } from "./scan-file.ts";

const REALWORLD = resolve(process.cwd(), "../shared/realworld");
const absent = !existsSync(REALWORLD);
if (absent) console.warn(`SKIP real-world dumps: ${REALWORLD} is absent`);

type Expected =
  /** Read as iptables-save: `-A` lines and extra exact copies. */
  | { readonly parsed: number; readonly duplicates: number }
  /** Read, with a notice that says how (inferred table, grepped chain, truncated). */
  | {
      readonly hinted: number;
      readonly duplicates: number;
      readonly kind: ParseWarning["kind"];
      readonly says: RegExp;
    }
  /** Refused with one line that says what the text is. */
  | { readonly refused: RegExp };

const LISTING = /this is `iptables -L` output .*run `iptables-save` on the node instead$/;
const NAT_LISTING = /this is `iptables -t nat -L` output .*run `iptables-save -t nat` on the node instead$/;
const IPVS = /this is IPVS state \(`ipvsadm -Ln`\), not an iptables ruleset/;
const NFT = /^Cannot parse dump at line 1: this is nftables output/;
const FILTER_S = /^No table header: read as table "filter", the table these built-in chains belong to/;
const TRUNCATED = /^The dump ends inside table "nat" \(opened at line \d+\) without COMMIT \(truncated\)/;

const EXPECTED: Readonly<Record<string, Expected>> = {
  "docker-topos4.1.save.txt": { parsed: 36, duplicates: 0 },
  "fedora27-firewalld-counters.save.txt": { parsed: 73, duplicates: 0 },
  // ip6tables-save text has the same structure; scan counts it (IPv6 tracing is another matter).
  "fedora27-firewalld-ip6tables.save.txt": { parsed: 63, duplicates: 0 },
  "firewalld-restore-completed.save.txt": { parsed: 74, duplicates: 0 },
  "flannel-nftables-mode.nft.txt": { refused: NFT },
  "gopherproxy-v1.4.8.save.txt": { parsed: 263, duplicates: 3 },
  "home-user.save.txt": { parsed: 218, duplicates: 0 },
  "k3s-single-node-counters-c.save.txt": { parsed: 46, duplicates: 0 },
  "k8s-12839-reflowed-v1.4.7.save.txt": { hinted: 5, duplicates: 0, kind: "truncated", says: TRUNCATED },
  "k8s-12839-reflowed-v1.4.7.save.txt.orig": {
    refused:
      /^Cannot parse dump at line 14: line 14 \("TAINER "\) looks like the continuation of line 13: the paste was wrapped/,
  },
  "k8s-14870-leak-v1.4.7.save.txt": { hinted: 8, duplicates: 3, kind: "truncated", says: TRUNCATED },
  // The excerpt as stored: the cut last rule (`... -j KUBE`) is one more -A line.
  "k8s-14870-leak-v1.4.7.save.txt.orig": { hinted: 9, duplicates: 3, kind: "truncated", says: TRUNCATED },
  "k8s-docker-desktop-nat.L-n-v.txt": { refused: NAT_LISTING },
  // The original keeps the shell prompt line `/ # iptables -t nat -nvL` before the listing.
  "k8s-docker-desktop-nat.L-n-v.txt.orig": {
    refused: /^Cannot parse dump at line 2: this is `iptables -t nat -L`/,
  },
  "k8s-istio-sidecar-pod.save.txt": { parsed: 19, duplicates: 0 },
  "k8s-kubeadm-flannel-filter.S.txt": { hinted: 18, duplicates: 0, kind: "format", says: FILTER_S },
  "k8s-kubeadm-flannel-master-1.8.4.save.txt": { parsed: 82, duplicates: 0 },
  "k8s-kubeadm-flannel-nat.L-n-v.txt": { refused: NAT_LISTING },
  "k8s-kubeadm-flannel-nft-1.8.10.save.txt": { parsed: 62, duplicates: 0 },
  "kube-proxy-ipvs-handbook.ipvsadm.txt": { refused: IPVS },
  "kube-proxy-nftables-mode-partial.nft.txt": { refused: NFT },
  "kube-router-1069-xtables-save-1.8.2.save.txt": {
    hinted: 15,
    duplicates: 0,
    kind: "truncated",
    says: TRUNCATED,
  },
  // The stored excerpt ends with the cut declaration `:KUBE-POS`, which is left out.
  "kube-router-1069-xtables-save-1.8.2.save.txt.orig": {
    hinted: 15,
    duplicates: 0,
    kind: "truncated",
    says: /without COMMIT \(truncated\).*; line 37 was cut mid-line and left out$/,
  },
  "kube-router-1676-dup-reflowed.rules.txt": {
    hinted: 4,
    duplicates: 1,
    kind: "format",
    says: /no table header and no chain declarations \(a grepped chain\?\)/,
  },
  "kube-router-1676-dup-reflowed.rules.txt.orig": {
    refused:
      /^Cannot parse dump at line 3: line 3 \("ports 30000:32767 -j RETURN"\) looks like the continuation of line 2/,
  },
  "kube-router-ipvs-toolbox.ipvsadm.txt": { refused: IPVS },
  "linux-gda-pl-v1.2.7a.save.txt": { parsed: 19, duplicates: 0 },
  "medium-company.save.txt": { parsed: 598, duplicates: 0 },
  "moby-iptabler-portmap-bindlh.save.txt": { parsed: 16, duplicates: 0 },
  "moby-usernet-portmap-filter.S.txt": { hinted: 14, duplicates: 0, kind: "format", says: FILTER_S },
  "moby-usernet-portmap-filter.S.txt.orig": {
    refused:
      /^Cannot parse dump at line 3: "-P INPUT ACCEPT" is indented: the paste looks copied from Markdown/,
  },
  "openwrt-AA-fixed-newline.save.txt": { parsed: 48, duplicates: 1 },
  "pastebin-bbWXHaTn.save.txt": { parsed: 40, duplicates: 1 },
  "ringofsaturn.L-n-v.txt": { refused: LISTING },
  "shorewall-sqrl-akachan.save.txt": { parsed: 404, duplicates: 0 },
  "synology-ds414.save.txt": { parsed: 21, duplicates: 0 },
  "tumnet-router-2015-09-03.save.txt": { parsed: 4973, duplicates: 111 },
  "ufw-server2.save.txt": { parsed: 68, duplicates: 0 },
  "wireless-ct-helper.save.txt": { parsed: 58, duplicates: 0 },
};

const files = absent
  ? []
  : readdirSync(REALWORLD)
      .filter((f) => !f.endsWith(".md"))
      .sort();

describe.skipIf(absent)("real-world dumps (../shared/realworld)", () => {
  test("every file there has an expected outcome here, and every outcome a file", () => {
    expect(files).toEqual(Object.keys(EXPECTED).sort());
  });

  test.each(files)("%s", async (name) => {
    const path = join(REALWORLD, name);
    const want = EXPECTED[name]!;
    if ("refused" in want) {
      const error = await scanFile("n", path).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DumpSyntaxError);
      expect((error as Error).message).toMatch(want.refused);
      expect((error as Error).message).not.toContain("\n");
      return;
    }
    const scan = await scanFile("n", path);
    const rules = "parsed" in want ? want.parsed : want.hinted;
    expect(scan.rules).toBe(rules);
    expect(scan.duplicates.extraRules).toBe(want.duplicates);
    const told = scan.warnings.filter((w) => w.kind === "format" || w.kind === "truncated");
    if ("parsed" in want) {
      expect(told).toEqual([]);
      // The full parse reads every rule's options too.
      expect((await readDump(path)).ruleCount).toBe(rules);
    } else {
      expect(told.map((w) => w.kind)).toEqual([want.kind]);
      expect(told[0]!.reason).toMatch(want.says);
      // A fix plan needs every rule: the full parse refuses a truncated dump.
      if (want.kind === "truncated") await expect(readDump(path)).rejects.toThrow(/it is truncated/);
      else expect((await readDump(path)).ruleCount).toBe(rules);
    }
  });
});
