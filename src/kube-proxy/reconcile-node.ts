/**
 * Compares one node's kube-proxy rules with what the API says they must be. Services are found by
 * recomputed chain names and ClusterIP:port matches, never by comments (they may be absent).
 */
import type { NodeKind } from "../findings/kube-proxy-restart.ts";
import { makeFinding } from "../findings/make-finding.ts";
import type { Evidence, Finding } from "../model/finding.ts";
import { leftovers } from "./chain-leftovers.ts";
import { joinHostPort } from "./chain-names.ts";
import { type ExpectedServicePort, internalEndpointsOn } from "./expected-state.ts";
import type { IndexedRule, KubeProxyIndex } from "./kube-proxy-index.ts";

/** What one service port looks like on the node. */
export interface PortCheck {
  readonly svcPortName: string;
  /** The nat KUBE-SERVICES rule for the ClusterIP, when present. */
  readonly entry?: IndexedRule;
  /** filter REJECT/DROP for the ClusterIP, when present. */
  readonly reject?: IndexedRule;
  /** Every DNAT reachable from the entry: `ip:port` → the DNAT rule and the jump to its SEP chain. */
  readonly dnat: ReadonlyMap<string, { readonly rule: IndexedRule; readonly jump?: IndexedRule }>;
  /** The endpoints the node should DNAT to (`ip:port`). */
  readonly expected: readonly string[];
  readonly stale: readonly string[];
  readonly missing: readonly string[];
}

export interface ReconcileOptions {
  readonly node: string;
  /** Bundle-relative path of the node's dump. */
  readonly file: string;
  /** Only these service ports (svcPortName); node-wide checks (leftover chains) are skipped then. */
  readonly only?: ReadonlySet<string>;
  /** Who owns an IP now, e.g. `pod eopx/x-1`, for messages about stale targets. */
  readonly ownerOfIp?: (ip: string) => string | undefined;
  /** What runs kube-proxy on the node (k3s server/agent, RKE2, kubeadm), for the restart advice. */
  readonly nodeKind?: NodeKind;
}

export interface ReconcileResult {
  readonly findings: Finding[];
  readonly checks: Map<string, PortCheck>;
}

const MAX_LISTED = 10;
const SERVICE_CHAIN = /^KUBE-(SEP|SVC|SVL|XLB|EXT|FW)-/;

function ev(file: string, r: IndexedRule): Evidence {
  return { file, line: r.line, text: r.text };
}

/** Lookup tables over the index, built once per node. */
class NodeView {
  readonly entries = new Map<string, IndexedRule[]>();
  readonly rejects = new Map<string, IndexedRule>();
  readonly nodePorts = new Map<string, IndexedRule>();

  constructor(readonly index: KubeProxyIndex) {
    for (const r of index.nat.get("KUBE-SERVICES") ?? []) {
      if (r.destination === undefined || r.dport === undefined) continue;
      const key = `${r.destination}:${r.dport}/${r.protocol ?? "tcp"}`;
      const list = this.entries.get(key);
      if (list === undefined) this.entries.set(key, [r]);
      else list.push(r);
    }
    for (const r of index.nat.get("KUBE-NODEPORTS") ?? []) {
      if (r.dport === undefined || r.target === "KUBE-MARK-MASQ") continue;
      this.nodePorts.set(`${r.dport}/${r.protocol ?? "tcp"}`, r);
    }
    for (const r of index.filter) {
      if (r.target !== "REJECT" && r.target !== "DROP") continue;
      const key =
        r.destination === undefined
          ? `node:${r.dport}/${r.protocol ?? "tcp"}`
          : `${r.destination}:${r.dport}/${r.protocol ?? "tcp"}`;
      if (!this.rejects.has(key)) this.rejects.set(key, r);
    }
  }

  declared(chain: string): boolean {
    return this.index.chains.get("nat")?.has(chain) ?? false;
  }

