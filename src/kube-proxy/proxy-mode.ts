/**
 * How a node proxies Services, decided from evidence: kube-proxy's own answer (`/proxyMode` on
 * 127.0.0.1:10249, saved as `kube-proxy-mode.txt`), then the dump (iptables mode writes
 * KUBE-SERVICES → KUBE-SVC-*; IPVS mode matches the ipset KUBE-CLUSTER-IP in KUBE-SERVICES and
 * binds Service IPs to `kube-ipvs0`), then `nft list ruleset` (nftables mode owns `table ip
 * kube-proxy`). No KUBE-SERVICES at all next to another proxy's chains (Cilium's eBPF kube-proxy
 * replacement) means no kube-proxy. Anything else is `unknown`, never a guess.
 */
import type { EvidenceFile } from "../known-bugs/node-evidence.ts";
import type { Evidence } from "../model/finding.ts";
import type { TableName } from "../model/ruleset.ts";
import { firstDeclared } from "./declared-chains.ts";
import type { KubeProxyIndex } from "./kube-proxy-index.ts";

/** The proxy modes netdoctor tells apart. Only `iptables` is reconciled today. */
export type ProxyMode = "iptables" | "ipvs" | "nftables" | "none" | "unknown";

export interface ProxyModeResult {
  readonly mode: ProxyMode;
  /** One sentence: the mode and what shows it. */
  readonly reason: string;
  readonly evidence: readonly Evidence[];
}

/** The evidence files of one node, all optional. */
export interface ProxyModeInput {
  readonly index?: KubeProxyIndex;
  /** Bundle-relative path of the node's iptables-save dump. */
  readonly dumpFile?: string;
  /** `kube-proxy-mode.txt`: kube-proxy's `/proxyMode` answer. */
  readonly reported?: EvidenceFile;
  /** `nft list ruleset`. */
  readonly nftRuleset?: EvidenceFile;
  /** `ipvsadm -Sn` or `-Ln`. */
  readonly ipvsadm?: EvidenceFile;
  /** `ip addr` / `ip -j addr` output, where IPVS mode's `kube-ipvs0` shows. */
  readonly addresses?: EvidenceFile;
}

/** Where a substring first appears in a text file, as evidence. */
function find(f: EvidenceFile | undefined, re: RegExp): Evidence | undefined {
  if (f === undefined) return undefined;
  const lines = f.text.split("\n");
  const i = lines.findIndex((l) => re.test(l));
  return i < 0 ? undefined : { file: f.file, line: i + 1, text: lines[i]!.trim() };
}

/** kube-proxy's own answer: the first line that is not a `#` note; undefined when absent or unreadable. */
function reportedMode(f: EvidenceFile | undefined): { mode: ProxyMode; ev: Evidence } | undefined {
  if (f === undefined) return undefined;
  const lines = f.text.split("\n");
  const i = lines.findIndex((l) => l.trim() !== "" && !l.trim().startsWith("#"));
  if (i < 0) return undefined;
  const word = lines[i]!.trim().toLowerCase();
  const ev = { file: f.file, line: i + 1, text: lines[i]!.trim() };
  if (word === "iptables" || word === "ipvs" || word === "nftables") return { mode: word, ev };
  return { mode: "unknown", ev };
}

function ipvsEvidence(input: ProxyModeInput): Evidence[] {
  const out: Evidence[] = [];
  const m = input.index?.ipvsClusterIpMatch;
  if (m !== undefined && input.dumpFile !== undefined)
    out.push({ file: input.dumpFile, line: m.line, text: m.text });
  const dummy = find(input.addresses, /kube-ipvs0/);
  if (dummy !== undefined) out.push(dummy);
  const vs = find(input.ipvsadm, /^\s*(-A\s+-[tu]|TCP|UDP|SCTP)\s/);
  if (vs !== undefined) out.push(vs);
  return out;
}

