/**
 * The findings of a reconciliation, worded once: a node's kube-proxy rules disagree with the API.
 * Every finding names the node, the service port and the rule lines (or their absence) that prove it.
 */
import type { Evidence, Finding } from "../model/finding.ts";
import { endpointKey } from "./endpoint-choices.ts";
import type { ExpectedServicePort } from "./expected-state.ts";
import type { KubeProxyHealth } from "./kube-proxy-health.ts";
import type { IndexedRule } from "./kube-proxy-index.ts";
import type { ReachedDnat } from "./node-view.ts";

export const PROXIER = "kubernetes/kubernetes pkg/proxy/iptables/proxier.go";

/** What every finding of one node needs. */
export interface FindingContext {
  readonly node: string;
  readonly file: string;
  readonly ownerOfIp?: (ip: string) => string | undefined;
  readonly health?: KubeProxyHealth;
}

export function ev(file: string, r: IndexedRule): Evidence {
  return { file, line: r.line, text: r.text };
}

/** `shop/web:http (198.19.10.10:80/tcp)`. */
export function where(sp: ExpectedServicePort): string {
  return `${sp.svcPortName} (${sp.clusterIP}:${sp.port}/${sp.protocol})`;
}

/** Slice lines of the endpoints `keys` (at most two), so the API side is proven too. */
export function epEvidence(sp: ExpectedServicePort, keys: readonly string[]): Evidence[] {
  return sp.endpoints
    .filter((e) => keys.includes(endpointKey(e)) && e.slice !== undefined)
    .slice(0, 2)
    .map((e) => ({
      file: e.slice!.file,
      ...(e.slice!.line === undefined ? {} : { line: e.slice!.line }),
      text: `endpoint ${endpointKey(e)} ready=${e.ready}${e.pod === undefined ? "" : ` pod ${e.pod}`}${e.nodeName === undefined ? "" : ` on ${e.nodeName}`}`,
    }));
}

function healthClause(ctx: FindingContext): string {
  return ctx.health === undefined || ctx.health.summary === "" ? "" : `. ${ctx.health.summary}`;
}

function healthEvidence(ctx: FindingContext): Evidence[] {
  return ctx.health === undefined ? [] : ctx.health.evidence.slice(0, 3);
}

/** `endpoint-stale`: the node DNATs to `target`, which the chosen endpoint set does not hold. */
export function staleFinding(
  ctx: FindingContext,
  sp: ExpectedServicePort,
  options: { target: string; hit: ReachedDnat; expected: readonly string[]; via?: string },
): Finding {
  const { target, hit } = options;
  const ip = target.startsWith("[")
    ? target.slice(1, target.indexOf("]"))
    : target.slice(0, target.lastIndexOf(":"));
  const owner = ctx.ownerOfIp?.(ip);
  const ready = options.expected.length === 0 ? "none" : options.expected.join(", ");
  return {
    node: ctx.node,
    service: sp.service,
    code: "endpoint-stale",
    severity: "error",
    message:
      `Node "${ctx.node}" sends ${where(sp)}${options.via === undefined ? "" : ` ${options.via}`} to ${target}, which is not a ready endpoint of ${sp.service} (ready: ${ready}); ` +
      (owner === undefined ? `no pod has ${ip} now` : `${ip} now belongs to ${owner}`) +
      healthClause(ctx),
    evidence: [
      ...(hit.jump === undefined ? [] : [ev(ctx.file, hit.jump)]),
      ev(ctx.file, hit.rule),
      ...healthEvidence(ctx),
    ],
    fix: `kube-proxy on "${ctx.node}" is not applying updates: fix what breaks iptables on the node (see its node-health findings), then restart kube-proxy (k3s: systemctl restart k3s-agent) so it rewrites the rules; confirm with \`iptables-save | grep ${target}\``,
    references: [PROXIER, "k3s-io/k3s#3117"],
  };
}