  /** Follows service chains from `chain` and collects every DNAT, with the jump into its SEP chain. */
  dnatFrom(
    chain: string,
    out: Map<string, { rule: IndexedRule; jump?: IndexedRule }>,
    seen = new Set<string>(),
  ): void {
    if (seen.has(chain)) return;
    seen.add(chain);
    for (const r of this.index.nat.get(chain) ?? []) {
      if (r.toDestination !== undefined) {
        if (!out.has(r.toDestination)) out.set(r.toDestination, { rule: r });
        continue;
      }
      const t = r.target;
      if (t === undefined || !t.startsWith("KUBE-")) continue;
      if (t.startsWith("KUBE-SEP-")) {
        for (const d of this.index.nat.get(t) ?? []) {
          if (d.toDestination !== undefined && !out.has(d.toDestination))
            out.set(d.toDestination, { rule: d, jump: r });
        }
      } else if (SERVICE_CHAIN.test(t)) this.dnatFrom(t, out, seen);
    }
  }
}

function checkPort(
  view: NodeView,
  sp: ExpectedServicePort,
  opts: ReconcileOptions,
  findings: Finding[],
): PortCheck {
  const { node, file } = opts;
  const expectedEps = internalEndpointsOn(sp, node);
  const expected = expectedEps.map((e) => joinHostPort(e.ip, e.port));
  const dnat = new Map<string, { rule: IndexedRule; jump?: IndexedRule }>();
  const key = `${sp.clusterIP}:${sp.port}/${sp.protocol}`;
  const entry = sp.clusterIP === undefined ? undefined : view.entries.get(key)?.[0];
  const reject = sp.clusterIP === undefined ? undefined : view.rejects.get(key);
  const where = `${sp.svcPortName} (${sp.clusterIP}:${sp.port}/${sp.protocol})`;
  const base = { node, service: sp.service };
  const on = { node, ...(opts.nodeKind === undefined ? {} : { nodeKind: opts.nodeKind }) };

  if (entry?.target !== undefined) {
    if (!view.declared(entry.target) && entry.target.startsWith("KUBE-")) {
      findings.push(
        makeFinding(
          "chain-undefined",
          { ...on, chain: entry.target, table: "nat", where },
          { ...base, evidence: [ev(file, entry)] },
        ),
      );
    }
    view.dnatFrom(entry.target, dnat);
  }
  const stale = [...dnat.keys()].filter((d) => !expected.includes(d));
  const missing = entry === undefined ? [] : expected.filter((e) => !dnat.has(e));
  const ready = expected.length === 0 ? "none" : expected.join(", ");

  if (expected.length > 0 && entry === undefined) {
    if (reject !== undefined) {
      findings.push(
        makeFinding(
          "service-rejected",
          { ...on, where, ready, target: reject.target ?? "REJECT", alongsideRules: false },
          { ...base, evidence: [ev(file, reject), ...epEvidence(sp, expected)] },
        ),
      );
    } else {
      findings.push(
        makeFinding(
          "service-rules-missing",
          { ...on, entries: "cluster-ip", where, ready },
          {
            ...base,
            evidence: [
              {
                file,
                text: `no rule in nat KUBE-SERVICES matches -d ${sp.clusterIP}/32 -p ${sp.protocol} --dport ${sp.port} (expected -j ${sp.chains.SVC})`,
              },
              ...epEvidence(sp, expected),
            ],
          },
        ),
      );
    }
  } else if (expected.length > 0 && reject !== undefined) {
    findings.push(
      makeFinding(
        "service-rejected",
        { ...on, where, ready, target: reject.target ?? "REJECT", alongsideRules: true },
        { ...base, evidence: [ev(file, reject), ev(file, entry!)] },
      ),
    );
  }

  for (const d of stale.slice(0, MAX_LISTED)) {
    const hit = dnat.get(d)!;
    const ip = d.startsWith("[") ? d.slice(1, d.indexOf("]")) : d.slice(0, d.lastIndexOf(":"));
    const owner = opts.ownerOfIp?.(ip);
    findings.push(
      makeFinding(
        "endpoint-stale",
        {
          ...on,
          service: sp.service,
          where,
          target: d,
          ip,
          ready,
          ...(owner === undefined ? {} : { owner }),
        },
        { ...base, evidence: [...(hit.jump === undefined ? [] : [ev(file, hit.jump)]), ev(file, hit.rule)] },
      ),
    );
  }
  if (missing.length > 0) {
    const chainRules = entry?.target === undefined ? [] : (view.index.nat.get(entry.target) ?? []);
    findings.push(
      makeFinding(
        "endpoint-missing",
        { ...on, where, missing: missing.slice(0, MAX_LISTED) },
        {
          ...base,
          evidence: [
            ev(file, entry!),
            ...chainRules.slice(0, 3).map((r) => ev(file, r)),
            ...epEvidence(sp, missing),
          ],
        },
      ),
    );
  }
  if (entry !== undefined && expected.length > 0) externalEntries(view, sp, opts, findings);
  return {
    svcPortName: sp.svcPortName,
    dnat,
    expected,
    stale,
    missing,
    ...(entry === undefined ? {} : { entry }),
    ...(reject === undefined ? {} : { reject }),
  };
}

