/**
 * One service port on one node: the ClusterIP path (KUBE-SERVICES → KUBE-SVC-/KUBE-SVL- → SEP)
 * and the external path (NodePort, external IPs, LoadBalancer IPs → KUBE-FW-/KUBE-XLB-/KUBE-EXT-
 * → SEP), each compared with the endpoint sets a correct kube-proxy may program.
 */
import { makeFinding } from "../findings/make-finding.ts";
import type { Finding } from "../model/finding.ts";
import {
  type ChoiceEra,
  closestChoice,
  type EndpointChoice,
  endpointKey,
  externalChoices,
  internalChoices,
  type TopologyNode,
} from "./endpoint-choices.ts";
import type { ExpectedServicePort } from "./expected-state.ts";
import type { IndexedRule } from "./kube-proxy-index.ts";
import type { NodeView, ReachedDnat } from "./node-view.ts";
import {
  ev,
  type FindingContext,
  missingFinding,
  noEntryFinding,
  onNode,
  staleFinding,
  where,
} from "./reconcile-findings.ts";

const MAX_LISTED = 10;

/** The external path of a service port (absent for ClusterIP-only Services). */
export interface ExternalCheck {
  /** The KUBE-NODEPORTS / KUBE-SERVICES rules of its NodePort, external IPs and LoadBalancer IPs. */
  readonly entries: readonly IndexedRule[];
  readonly dnat: ReadonlyMap<string, ReachedDnat>;
  readonly expected: readonly string[];
  readonly stale: readonly string[];
  readonly missing: readonly string[];
  /** External surfaces without an entry rule, e.g. `NodePort 30090`. */
  readonly absent: readonly string[];
  readonly choice: string;
}

/** What one service port looks like on the node. */
export interface PortCheck {
  readonly svcPortName: string;
  /** The nat KUBE-SERVICES rule for the ClusterIP, when present. */
  readonly entry?: IndexedRule;
  /** filter REJECT/DROP for the ClusterIP, when present. */
  readonly reject?: IndexedRule;
  /** Every DNAT reachable from the entry: `ip:port` → the DNAT rule and the jump to its SEP chain. */
  readonly dnat: ReadonlyMap<string, ReachedDnat>;
  /** The endpoints the node should DNAT to (`ip:port`), from the choice it matched or came closest to. */
  readonly expected: readonly string[];
  readonly stale: readonly string[];
  readonly missing: readonly string[];
  /** Which acceptable endpoint set that was, e.g. `ready endpoints` or `endpoints hinted for zone a`. */
  readonly choice?: string;
  readonly external?: ExternalCheck;
}

/** Inputs of {@linkcode checkPort} shared by every port of the node. */
export interface PortContext extends FindingContext {
  readonly view: NodeView;
  readonly topology: TopologyNode;
  readonly era: ChoiceEra;
}

function keys(choice: EndpointChoice): string[] {
  return choice.endpoints.map(endpointKey);
}

function chainUndefined(ctx: PortContext, sp: ExpectedServicePort, entry: IndexedRule): Finding {
  return makeFinding(
    "chain-undefined",
    {
      node: ctx.node,
      ...(ctx.nodeKind === undefined ? {} : { nodeKind: ctx.nodeKind }),
      chain: entry.target ?? "",
      table: "nat",
      where: where(sp),
    },
    { node: ctx.node, service: sp.service, evidence: [ev(ctx.file, entry)] },
  );
}

/** Checks the ClusterIP path and then the external path of `sp`, appending findings. */
export function checkPort(
  ctx: PortContext,
  sp: ExpectedServicePort,
): { check: PortCheck; findings: Finding[] } {
  const { view } = ctx;
  const findings: Finding[] = [];
  const choices = internalChoices(sp, ctx.topology, ctx.era);
  const entry = sp.clusterIP === undefined ? undefined : view.entryFor(sp, sp.clusterIP, sp.port);
  const reject =
    sp.clusterIP === undefined ? undefined : view.rejects.get(`${sp.clusterIP}:${sp.port}/${sp.protocol}`);
  let dnat: ReadonlyMap<string, ReachedDnat> = new Map();
  if (entry?.target !== undefined) {
    if (!view.declared(entry.target) && entry.target.startsWith("KUBE-"))
      findings.push(chainUndefined(ctx, sp, entry));
    dnat = view.dnatFrom(entry.target);
  }
  // Without an entry rule nothing is programmed: that is right only if "no endpoint" is a choice.
  const match =
    entry === undefined
      ? {
          choice: choices.find((c) => c.endpoints.length === 0) ?? choices[0]!,
          stale: [] as string[],
          missing: [] as string[],
        }
      : closestChoice(choices, new Set(dnat.keys()));
  const expected = keys(match.choice);
  if (expected.length > 0 && entry === undefined) {
    const foreign = sp.clusterIP === undefined ? [] : view.foreignEntries(sp, sp.clusterIP, sp.port);
    findings.push(
      noEntryFinding(ctx, sp, { expected, foreign, ...(reject === undefined ? {} : { reject }) }),
    );
  } else if (expected.length > 0 && reject !== undefined && entry !== undefined) {
    findings.push(
      makeFinding(
        "service-rejected",
        {
          ...onNode(ctx),
          where: where(sp),
          ready: expected.join(", "),
          target: reject.target ?? "REJECT",
          alongsideRules: true,
        },
        { node: ctx.node, service: sp.service, evidence: [ev(ctx.file, reject), ev(ctx.file, entry)] },
      ),
    );
  }
  for (const d of match.stale.slice(0, MAX_LISTED))
    findings.push(staleFinding(ctx, sp, { target: d, hit: dnat.get(d)!, expected }));
  if (match.missing.length > 0 && entry !== undefined) {
    const chainRules = entry.target === undefined ? [] : (view.index.nat.get(entry.target) ?? []);
    findings.push(
      missingFinding(ctx, sp, { missing: match.missing, entry, chainRules, ...labelOf(match.choice) }),
    );
  }
  const external = checkExternal(
    ctx,
    sp,
    { stale: match.stale, missing: match.missing, reported: expected.length > 0 && entry === undefined },
    findings,
  );
  const check: PortCheck = {
    svcPortName: sp.svcPortName,
    dnat,
    expected,
    stale: match.stale,
    missing: match.missing,
    choice: match.choice.label,
    ...(entry === undefined ? {} : { entry }),
    ...(reject === undefined ? {} : { reject }),
    ...(external === undefined ? {} : { external }),
  };
  return { check, findings };
}

