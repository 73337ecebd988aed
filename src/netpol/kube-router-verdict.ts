/**
 * The node's NetworkPolicy answer from kube-router's filter chains (k3s embeds kube-router's
 * controller, pkg/agent/netpol): KUBE-ROUTER-FORWARD/INPUT/OUTPUT jump to a KUBE-POD-FW-* chain per
 * local pod, which runs the pod through KUBE-NWPLCY-* chains (one per policy; a rule that allows
 * marks the packet 0x10000 and its comment names the policy: "... selected by policy name NAME
 * namespace NS") or KUBE-NWPLCY-DEFAULT when no policy selects the pod in that direction, then
 * logs (NFLOG group 100) and REJECTs what no policy marked. The walk of filter-walk.ts supplies the
 * path; this file reads the policy names, the rule that rejected and the sets that decided.
 */
import type { IpsetSave } from "../ipset/ipset-model.ts";
import type { SetEvidence } from "../ipset/match-set.ts";
import type { Ruleset } from "../model/ruleset.ts";
import type { FilterPacket } from "./filter-match.ts";
import { type FilterWalk, walkFilter } from "./filter-walk.ts";

/** A rule line of the node's dump that takes part in the answer. */
export interface NodeRuleRef {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

/** A policy the node's rules name, with the rule that named it. */
export interface NodePolicyHit extends NodeRuleRef {
  readonly namespace?: string;
  readonly name: string;
}

export type NodeDecision = "allowed" | "denied" | "undecided" | "not-enforced";

export interface NodePolicyVerdict {
  readonly node: string;
  readonly decision: NodeDecision;
  readonly reason: string;
  /** MARK rules of KUBE-NWPLCY-* chains that accepted the packet for a policy. */
  readonly allowedBy: readonly NodePolicyHit[];
  /** True when KUBE-NWPLCY-DEFAULT marked it: no policy selects the pod in that direction. */
  readonly allowedByDefault: boolean;
  /** `run through nw policy NAME` jumps taken. */
  readonly consulted: readonly NodePolicyHit[];
  /** The REJECT/DROP rule that stopped the packet. */
  readonly deniedAt?: NodeRuleRef;
  /** The ipset lines the matches read. */
  readonly setEvidence: readonly SetEvidence[];
  readonly walk?: FilterWalk;
}

export interface KubeRouterOptions {
  readonly node: string;
  /** Bundle-relative path of the dump (evidence). */
  readonly file: string;
  readonly sets: IpsetSave | undefined;
  readonly localIps?: readonly number[];
  /** Whether pod traffic crosses a bridge here (flannel's cni0 does; unknown by default). */
  readonly bridged?: boolean;
  /** FORWARD for pod-to-pod traffic through the node (the default). */
  readonly hook?: "FORWARD" | "INPUT" | "OUTPUT";
}

const ALLOW_COMMENT = /selected by policy name:? (\S+) namespace (\S+)/;
const RUN_THROUGH = /^run through nw policy (\S+)$/;

/** Chain prefixes of other NetworkPolicy enforcers, which this walk does not evaluate. */
const OTHER_ENFORCERS: readonly [string, string][] = [
  ["cali-", "Calico"],
  ["CILIUM_", "Cilium"],
  ["ANTREA-", "Antrea"],
  ["WEAVE-NPC", "Weave Net"],
  ["OVN-KUBE-", "OVN-Kubernetes"],
];

/** Which NetworkPolicy enforcer's chains the dump holds: kube-router, another (named), or none. */
export function policyEnforcer(ruleset: Ruleset): { kind: "kube-router" | "other" | "none"; name?: string } {
  const chains = [...(ruleset.tables.get("filter")?.chains.keys() ?? [])];
  if (chains.some((c) => c === "KUBE-ROUTER-FORWARD" || c.startsWith("KUBE-POD-FW-")))
    return { kind: "kube-router" };
  for (const [prefix, name] of OTHER_ENFORCERS) {
    for (const t of ruleset.tables.values()) {
      if ([...t.chains.keys()].some((c) => c.startsWith(prefix))) return { kind: "other", name };
    }
  }
  return { kind: "none" };
}

/**
 * Walks `packet` (a new connection) through the node's filter rules and says whether kube-router's
 * chains allow it and by which policy, or which rule rejects it.
 */
export function kubeRouterVerdict(
  ruleset: Ruleset,
  packet: FilterPacket,
  options: KubeRouterOptions,
): NodePolicyVerdict {
  const base = { node: options.node, allowedBy: [], allowedByDefault: false, consulted: [], setEvidence: [] };
  const enforcer = policyEnforcer(ruleset);
  if (enforcer.kind === "none") {
    return {
      ...base,
      decision: "not-enforced",
      reason: `${options.file} has no NetworkPolicy controller's chains (no KUBE-ROUTER-FORWARD, KUBE-POD-FW-*, cali-*, CILIUM_*)`,
    };
  }
  if (enforcer.kind === "other") {
    return {
      ...base,
      decision: "undecided",
      reason: `${options.file} holds ${enforcer.name}'s chains; only kube-router's are evaluated`,
    };
  }
  const walk = walkFilter(ruleset, options.hook ?? "FORWARD", packet, {
    sets: options.sets,
    localIps: options.localIps,
    bridged: options.bridged,
  });
  const ref = (line: number, text: string): NodeRuleRef => ({ file: options.file, line, text });
  const allowedBy: NodePolicyHit[] = [];
  const consulted: NodePolicyHit[] = [];
  let allowedByDefault = false;
  for (const s of walk.steps) {
    const comment = s.ruleRef?.spec.comment ?? "";
    if (s.chain.startsWith("KUBE-NWPLCY-") && s.action.startsWith("MARK")) {
      const m = ALLOW_COMMENT.exec(comment);
      if (s.chain === "KUBE-NWPLCY-DEFAULT") allowedByDefault = true;
      else
        allowedBy.push({
          ...ref(s.line, s.rule),
          name: m?.[1] ?? s.chain,
          ...(m?.[2] === undefined ? {} : { namespace: m[2] }),
        });
    }
    const run = RUN_THROUGH.exec(comment);
    if (run !== null && s.chain.startsWith("KUBE-POD-FW-"))
      consulted.push({ ...ref(s.line, s.rule), name: run[1]! });
  }
  const last = walk.steps.at(-1);
  const common = {
    node: options.node,
    allowedBy,
    allowedByDefault,
    consulted,
    setEvidence: walk.setEvidence,
    walk,
  };
  switch (walk.verdict) {
    case "accept":
      return { ...common, decision: "allowed", reason: walk.reason };
    case "drop":
    case "reject":
      return {
        ...common,
        decision: "denied",
        reason: walk.reason,
        ...(last === undefined ? {} : { deniedAt: ref(last.line, last.rule) }),
      };
    case "undecided":
      return { ...common, decision: "undecided", reason: walk.reason };
    default: {
      const never: never = walk.verdict;
      throw new TypeError(`Unknown verdict ${String(never)}`);
    }
  }
}
