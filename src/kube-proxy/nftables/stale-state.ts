/**
 * What kube-proxy's table holds that no current Service accounts for: map elements (and their
 * chains) of Services or ports the API no longer has, and service/endpoint chains with rules that
 * nothing expected leads to. Flushed chains are kube-proxy's delayed cleanup, never reported.
 */
import type { NftEvidence } from "../../nft/nft-packet.ts";
import type { NftRule } from "../../nft/nft-ruleset.ts";
import { type ExpectedNftPort, KUBE_PROXY_MAPS } from "./expected-nft.ts";
import type { KubeProxyTable } from "./kube-proxy-table.ts";
import { parseNftChainName } from "./nft-chain-names.ts";
import { chainLeftover, type NftFinding, serviceStale } from "./nft-findings.ts";

const MAX_LISTED = 10;

function chainTargets(rule: NftRule): string[] {
  const out: string[] = [];
  for (const s of rule.stmts) {
    if (s.kind === "verdict" && (s.verdict.kind === "jump" || s.verdict.kind === "goto"))
      out.push(s.verdict.target);
    if (s.kind === "vmap" && s.data.kind === "set") {
      for (const el of s.data.elements) {
        const d = el.data;
        if (d?.kind === "verdict" && (d.verdict.kind === "jump" || d.verdict.kind === "goto"))
          out.push(d.verdict.target);
      }
    }
  }
  return out;
}

/** Elements no current Service port accounts for, grouped by the Service their chain or comment names. */
export function staleServices(
  t: KubeProxyTable,
  expected: readonly ExpectedNftPort[],
  node: string,
): { findings: NftFinding[]; chains: Set<string> } {
  const findings: NftFinding[] = [];
  const chains = new Set<string>();
  const keys = new Set<string>();
  const ips = new Set<string>();
  for (const e of expected) {
    for (const k of e.keys) keys.add(k);
    ips.add(e.sp.clusterIP!);
  }
  const groups = new Map<string, { what: string[]; evidence: NftEvidence[] }>();
  const add = (service: string, what: string, ev: NftEvidence) => {
    const g = groups.get(service) ?? { what: [], evidence: [] };
    groups.set(service, g);
    g.what.push(what);
    if (g.evidence.length < MAX_LISTED) g.evidence.push(ev);
  };
  // A cluster-ips element has neither target nor comment: it belongs to the Service whose other
  // elements have its address.
  const byIp = new Map<string, string>();
  for (const map of [...KUBE_PROXY_MAPS, "cluster-ips" as const]) {
    for (const [key, entry] of t.maps.get(map) ?? []) {
      if (map === "cluster-ips" ? ips.has(key) : keys.has(key)) continue;
      const target =
        entry.verdict !== undefined && "target" in entry.verdict ? entry.verdict.target : undefined;
      const named = target === undefined ? undefined : parseNftChainName(target)?.service;
      const ip = key.split(" . ")[0]!;
      const service = named ?? entry.comment?.replace(/:[^:]*$/, "") ?? byIp.get(ip) ?? `ClusterIP ${key}`;
      if (!byIp.has(ip)) byIp.set(ip, service);
      add(service, `${map} ${key}`, entry.evidence);
    }
  }
  for (const [service, g] of groups) {
    for (const c of t.table.chains.values()) {
      if (parseNftChainName(c.name)?.service === service && c.rules.length > 0) {
        chains.add(c.name);
        if (g.evidence.length < MAX_LISTED && c.text !== undefined && t.files.text !== undefined) {
          g.evidence.push({ file: t.files.text, line: c.text.line, text: c.text.text });
        }
      }
    }
    findings.push(serviceStale(node, service, g.what, g.evidence));
  }
  return { findings, chains };
}

/** Service/endpoint chains with rules that nothing accounts for (flushed ones are delayed cleanup). */
export function leftoverChains(
  t: KubeProxyTable,
  expected: readonly ExpectedNftPort[],
  reached: ReadonlySet<string>,
  node: string,
): NftFinding[] {
  const active = new Set<string>();
  for (const e of expected) for (const c of e.activeChains) active.add(c);
  const left: NftEvidence[] = [];
  const leftover = new Set<string>();
  let count = 0;
  for (const c of t.table.chains.values()) {
    // Only kube-proxy's service and endpoint chains have a "/" in their name (isServiceChainName).
    if (!c.name.includes("/") || active.has(c.name) || reached.has(c.name)) continue;
    if (c.rules.length === 0) continue;
    count++;
    leftover.add(c.name);
    if (left.length < MAX_LISTED) {
      left.push(
        c.text !== undefined && t.files.text !== undefined
          ? { file: t.files.text, line: c.text.line, text: c.text.text }
          : { file: t.files.json, text: `chain ip kube-proxy ${c.name}` },
      );
    }
  }
  if (count === 0) return [];
  // A leftover chain still in use: some rule or map element sends packets into it.
  const referenced = new Set<string>();
  for (const c of t.table.chains.values())
    for (const rule of c.rules) for (const n of chainTargets(rule)) referenced.add(n);
  for (const m of t.maps.values())
    for (const e of m.values())
      if (e.verdict !== undefined && "target" in e.verdict) referenced.add(e.verdict.target);
  const inUse = [...t.table.chains.values()].filter(
    (c) => leftover.has(c.name) && referenced.has(c.name),
  ).length;
  return [chainLeftover(node, count, inUse, left)];
}
