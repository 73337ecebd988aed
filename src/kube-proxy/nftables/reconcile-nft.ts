/**
 * Compares one node's kube-proxy nftables table with what the API says it must hold: the elements of
 * service-ips, service-nodeports, no-endpoint-services, no-endpoint-nodeports, firewall-ips and
 * cluster-ips, the service/endpoint chains they lead to and their numgen verdict maps. Services are
 * found by element keys (address . protocol . port) and recomputed chain names, never by comments.
 * Chains that are flushed but not yet deleted are kube-proxy's normal delayed cleanup (kernels before
 * 6.2 notice late that a map no longer references a chain; proxier.go `staleChains`), not leftovers.
 */
import type { NftEvidence } from "../../nft/nft-packet.ts";
import type { NftRuleset } from "../../nft/nft-ruleset.ts";
import type { ExpectedServicePort } from "../expected-state.ts";
import type { ProxyModeResult } from "../proxy-mode.ts";
import { type ExpectedNftPort, expectedNftPort, KUBE_PROXY_MAPS } from "./expected-nft.ts";
import {
  evidenceOf,
  follow,
  type KubeProxyTable,
  type MapEntry,
  readKubeProxyTable,
  verdictName,
} from "./kube-proxy-table.ts";
import { parseNftChainName } from "./nft-chain-names.ts";
import {
  chainLeftover,
  endpointMissing,
  endpointStale,
  type NftFinding,
  numgenMismatch,
  serviceRejected,
  serviceRulesMissing,
  serviceStale,
  tableMissing,
} from "./nft-findings.ts";

export interface NftReconcileOptions {
  readonly node: string;
  /** Bundle-relative `nft-ruleset.json` and (when collected) `nft-ruleset.txt`. */
  readonly files: { readonly json: string; readonly text?: string };
  /**
   * How the node proxies (kube-proxy/proxy-mode.ts's result, or its mode and evidence): `nftables`
   * makes a missing table an error.
   */
  readonly mode?: Pick<ProxyModeResult, "mode" | "evidence">;
  /** Who owns an IP now, e.g. `pod eopx/x-1`, for messages about stale targets. */
  readonly ownerOfIp?: (ip: string) => string | undefined;
}

export interface NftReconcileResult {
  /** Whether the node has kube-proxy's nftables table at all. */
  readonly present: boolean;
  readonly findings: NftFinding[];
}

const MAX_LISTED = 10;

class Reconciler {
  readonly findings: NftFinding[] = [];
  /** Chains some expected dispatch leads to: reported through their Service, never as leftovers. */
  readonly reachedChains = new Set<string>();

  constructor(
    readonly t: KubeProxyTable,
    readonly opts: NftReconcileOptions,
  ) {}

  entry(map: Parameters<KubeProxyTable["maps"]["get"]>[0], key: string): MapEntry | undefined {
    return this.t.maps.get(map)?.get(key);
  }

  /** DNAT targets from `chain` against the endpoints allowed there; stale ones are reported once. */
  targets(e: ExpectedNftPort, chain: string, allowed: ReadonlySet<string>, seen: Set<string>, via: MapEntry) {
    const f = follow(this.t, chain);
    for (const c of f.chains) this.reachedChains.add(c);
    const ready = [...allowed].join(", ") || "none";
    for (const r of f.reached.values()) {
      if (allowed.has(r.target) || seen.has(r.target)) continue;
      seen.add(r.target);
      const ev = [
        via.evidence,
        ...(r.via === undefined ? [] : [evidenceOf(this.t, r.via)]),
        evidenceOf(this.t, r.dnat),
      ];
      this.findings.push(
        endpointStale(
          this.opts.node,
          e.sp,
          r.target,
          ready,
          this.opts.ownerOfIp?.(r.target.split(":")[0]!),
          ev,
        ),
      );
    }
    return f;
  }

