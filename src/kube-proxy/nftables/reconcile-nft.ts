import type { NftRuleset } from "../../nft/nft-ruleset.ts";
import type { ExpectedServicePort } from "../expected-state.ts";
import type { ProxyModeResult } from "../proxy-mode.ts";
import { type ExpectedNftPort, expectedNftPort } from "./expected-nft.ts";
import {
  evidenceOf,
  follow,
  type KubeProxyTable,
  type MapEntry,
  readKubeProxyTable,
  verdictName,
} from "./kube-proxy-table.ts";
import {
  endpointMissing,
  endpointStale,
  type NftFinding,
  numgenMismatch,
  serviceRejected,
  serviceRulesMissing,
  tableMissing,
} from "./nft-findings.ts";
import { leftoverChains, staleServices } from "./stale-state.ts";

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

const _MAX_LISTED = 10;

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
      const owner = this.opts.ownerOfIp?.(r.target.split(":")[0]!);
      this.findings.push(
        endpointStale(e.sp, { node: this.opts.node, target: r.target, ready, owner, evidence: ev }),
      );
    }
    return f;
  }

  numgen(e: ExpectedNftPort, f: ReturnType<typeof follow>): void {
    for (const ng of f.numgen) {
      const want = e.policyChains.get(ng.chain);
      let holes = 0;
      for (let i = 0; i < ng.mod; i++) if (!ng.indexes.includes(i)) holes++;
      const extra = ng.indexes.filter((i) => i >= ng.mod).length;
      let kind: "holes" | "unused" | "uneven" | undefined;
      if (holes > 0) kind = "holes";
      else if (extra > 0) kind = "unused";
      else if (want !== undefined && ng.mod !== want.length) {
        const targets = new Set(f.reached.keys());
        const same =
          want.every((w) => targets.has(`${w.ip}:${w.port}`)) &&
          [...targets].every((x) => want.some((w) => `${w.ip}:${w.port}` === x));
        if (same) kind = "uneven";
      }
      if (kind === undefined) continue;
      const v = {
        node: this.opts.node,
        mod: ng.mod,
        entries: ng.indexes.length,
        ready: want?.length ?? 0,
        kind,
      };
      this.findings.push(numgenMismatch(e.sp, { ...v, evidence: [evidenceOf(this.t, ng.rule)] }));
    }
  }

  internal(e: ExpectedNftPort, seen: Set<string>): void {
    const key = e.clusterKey;
    const entry = this.entry("service-ips", key);
    const noEp = this.entry("no-endpoint-services", key);
    const allowed = new Set([...(e.policyChains.get(e.internalChain) ?? [])].map((x) => `${x.ip}:${x.port}`));
    const _ready = e.sp.clusterEndpoints;
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
          this.findings.push(
            endpointMissing(e.sp, { node: this.opts.node, missing, evidence: [entry.evidence, ...rules] }),
          );
        }
        this.numgen(e, f);
      }
      if (noEp !== undefined && e.hasInternalEndpoints) {
        this.findings.push(
          serviceRejected(e.sp, {
            node: this.opts.node,
            what: "the ClusterIP",
            verdict: verdictName(noEp),
            alongside: true,
            evidence: [noEp.evidence, entry.evidence],
          }),
        );
      }
      return;
    }
    if (!e.hasInternalEndpoints) return;
    if (noEp !== undefined) {
      this.findings.push(
        serviceRejected(e.sp, {
          node: this.opts.node,
          what: "the ClusterIP",
          verdict: verdictName(noEp),
          alongside: false,
          evidence: [noEp.evidence],
        }),
      );
    } else {
      const text = `no service-ips element ${key} (expected goto ${e.internalChain})`;
      this.findings.push(
        serviceRulesMissing(e.sp, {
          node: this.opts.node,
          absent: [key],
          clusterIp: true,
          evidence: [{ file: this.opts.files.text ?? this.opts.files.json, text }],
        }),
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
        serviceRulesMissing(e.sp, {
          node: this.opts.node,
          absent,
          clusterIp: false,
          evidence: [{ file: this.opts.files.text ?? this.opts.files.json, text }],
        }),
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
          serviceRejected(e.sp, {
            node: this.opts.node,
            what,
            verdict: verdictName(got),
            alongside: false,
            evidence: [got.evidence],
          }),
        );
      }
    }
  }
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
    const m = opts.mode;
    const source = `${m?.evidence[0]?.file ?? "kube-proxy"} says nftables`;
    const findings = m?.mode === "nftables" ? [tableMissing(opts.node, source, m.evidence)] : [];
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
  const stale = staleServices(t, expected, opts.node);
  for (const c of stale.chains) r.reachedChains.add(c);
  return {
    present: true,
    findings: [...r.findings, ...stale.findings, ...leftoverChains(t, expected, r.reachedChains, opts.node)],
  };
}
