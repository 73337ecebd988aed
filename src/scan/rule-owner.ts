/** The component that wrote a rule, for grouping duplicates and for metrics labels. */
export type RuleOwner = "kube-proxy" | "kube-router" | "flannel" | "calico" | "cni" | "docker" | "other";

export const RULE_OWNERS: readonly RuleOwner[] = [
  "kube-proxy",
  "kube-router",
  "flannel",
  "calico",
  "cni",
  "docker",
  "other",
];

/** Which component owns a chain, judged by its name alone. */
export function chainOwner(chain: string): RuleOwner | undefined {
  if (
    chain.startsWith("KUBE-ROUTER-") ||
    chain.startsWith("KUBE-POD-FW-") ||
    chain.startsWith("KUBE-NWPLCY-")
  ) {
    return "kube-router";
  }
  if (chain.startsWith("KUBE-")) return "kube-proxy";
  if (chain.startsWith("FLANNEL-")) return "flannel";
  if (chain.startsWith("cali-")) return "calico";
  if (chain.startsWith("CNI-")) return "cni";
  if (chain.startsWith("DOCKER")) return "docker";
  return undefined;
}

/**
 * Which component wrote a rule: the owner of its chain; for a rule in a
 * built-in chain, the owner of the chain it jumps to, or its comment
 * (flannel writes "flanneld masq" / "flanneld forward" into POSTROUTING and FORWARD).
 *
 * @param chain The chain the rule is in.
 * @param text The rule text `-A CHAIN ...`.
 */
export function ruleOwner(chain: string, text: string): RuleOwner {
  const byChain = chainOwner(chain);
  if (byChain !== undefined) return byChain;
  const j = text.lastIndexOf(" -j ");
  const g = j < 0 ? text.lastIndexOf(" -g ") : j;
  if (g >= 0) {
    const rest = text.slice(g + 4);
    const sp = rest.indexOf(" ");
    const byTarget = chainOwner(sp < 0 ? rest : rest.slice(0, sp));
    if (byTarget !== undefined) return byTarget;
  }
  if (text.includes("flanneld")) return "flannel";
  if (text.includes("kube-router")) return "kube-router";
  if (text.includes("cali:")) return "calico";
  return "other";
}