  numgen(e: ExpectedNftPort, f: ReturnType<typeof follow>): void {
    for (const ng of f.numgen) {
      const want = e.policyChains.get(ng.chain);
      const holes = [];
      for (let i = 0; i < ng.mod; i++) if (!ng.indexes.includes(i)) holes.push(i);
      const extra = ng.indexes.filter((i) => i >= ng.mod);
      let detail: string | undefined;
      if (holes.length > 0) {
        detail = `numgen random mod ${ng.mod} but a verdict map of ${ng.indexes.length} entr${ng.indexes.length === 1 ? "y" : "ies"}: ${holes.length} in ${ng.mod} new connections meet no endpoint and fall through to the ClusterIP (refused by cluster-ips-check)`;
      } else if (extra.length > 0) {
        detail = `numgen random mod ${ng.mod} that never picks verdict map entr${extra.length === 1 ? "y" : "ies"} ${extra.join(", ")}`;
      } else if (want !== undefined && ng.mod !== want.length) {
        const targets = new Set(f.reached.keys());
        const same =
          want.every((w) => targets.has(`${w.ip}:${w.port}`)) &&
          [...targets].every((x) => want.some((w) => `${w.ip}:${w.port}` === x));
        if (same)
          detail = `numgen random mod ${ng.mod} over ${want.length} ready endpoint${want.length === 1 ? "" : "s"}: the spread is uneven`;
      }
      if (detail !== undefined)
        this.findings.push(numgenMismatch(this.opts.node, e.sp, detail, [evidenceOf(this.t, ng.rule)]));
    }
  }

  internal(e: ExpectedNftPort, seen: Set<string>): void {
    const key = e.clusterKey;
    const entry = this.entry("service-ips", key);
    const noEp = this.entry("no-endpoint-services", key);
    const allowed = new Set([...(e.policyChains.get(e.internalChain) ?? [])].map((x) => `${x.ip}:${x.port}`));
    const ready = e.sp.clusterEndpoints;
    if (entry?.verdict !== undefined && "target" in entry.verdict) {
      const f = this.targets(
        e,
        entry.verdict.target,
        e.hasInternalEndpoints ? allowed : new Set(),
        seen,
        entry,
      );
      if (e.hasInternalEndpoints) {
        const missing = [...(e.policyChains.get(e.internalChain) ?? [])].filter(
          (x) => !f.reached.has(`${x.ip}:${x.port}`),
        );
        if (missing.length > 0) {
          const rules = f.numgen.map((n) => evidenceOf(this.t, n.rule));
          this.findings.push(endpointMissing(this.opts.node, e.sp, missing, [entry.evidence, ...rules]));
        }
        this.numgen(e, f);
      }
      if (noEp !== undefined && e.hasInternalEndpoints) {
        this.findings.push(
          serviceRejected(this.opts.node, e.sp, "the ClusterIP", verdictName(noEp), true, ready, [
            noEp.evidence,
            entry.evidence,
          ]),
        );
      }
      return;
    }
    if (!e.hasInternalEndpoints) return;
    if (noEp !== undefined) {
      this.findings.push(
        serviceRejected(this.opts.node, e.sp, "the ClusterIP", verdictName(noEp), false, ready, [
          noEp.evidence,
        ]),
      );
    } else {
      const text = `no service-ips element ${key} (expected goto ${e.internalChain})`;
      this.findings.push(
        serviceRulesMissing(this.opts.node, e.sp, [key], true, [
          { file: this.opts.files.text ?? this.opts.files.json, text },
        ]),
      );
    }
  }

