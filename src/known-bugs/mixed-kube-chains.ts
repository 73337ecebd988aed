/**
 * The `mixed-iptables-backends` known bug (KB-07, issue 15): kube-proxy's or kube-router's chains
 * in both iptables backends. Having both backends is harmless by itself (kubernetes/node-problem-
 * detector PR #844: "generally doesn't matter" for self-contained rules); Kubernetes' own chains in
 * both are the well-known leftover of a backend switch (an OS or k3s upgrade, a kube-proxy image on
 * the other backend: kubernetes/kubernetes#71305, #107965; cloudnativelabs/kube-router#1069): the
 * kernel runs both sets, and the one nobody writes any more holds stale Service and policy rules.
 */
import type { Detection } from "./known-bug.ts";
import type { NodeEvidence } from "./node-evidence.ts";

/** What the node's evidence shows, or undefined when one backend has no Kubernetes chain. */
export function mixedKubeChains(e: NodeEvidence): Detection | undefined {
  const k = e.kubeChains;
  if (k === undefined || k.legacy.chains.size === 0 || k.nfTables.chains.size === 0) return undefined;
  const common = [...k.legacy.chains.keys()].filter((c) => k.nfTables.chains.has(c));
  const at = (side: typeof k.legacy) => {
    const name = common[0] ?? [...side.chains.keys()][0]!;
    const c = side.chains.get(name)!;
    return { file: side.file, line: c.line, text: c.text };
  };
  const same =
    common.length === 0
      ? ""
      : `, ${common.length} by the same name (${common.slice(0, 3).join(", ")}${common.length > 3 ? ", …" : ""})`;
  return {
    message: `Node "${e.node}" has kube-proxy/kube-router chains in both iptables backends: ${k.legacy.chains.size} in legacy (${k.legacy.file}) and ${k.nfTables.chains.size} in nf_tables (${k.nfTables.file})${same}; the kernel runs both, and the set no component writes any more is stale`,
    evidence: [at(k.legacy), at(k.nfTables)],
  };
}