function chainDecl(input: ProxyModeInput, table: TableName, prefix: string): Evidence | undefined {
  if (input.index === undefined || input.dumpFile === undefined) return undefined;
  const found = firstDeclared(input.index.chains, table, [prefix]);
  return found === undefined ? undefined : { file: input.dumpFile, line: found[1], text: `:${found[0]}` };
}

/** Chains of other Service proxies that replace kube-proxy (Cilium's kube-proxy replacement). */
function replacementEvidence(input: ProxyModeInput): Evidence | undefined {
  for (const table of ["nat", "filter", "mangle", "raw"] as const) {
    const e = chainDecl(input, table, "CILIUM_");
    if (e !== undefined) return e;
  }
  return find(input.nftRuleset, /^\s*table\s+\S+\s+cilium/);
}

/**
 * The node's proxy mode with the lines that show it.
 *
 * @example
 * ```ts
 * detectProxyMode({ index, dumpFile: "nodes/n1/iptables-save.txt" }).mode; // "iptables"
 * ```
 */
export function detectProxyMode(input: ProxyModeInput): ProxyModeResult {
  const reported = reportedMode(input.reported);
  const ipvs = ipvsEvidence(input);
  const natLine = input.index?.chains.get("nat")?.get("KUBE-SERVICES");
  const services =
    natLine === undefined || input.dumpFile === undefined
      ? undefined
      : { file: input.dumpFile, line: natLine, text: ":KUBE-SERVICES" };
  const svcChain = chainDecl(input, "nat", "KUBE-SVC-");
  const nftTable = find(input.nftRuleset, /^\s*table\s+ip6?\s+kube-proxy\b/);
  if (reported !== undefined && reported.mode !== "unknown") {
    const also = reported.mode === "ipvs" ? ipvs : reported.mode === "nftables" ? [nftTable] : [services];
    return {
      mode: reported.mode,
      reason: `kube-proxy reports proxy mode "${reported.ev.text}"`,
      evidence: [reported.ev, ...also.filter((e): e is Evidence => e !== undefined)],
    };
  }
  if (ipvs.length > 0 && (input.index?.ipvsClusterIpMatch !== undefined || svcChain === undefined)) {
    return {
      mode: "ipvs",
      reason:
        input.index?.ipvsClusterIpMatch !== undefined
          ? `KUBE-SERVICES matches the ipset KUBE-CLUSTER-IP (IPVS mode)${svcChain === undefined ? "" : "; its KUBE-SVC-* chains are leftovers of iptables mode"}`
          : "IPVS virtual servers or kube-ipvs0 and no KUBE-SVC-* chain",
      evidence: ipvs,
    };
  }
  if (services !== undefined) {
    return {
      mode: "iptables",
      reason: "nat KUBE-SERVICES (and per-Service KUBE-SVC-* chains) written by kube-proxy in iptables mode",
      evidence: [services, ...(svcChain === undefined ? [] : [svcChain])],
    };
  }
  if (nftTable !== undefined) {
    return {
      mode: "nftables",
      reason: "nft ruleset has kube-proxy's table (nftables mode)",
      evidence: [nftTable],
    };
  }
  const replacement = replacementEvidence(input);
  if (replacement !== undefined) {
    return {
      mode: "none",
      reason: "no KUBE-SERVICES chain and another Service proxy's chains (an eBPF kube-proxy replacement)",
      evidence: [replacement, ...(reported === undefined ? [] : [reported.ev])],
    };
  }
  const note = find(input.reported, /^#\s*netdoctor:/);
  return {
    mode: "unknown",
    reason:
      reported !== undefined
        ? `kube-proxy reports an unknown proxy mode "${reported.ev.text}"`
        : `no KUBE-SERVICES chain in the nat table${note === undefined ? "" : " and kube-proxy does not answer on 127.0.0.1:10249"}, and nothing else shows how Services are proxied`,
    evidence: [...(reported === undefined ? [] : [reported.ev]), ...(note === undefined ? [] : [note])],
  };
}