  external(e: ExpectedNftPort, seen: Set<string>): void {
    const absent: string[] = [];
    const allowed = new Set([...e.clusterEndpoints, ...e.localEndpoints].map((x) => `${x.ip}:${x.port}`));
    const cip = e.clusterKey;
    for (const map of ["service-ips", "service-nodeports"] as const) {
      for (const [key] of e.maps[map]) {
        if (map === "service-ips" && key === cip) continue;
        const got = this.entry(map, key);
        if (got?.verdict !== undefined && "target" in got.verdict)
          this.targets(e, got.verdict.target, allowed, seen, got);
        else if (got === undefined) absent.push(map === "service-nodeports" ? `NodePort ${key}` : key);
      }
    }
    if (absent.length > 0) {
      const text = `no service-ips / service-nodeports element for ${absent.join(", ")}`;
      this.findings.push(
        serviceRulesMissing(this.opts.node, e.sp, absent, false, [
          { file: this.opts.files.text ?? this.opts.files.json, text },
        ]),
      );
    }
    if (!e.hasExternalEndpoints) return;
    for (const map of ["no-endpoint-services", "no-endpoint-nodeports"] as const) {
      for (const key of e.keys) {
        if (key === cip) continue;
        const got = this.entry(map, key);
        if (got === undefined) continue;
        const what = map === "no-endpoint-nodeports" ? `NodePort ${key}` : key;
        this.findings.push(
          serviceRejected(this.opts.node, e.sp, what, verdictName(got), false, e.sp.clusterEndpoints, [
            got.evidence,
          ]),
        );
      }
    }
  }
}

/** Elements no current Service port accounts for, grouped by the Service their chain or comment names. */
function staleServices(r: Reconciler, expected: readonly ExpectedNftPort[]): void {
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
    for (const [key, entry] of r.t.maps.get(map) ?? []) {
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
    for (const c of r.t.table.chains.values()) {
      if (parseNftChainName(c.name)?.service === service && c.rules.length > 0) {
        r.reachedChains.add(c.name);
        if (g.evidence.length < MAX_LISTED && c.text !== undefined && r.t.files.text !== undefined) {
          g.evidence.push({ file: r.t.files.text, line: c.text.line, text: c.text.text });
        }
      }
    }
    r.findings.push(serviceStale(r.opts.node, service, g.what, g.evidence));
  }
}

function leftoverChains(r: Reconciler, expected: readonly ExpectedNftPort[]): void {
  const active = new Set<string>();
  for (const e of expected) for (const c of e.activeChains) active.add(c);
  const left: NftEvidence[] = [];
  let count = 0;
  for (const c of r.t.table.chains.values()) {
    // Only kube-proxy's service and endpoint chains have a "/" in their name (isServiceChainName).
    if (!c.name.includes("/") || active.has(c.name) || r.reachedChains.has(c.name)) continue;
    if (c.rules.length === 0) continue;
    count++;
    if (left.length < MAX_LISTED) {
      left.push(
        c.text !== undefined && r.t.files.text !== undefined
          ? { file: r.t.files.text, line: c.text.line, text: c.text.text }
          : { file: r.t.files.json, text: `chain ip kube-proxy ${c.name}` },
      );
    }
  }
  if (count > 0) r.findings.push(chainLeftover(r.opts.node, count, left));
}

/**
 * Reconciles a node's kube-proxy nftables table with the API. Without the table: a finding only
 * when kube-proxy says it runs in nftables mode (otherwise the node runs another mode).
 */
export function reconcileKubeProxyNft(
  ports: readonly ExpectedServicePort[],
  ruleset: NftRuleset,
  opts: NftReconcileOptions,
): NftReconcileResult {
  const t = readKubeProxyTable(ruleset, opts.files);
  if (t === undefined) {
    const findings = opts.mode?.mode === "nftables" ? [tableMissing(opts.node, opts.mode.evidence)] : [];
    return { present: false, findings };
  }
  const r = new Reconciler(t, opts);
  const expected = ports.map((p) => expectedNftPort(p, opts.node)).filter((e) => e !== undefined);
  for (const e of expected) {
    // One stale target is one finding, whichever entry (ClusterIP, NodePort, external IP) leads to it.
    const seen = new Set<string>();
    r.internal(e, seen);
    r.external(e, seen);
  }
  staleServices(r, expected);
  leftoverChains(r, expected);
  return { present: true, findings: r.findings };
}
