/**
 * Compares one node's kube-proxy rules with what the API says they must be. Services are found by
 * recomputed chain names and ClusterIP:port matches, never by comments (they may be absent).
 */
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
}

export interface ReconcileResult {
  readonly findings: Finding[];
  readonly checks: Map<string, PortCheck>;
}

const MAX_LISTED = 10;
const SERVICE_CHAIN = /^KUBE-(SEP|SVC|SVL|XLB|EXT|FW)-/;
const PROXIER = "kubernetes/kubernetes pkg/proxy/iptables/proxier.go";

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

  if (entry?.target !== undefined) {
    if (!view.declared(entry.target) && entry.target.startsWith("KUBE-")) {
      findings.push({
        ...base,
        code: "chain-undefined",
        severity: "error",
        message: `Node "${node}" sends ${where} to chain ${entry.target}, which the dump never declares: the rules are incomplete`,
        evidence: [ev(file, entry)],
        fix: "Collect the dump again (a cut or partly failed iptables-save); if it persists, restart kube-proxy so it rewrites its chains",
        references: [PROXIER],
      });
    }
    view.dnatFrom(entry.target, dnat);
  }
  const stale = [...dnat.keys()].filter((d) => !expected.includes(d));
  const missing = entry === undefined ? [] : expected.filter((e) => !dnat.has(e));
  const ready = expected.length === 0 ? "none" : expected.join(", ");

  if (expected.length > 0 && entry === undefined) {
    if (reject !== undefined) {
      findings.push({
        ...base,
        code: "service-rejected",
        severity: "error",
        message: `Node "${node}" rejects ${where} as having no endpoints, but the API lists ready endpoints (${ready}): clients on this node get "Connection refused"`,
        evidence: [ev(file, reject), ...epEvidence(sp, expected)],
        fix: `kube-proxy on "${node}" has not synced since the endpoints became ready: check its log for "Failed to execute iptables-restore" and restart it (k3s: systemctl restart k3s or k3s-agent)`,
        references: [PROXIER, "iptables-known-bugs KB-13"],
      });
    } else {
      findings.push({
        ...base,
        code: "service-rules-missing",
        severity: "error",
        message: `Node "${node}" has no KUBE-SERVICES rule for ${where}, although the API lists ready endpoints (${ready}): traffic to the ClusterIP is not translated on this node`,
        evidence: [
          {
            file,
            text: `no rule in nat KUBE-SERVICES matches -d ${sp.clusterIP}/32 -p ${sp.protocol} --dport ${sp.port} (expected -j ${sp.chains.SVC})`,
          },
          ...epEvidence(sp, expected),
        ],
        fix: `Restart kube-proxy on "${node}" (k3s: systemctl restart k3s or k3s-agent) and check its log for sync errors`,
        references: [PROXIER],
      });
    }
  } else if (expected.length > 0 && reject !== undefined) {
    findings.push({
      ...base,
      code: "service-rejected",
      severity: "warning",
      message: `Node "${node}" still has a "no endpoints" ${reject.target} rule for ${where} next to its service rules; the API lists ready endpoints (${ready})`,
      evidence: [ev(file, reject), ev(file, entry!)],
      fix: `Restart kube-proxy on "${node}" so it rewrites the filter table`,
      references: [PROXIER],
    });
  }

  for (const d of stale.slice(0, MAX_LISTED)) {
    const hit = dnat.get(d)!;
    const ip = d.startsWith("[") ? d.slice(1, d.indexOf("]")) : d.slice(0, d.lastIndexOf(":"));
    const owner = opts.ownerOfIp?.(ip);
    findings.push({
      ...base,
      code: "endpoint-stale",
      severity: "error",
      message:
        `Node "${node}" sends ${where} to ${d}, which is not a ready endpoint of ${sp.service} (ready: ${ready}); ` +
        (owner === undefined ? `no pod has ${ip} now` : `${ip} now belongs to ${owner}`),
      evidence: [...(hit.jump === undefined ? [] : [ev(file, hit.jump)]), ev(file, hit.rule)],
      fix: `kube-proxy on "${node}" is not applying updates: fix what breaks iptables on the node (see its node-health findings), then restart kube-proxy (k3s: systemctl restart k3s-agent) so it rewrites the rules; confirm with \`iptables-save | grep ${d}\``,
      references: [PROXIER, "k3s-io/k3s#3117"],
    });
  }
  if (missing.length > 0) {
    const chainRules = entry?.target === undefined ? [] : (view.index.nat.get(entry.target) ?? []);
    findings.push({
      ...base,
      code: "endpoint-missing",
      severity: "error",
      message: `Node "${node}" has no rule sending ${where} to ready endpoint${missing.length > 1 ? "s" : ""} ${missing.slice(0, MAX_LISTED).join(", ")}`,
      evidence: [
        ev(file, entry!),
        ...chainRules.slice(0, 3).map((r) => ev(file, r)),
        ...epEvidence(sp, missing),
      ],
      fix: `Restart kube-proxy on "${node}" (k3s: systemctl restart k3s-agent) after fixing the node's iptables; its log shows why syncs fail`,
      references: [PROXIER],
    });
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
  findings.push({
    node: opts.node,
    service: sp.service,
    code: "service-rules-missing",
    severity: "warning",
    message: `Node "${opts.node}" lacks the external entries of ${sp.svcPortName}: ${absent.join(", ")}`,
    evidence: [
      {
        file: opts.file,
        text: `no matching rule in nat KUBE-SERVICES / KUBE-NODEPORTS for ${absent.join(", ")}`,
      },
    ],
    fix: `Restart kube-proxy on "${opts.node}" and check its log for sync errors`,
    references: [PROXIER],
  });
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
      findings.push({
        node: opts.node,
        code: "chain-undefined",
        severity: "error",
        message: `Node "${opts.node}" jumps to chain ${j.target} in table ${j.table}, which the dump never declares`,
        evidence: [{ file: opts.file, line: j.line, text: j.text }],
        fix: "Collect the dump again (a cut or partly failed iptables-save); if it persists, restart the component that owns the rule",
        references: [PROXIER],
      });
    }
    findings.push(...leftovers(index, ports, opts));
  }
  return { findings, checks };
}
