/**
 * Which endpoints a correct kube-proxy may program on a node for one service port. There can be
 * more than one right answer, because versions and feature gates differ: topology hints
 * (v1.21+, a node may program only its zone's or, since v1.33, its own hinted endpoints) and the
 * terminating-endpoint fallback (Local policy v1.22+ behind ProxyTerminatingEndpoints, Cluster
 * policy v1.26+). A node matching any choice is in sync. Rules from `CategorizeEndpoints` and
 * `topologyModeFromHints` in kubernetes/kubernetes pkg/proxy/topology.go.
 */
import { joinHostPort } from "./chain-names.ts";
import type { ExpectedEndpoint, ExpectedServicePort } from "./expected-state.ts";

/** One acceptable endpoint set, with the reason it is acceptable (for messages). */
export interface EndpointChoice {
  readonly label: string;
  readonly endpoints: readonly ExpectedEndpoint[];
}

/** The node as topology sees it. */
export interface TopologyNode {
  readonly name: string;
  /** Label `topology.kubernetes.io/zone`; when unknown, every hinted zone is a candidate. */
  readonly zone?: string;
}

/** What the dump says about the kube-proxy version, when it decides a choice. */
export interface ChoiceEra {
  /** kube-proxy falls back to serving-terminating endpoints for Cluster policy (v1.26+). */
  readonly clusterTerminatingFallback?: boolean;
}

/** `ip:port` as kube-proxy's DNAT target writes it. */
export function endpointKey(e: ExpectedEndpoint): string {
  return joinHostPort(e.ip, e.port);
}

function hintedChoices(ready: readonly ExpectedEndpoint[], node: TopologyNode): EndpointChoice[] {
  const out: EndpointChoice[] = [];
  // Hints apply only when every ready endpoint carries them (topologyModeFromHints).
  if (ready.every((e) => (e.hints?.forNodes.length ?? 0) > 0)) {
    const mine = ready.filter((e) => e.hints?.forNodes.includes(node.name));
    if (mine.length > 0) out.push({ label: `endpoints hinted for node ${node.name}`, endpoints: mine });
  }
  if (ready.every((e) => (e.hints?.forZones.length ?? 0) > 0)) {
    const zones =
      node.zone !== undefined ? [node.zone] : [...new Set(ready.flatMap((e) => e.hints?.forZones ?? []))];
    for (const zone of zones.sort()) {
      const inZone = ready.filter((e) => e.hints?.forZones.includes(zone));
      if (inZone.length > 0 && inZone.length < ready.length)
        out.push({ label: `endpoints hinted for zone ${zone}`, endpoints: inZone });
    }
  }
  return out;
}

/** Cluster policy: the ready endpoints (or a topology subset), else serving-terminating ones. */
export function clusterChoices(
  sp: ExpectedServicePort,
  node: TopologyNode,
  era: ChoiceEra = {},
): EndpointChoice[] {
  const ready = sp.endpoints.filter((e) => e.ready);
  if (ready.length > 0)
    return [{ label: "ready endpoints", endpoints: ready }, ...hintedChoices(ready, node)];
  const fallback = sp.endpoints.filter((e) => e.serving && e.terminating);
  const none: EndpointChoice = { label: "no ready endpoint", endpoints: [] };
  if (fallback.length === 0) return [none];
  const terminating: EndpointChoice = {
    label: "serving terminating endpoints (kube-proxy v1.26+ uses them when none is ready)",
    endpoints: fallback,
  };
  if (era.clusterTerminatingFallback === true) return [terminating];
  if (era.clusterTerminatingFallback === false) return [none];
  return [terminating, none];
}

/** Local policy: the node's ready endpoints, else its serving-terminating ones (v1.22+ gate, v1.26+ default). */
export function localChoices(sp: ExpectedServicePort, node: TopologyNode): EndpointChoice[] {
  const local = sp.endpoints.filter((e) => e.nodeName === node.name);
  const ready = local.filter((e) => e.ready);
  if (ready.length > 0) return [{ label: `ready endpoints on ${node.name}`, endpoints: ready }];
  const fallback = local.filter((e) => e.serving && e.terminating);
  const none: EndpointChoice = { label: `no ready endpoint on ${node.name}`, endpoints: [] };
  if (fallback.length === 0) return [none];
  return [
    {
      label: `serving terminating endpoints on ${node.name} (ProxyTerminatingEndpoints)`,
      endpoints: fallback,
    },
    none,
  ];
}

/** What the ClusterIP sends to: Cluster choices, or Local ones with `internalTrafficPolicy: Local`. */
export function internalChoices(
  sp: ExpectedServicePort,
  node: TopologyNode,
  era: ChoiceEra = {},
): EndpointChoice[] {
  return sp.internalLocal ? localChoices(sp, node) : clusterChoices(sp, node, era);
}

/** What NodePorts, external IPs and LoadBalancer IPs send to (`externalTrafficPolicy`). */
export function externalChoices(
  sp: ExpectedServicePort,
  node: TopologyNode,
  era: ChoiceEra = {},
): EndpointChoice[] {
  return sp.externalLocal ? localChoices(sp, node) : clusterChoices(sp, node, era);
}

/** The result of comparing what a node programs with the acceptable choices. */
export interface ChoiceMatch {
  readonly choice: EndpointChoice;
  /** Programmed, but in no endpoint of the chosen set. */
  readonly stale: readonly string[];
  /** In the chosen set, but not programmed. */
  readonly missing: readonly string[];
}

/**
 * The choice that matches what the node programs exactly, or else the closest one (fewest
 * differences; the first choice on a tie, which is the primary expectation).
 */
export function closestChoice(
  choices: readonly EndpointChoice[],
  programmed: ReadonlySet<string>,
): ChoiceMatch {
  let best: ChoiceMatch | undefined;
  for (const choice of choices) {
    const keys = new Set(choice.endpoints.map(endpointKey));
    const stale = [...programmed].filter((k) => !keys.has(k));
    const missing = [...keys].filter((k) => !programmed.has(k));
    const cost = stale.length + missing.length;
    if (best === undefined || cost < best.stale.length + best.missing.length)
      best = { choice, stale, missing };
    if (cost === 0) break;
  }
  if (best === undefined) throw new RangeError("closestChoice needs at least one choice");
  return best;
}
