/**
 * Why a node's duplicate rules are there, chosen from its evidence: the leak bug whose signature
 * matches (iptables version and backend, owners of the copies), else a static ruleset (no copy is a
 * component's), else what is known about the components' copies and where to look.
 */
import type { DuplicateCause } from "../findings/health-entries.ts";
import type { RuleOwner } from "../scan/rule-owner.ts";
import type { BugContext } from "./bug-context.ts";
import { versionInRange } from "./iptables-version.ts";
import { fixFor } from "./known-bug.ts";
import { LEAK_BUGS } from "./leak-bugs.ts";
import { isManaged, type LeakFacts, versionText } from "./leak-facts.ts";

/** Who writes each owner's rules, in words. */
export const WRITERS: Readonly<Record<RuleOwner, string>> = {
  "kube-router": "kube-router's network-policy controller (embedded in k3s, or the kube-router DaemonSet)",
  flannel: "flannel (embedded in k3s, or the kube-flannel DaemonSet)",
  "kube-proxy": "kube-proxy / kubelet (embedded in k3s, or the kube-proxy DaemonSet and kubelet)",
  calico: "calico-node",
  cni: "the CNI plugins (they run when pods start)",
  docker: "dockerd",
  other: "whatever else manages iptables on the node",
};

const K3S_IPTABLES =
  "k3s's embedded controllers use the host's iptables, or with --prefer-bundled-bin the one k3s ships (/var/lib/rancher/k3s/data/current/bin/aux/iptables --version)";
const POD_IPTABLES =
  "kubelet uses the host's iptables, kube-proxy, flannel and kube-router pods the one in their image (run `iptables --version` in the pod)";

function whichIptables(ctx: BugContext): string {
  switch (ctx.kind.distribution) {
    case "k3s":
      return K3S_IPTABLES;
    case "rke2":
    case "kubeadm":
      return POD_IPTABLES;
    case "unknown":
      return `on k3s, ${K3S_IPTABLES}; elsewhere ${POD_IPTABLES}`;
    default: {
      const never: never = ctx.kind.distribution;
      throw new TypeError(`Unknown distribution ${String(never)}`);
    }
  }
}

/**
 * The cause of the copies in `facts` for a node in `ctx`.
 *
 * @example
 * ```ts
 * duplicateCause(leakFactsOf(evidence)!, bugContext(nodeKindOf(node), evidence)).kind; // "known-bug"
 * ```
 */
export function duplicateCause(facts: LeakFacts, ctx: BugContext): DuplicateCause {
  const managed = facts.groups.filter((g) => isManaged(g.owner));
  const v = facts.version;
  if (managed.length === 0) {
    const noCheck = v !== undefined && versionInRange(v, "0.0.0", "1.4.10") ? versionText(v) : undefined;
    return { kind: "static", ...(noCheck === undefined ? {} : { noCheck }) };
  }
  for (const bug of LEAK_BUGS) {
    const hit = bug.leak?.(facts);
    if (hit === undefined) continue;
    return {
      kind: "known-bug",
      bug: {
        id: bug.id,
        title: bug.title,
        detail: hit.message,
        cure: bug.cure?.(ctx) ?? fixFor(bug, ctx),
        references: bug.references,
      },
    };
  }
  const owners = [...new Set(managed.map((g) => g.owner))];
  return {
    kind: "unexplained",
    ...(v === undefined ? {} : { version: `${versionText(v)}${facts.ip6 ? " (ip6tables)" : ""}` }),
    writers: owners.map((o) => WRITERS[o]).join(" and "),
    whichIptables: whichIptables(ctx),
  };
}