/** `endpoint-missing`: the chosen endpoint set holds `missing`, which no rule reaches. */
export function missingFinding(
  ctx: FindingContext,
  sp: ExpectedServicePort,
  options: {
    missing: readonly string[];
    entry: IndexedRule;
    chainRules: readonly IndexedRule[];
    via?: string;
    label?: string;
  },
): Finding {
  const { missing } = options;
  return {
    node: ctx.node,
    service: sp.service,
    code: "endpoint-missing",
    severity: "error",
    message: `Node "${ctx.node}" has no rule sending ${where(sp)}${options.via === undefined ? "" : ` ${options.via}`} to ${options.label ?? "ready endpoint"}${missing.length > 1 ? "s" : ""} ${missing.slice(0, 10).join(", ")}${healthClause(ctx)}`,
    evidence: [
      ev(ctx.file, options.entry),
      ...options.chainRules.slice(0, 3).map((r) => ev(ctx.file, r)),
      ...epEvidence(sp, missing),
      ...healthEvidence(ctx),
    ],
    fix: `Restart kube-proxy on "${ctx.node}" (k3s: systemctl restart k3s-agent) after fixing the node's iptables; its log shows why syncs fail`,
    references: [PROXIER],
  };
}

/** `service-rules-missing` / `service-rejected`: ready endpoints, but no entry rule for the ClusterIP. */
export function noEntryFinding(
  ctx: FindingContext,
  sp: ExpectedServicePort,
  options: { expected: readonly string[]; reject?: IndexedRule; foreign?: readonly IndexedRule[] },
): Finding {
  const { expected, reject } = options;
  const foreign = options.foreign ?? [];
  const ready = expected.join(", ");
  const base = { node: ctx.node, service: sp.service };
  if (reject !== undefined) {
    return {
      ...base,
      code: "service-rejected",
      severity: "error",
      message: `Node "${ctx.node}" ${reject.target === "DROP" ? "drops" : "rejects"} ${where(sp)} as having no endpoints, but the API lists ready endpoints (${ready})${reject.target === "DROP" ? "" : `: clients on this node get "Connection refused"`}${healthClause(ctx)}`,
      evidence: [ev(ctx.file, reject), ...epEvidence(sp, expected), ...healthEvidence(ctx)],
      fix: `kube-proxy on "${ctx.node}" has not synced since the endpoints became ready: check its log for "Failed to execute iptables-restore" and restart it (k3s: systemctl restart k3s or k3s-agent)`,
      references: [PROXIER, "iptables-known-bugs KB-13"],
    };
  }
  const chain = sp.internalLocal ? `${sp.chains.SVC} or ${sp.chains.SVL}` : sp.chains.SVC;
  return {
    ...base,
    code: "service-rules-missing",
    severity: "error",
    message:
      foreign.length === 0
        ? `Node "${ctx.node}" has no KUBE-SERVICES rule for ${where(sp)}, although the API lists ready endpoints (${ready}): traffic to the ClusterIP is not translated on this node${healthClause(ctx)}`
        : `Node "${ctx.node}" has no KUBE-SERVICES rule of its own for ${where(sp)} (ready endpoints: ${ready}): the rule for that address jumps to ${foreign[0]!.target}, which is not this port's chain${healthClause(ctx)}`,
    evidence: [
      {
        file: ctx.file,
        text: `no rule in nat KUBE-SERVICES matches -d ${sp.clusterIP}/32 -p ${sp.protocol} --dport ${sp.port} (expected -j ${chain})`,
      },
      ...foreign.slice(0, 2).map((r) => ev(ctx.file, r)),
      ...epEvidence(sp, expected),
      ...healthEvidence(ctx),
    ],
    fix: `Restart kube-proxy on "${ctx.node}" (k3s: systemctl restart k3s or k3s-agent) and check its log for sync errors`,
    references: [PROXIER],
  };
}