function epEvidence(sp: ExpectedServicePort, eps: readonly string[]): Evidence[] {
  return sp.endpoints
    .filter((e) => eps.includes(joinHostPort(e.ip, e.port)) && e.slice !== undefined)
    .slice(0, 2)
    .map((e) => ({
      file: e.slice!.file,
      ...(e.slice!.line === undefined ? {} : { line: e.slice!.line }),
      text: `endpoint ${joinHostPort(e.ip, e.port)} ready=${e.ready}${e.pod === undefined ? "" : ` pod ${e.pod}`}${e.nodeName === undefined ? "" : ` on ${e.nodeName}`}`,
    }));
}

/** NodePort, externalIPs and LoadBalancer IPs must have their entries too. */
function externalEntries(
  view: NodeView,
  sp: ExpectedServicePort,
  opts: ReconcileOptions,
  findings: Finding[],
): void {
  const absent: string[] = [];
  for (const ip of [...sp.externalIPs, ...sp.loadBalancerIPs]) {
    if (!view.entries.has(`${ip}:${sp.port}/${sp.protocol}`)) absent.push(`${ip}:${sp.port}`);
  }
  if (sp.nodePort !== undefined && !view.nodePorts.has(`${sp.nodePort}/${sp.protocol}`))
    absent.push(`NodePort ${sp.nodePort}`);
  if (absent.length === 0) return;
  findings.push(
    makeFinding(
      "service-rules-missing",
      {
        node: opts.node,
        ...(opts.nodeKind === undefined ? {} : { nodeKind: opts.nodeKind }),
        entries: "external",
        svcPortName: sp.svcPortName,
        absent,
      },
      {
        node: opts.node,
        service: sp.service,
        evidence: [
          {
            file: opts.file,
            text: `no matching rule in nat KUBE-SERVICES / KUBE-NODEPORTS for ${absent.join(", ")}`,
          },
        ],
      },
    ),
  );
}

/**
 * Reconciles a node: stale and missing endpoints, missing or rejecting service entries, jumps to
 * undeclared chains and leftover chains.
 */
export function reconcileNode(
  ports: readonly ExpectedServicePort[],
  index: KubeProxyIndex,
  opts: ReconcileOptions,
): ReconcileResult {
  const view = new NodeView(index);
  const findings: Finding[] = [];
  const checks = new Map<string, PortCheck>();
  for (const sp of ports) {
    if (opts.only !== undefined && !opts.only.has(sp.svcPortName)) continue;
    checks.set(sp.svcPortName, checkPort(view, sp, opts, findings));
  }
  if (opts.only === undefined) {
    const reported = new Set(
      findings.filter((f) => f.code === "chain-undefined").map((f) => f.evidence[0]?.line),
    );
    for (const j of index.undefinedJumps.slice(0, MAX_LISTED)) {
      if (reported.has(j.line)) continue;
      findings.push(
        makeFinding(
          "chain-undefined",
          { node: opts.node, chain: j.target, table: j.table },
          { node: opts.node, evidence: [{ file: opts.file, line: j.line, text: j.text }] },
        ),
      );
    }
    findings.push(...leftovers(index, ports, opts));
  }
  return { findings, checks };
}
