/**
 * The findings of a reconciliation: a node's kube-proxy rules disagree with the API. The words are
 * the findings catalogue's (src/findings/); this file supplies the values and the rule lines (or
 * their absence) that prove each finding.
 */
import type { NodeKind } from "../findings/kube-proxy-restart.ts";
import { makeFinding } from "../findings/make-finding.ts";
import type { Evidence, Finding } from "../model/finding.ts";
import { endpointKey } from "./endpoint-choices.ts";
import type { ExpectedServicePort } from "./expected-state.ts";
import type { KubeProxyHealth } from "./kube-proxy-health.ts";
import type { IndexedRule } from "./kube-proxy-index.ts";
import type { ReachedDnat } from "./node-view.ts";

/** What every finding of one node needs. */
export interface FindingContext {
  readonly node: string;
  readonly file: string;
  readonly ownerOfIp?: (ip: string) => string | undefined;
  readonly health?: KubeProxyHealth;
  /** What runs kube-proxy on the node, for the restart advice. */
  readonly nodeKind?: NodeKind;
}

export function ev(file: string, r: IndexedRule): Evidence {
  return { file, line: r.line, text: r.text };
}

/** `shop/web:http (198.19.10.10:80/tcp)`. */
export function where(sp: ExpectedServicePort): string {
  return `${sp.svcPortName} (${sp.clusterIP}:${sp.port}/${sp.protocol})`;
}

/** The node, its kind and kube-proxy's health sentence: the values every data-plane entry takes. */
export function onNode(ctx: FindingContext): { node: string; nodeKind?: NodeKind; health?: string } {
  return {
    node: ctx.node,
    ...(ctx.nodeKind === undefined ? {} : { nodeKind: ctx.nodeKind }),
    ...(ctx.health === undefined || ctx.health.summary === "" ? {} : { health: ctx.health.summary }),
  };
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
  return makeFinding(
    "endpoint-stale",
    {
      ...onNode(ctx),
      service: sp.service,
      where: where(sp),
      target,
      ip,
      ready: options.expected.length === 0 ? "none" : options.expected.join(", "),
      ...(options.via === undefined ? {} : { via: options.via }),
      ...(owner === undefined ? {} : { owner }),
    },
    {
      node: ctx.node,
      service: sp.service,
      evidence: [
        ...(hit.jump === undefined ? [] : [ev(ctx.file, hit.jump)]),
        ev(ctx.file, hit.rule),
        ...healthEvidence(ctx),
      ],
    },
  );
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
    kind?: string;
  },
): Finding {
  const { missing } = options;
  return makeFinding(
    "endpoint-missing",
    {
      ...onNode(ctx),
      where: where(sp),
      missing: missing.slice(0, 10),
      ...(options.via === undefined ? {} : { via: options.via }),
      ...(options.kind === undefined ? {} : { kind: options.kind }),
    },
    {
      node: ctx.node,
      service: sp.service,
      evidence: [
        ev(ctx.file, options.entry),
        ...options.chainRules.slice(0, 3).map((r) => ev(ctx.file, r)),
        ...epEvidence(sp, missing),
        ...healthEvidence(ctx),
      ],
    },
  );
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
  const scope = { node: ctx.node, service: sp.service };
  if (reject !== undefined) {
    return makeFinding(
      "service-rejected",
      { ...onNode(ctx), where: where(sp), ready, target: reject.target ?? "REJECT", alongsideRules: false },
      { ...scope, evidence: [ev(ctx.file, reject), ...epEvidence(sp, expected), ...healthEvidence(ctx)] },
    );
  }
  const chain = sp.internalLocal ? `${sp.chains.SVC} or ${sp.chains.SVL}` : sp.chains.SVC;
  return makeFinding(
    "service-rules-missing",
    {
      ...onNode(ctx),
      entries: "cluster-ip",
      where: where(sp),
      ready,
      ...(foreign[0]?.target === undefined ? {} : { foreignChain: foreign[0].target }),
    },
    {
      ...scope,
      evidence: [
        {
          file: ctx.file,
          text: `no rule in nat KUBE-SERVICES matches -d ${sp.clusterIP}/32 -p ${sp.protocol} --dport ${sp.port} (expected -j ${chain})`,
        },
        ...foreign.slice(0, 2).map((r) => ev(ctx.file, r)),
        ...epEvidence(sp, expected),
        ...healthEvidence(ctx),
      ],
    },
  );
}