function labelOf(choice: EndpointChoice): { kind?: string } {
  return choice.label === "ready endpoints" ? {} : { kind: choice.label.replace(/ \(.*\)$/, "") };
}

function externalEntries(
  view: NodeView,
  sp: ExpectedServicePort,
): { entries: IndexedRule[]; absent: string[] } {
  const entries: IndexedRule[] = [];
  const absent: string[] = [];
  for (const ip of [...sp.externalIPs, ...sp.loadBalancerIPs]) {
    const e = view.entryFor(sp, ip, sp.port);
    if (e === undefined) absent.push(`${ip}:${sp.port}`);
    else if (!entries.includes(e)) entries.push(e);
  }
  if (sp.nodePort !== undefined) {
    const rules = view.nodePortRules(sp);
    if (rules.length === 0) absent.push(`NodePort ${sp.nodePort}`);
    entries.push(...rules);
  }
  return { entries, absent };
}

/**
 * The external path: every external entry must exist while the Service has ready endpoints, and
 * what an outside client reaches through it (the Local-policy chain for `externalTrafficPolicy:
 * Local`) must be an acceptable endpoint set. Endpoints already reported on the ClusterIP path
 * (the same SEP chains) are not reported twice.
 */
function checkExternal(
  ctx: PortContext,
  sp: ExpectedServicePort,
  internal: { stale: readonly string[]; missing: readonly string[]; reported: boolean },
  findings: Finding[],
): ExternalCheck | undefined {
  if (sp.nodePort === undefined && sp.externalIPs.length === 0 && sp.loadBalancerIPs.length === 0)
    return undefined;
  const { entries, absent } = externalEntries(ctx.view, sp);
  // kube-proxy writes external entries only while the Service has endpoints (any node).
  const strict = sp.endpoints.some((e) => e.ready);
  const choices = externalChoices(sp, ctx.topology, ctx.era);
  const dnat = new Map<string, ReachedDnat>();
  for (const target of new Set(entries.map((e) => e.target).filter((t): t is string => t !== undefined))) {
    for (const [k, v] of ctx.view.dnatFrom(target, { external: true })) if (!dnat.has(k)) dnat.set(k, v);
  }
  const match = closestChoice(choices, new Set(dnat.keys()));
  const expected = keys(match.choice);
  // A Service whose ClusterIP entry is already reported missing is not reported again per surface.
  if (strict && absent.length > 0 && !internal.reported) {
    findings.push(
      makeFinding(
        "service-rules-missing",
        {
          node: ctx.node,
          ...(ctx.nodeKind === undefined ? {} : { nodeKind: ctx.nodeKind }),
          entries: "external",
          svcPortName: sp.svcPortName,
          absent,
        },
        {
          node: ctx.node,
          service: sp.service,
          evidence: [
            {
              file: ctx.file,
              text: `no matching rule in nat KUBE-SERVICES / KUBE-NODEPORTS for ${absent.join(", ")}`,
            },
          ],
        },
      ),
    );
  }
  const via = `from outside (${sp.externalLocal ? "externalTrafficPolicy Local" : "NodePort/external IP/LoadBalancer"})`;
  if (entries.length > 0) {
    for (const d of match.stale.filter((k) => !internal.stale.includes(k)).slice(0, MAX_LISTED))
      findings.push(staleFinding(ctx, sp, { target: d, hit: dnat.get(d)!, expected, via }));
    const missing = match.missing.filter((k) => !internal.missing.includes(k));
    if (missing.length > 0) {
      const first = entries[0]!;
      const chainRules = first.target === undefined ? [] : (ctx.view.index.nat.get(first.target) ?? []);
      findings.push(
        missingFinding(ctx, sp, { missing, entry: first, chainRules, via, ...labelOf(match.choice) }),
      );
    }
  }
  return {
    entries,
    dnat,
    expected,
    stale: match.stale,
    missing: match.missing,
    absent,
    choice: match.choice.label,
  };
}
