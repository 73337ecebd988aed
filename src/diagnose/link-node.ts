/**
 * The client-node link (which node runs the client, and whether the bundle has it) and the
 * node-health link (duplicates, outliers, known bugs). Node health is not on the packet's path: its
 * problems make the link at risk (kube-proxy may stop keeping the path working), never the verdict.
 */
import type { NodeSummary } from "../model/diagnosis.ts";
import type { Finding } from "../model/finding.ts";
import { type ClientNodeFacts, collectNode, type Link, plain, undecided, type WalkContext } from "./link.ts";

/** The link every node-side check shares when the bundle lacks the client node. */
export function missingNode(ctx: WalkContext, check: "client-node" | "node-dataplane" | "node-health"): Link {
  const { client, clientKey } = ctx.question;
  const node = client.nodeName;
  if (node === undefined)
    return undecided(
      check,
      `pod ${clientKey} is not scheduled on a node (phase ${client.phase ?? "unknown"})`,
      {
        missing: "the node the client pod runs on",
        howToGet: "wait until the pod is scheduled and running, then collect the bundle again",
      },
    );
  return undecided(
    check,
    check === "client-node"
      ? `pod ${clientKey} runs on ${node}, but the bundle has no nodes/${node}/ directory`
      : `cannot check ${node}: the bundle has no nodes/${node}/ directory`,
    { missing: `nodes/${node}/ (its iptables-save.txt)`, howToGet: collectNode(node) },
  );
}

/** Why the client node's dump cannot be used, as an undecided link of `check`. */
export function unreadableDump(n: ClientNodeFacts, check: "node-dataplane" | "node-health"): Link {
  const why =
    n.dump === "missing"
      ? `${n.file} is missing`
      : n.dump === "failed"
        ? `iptables-save failed on ${n.node} (see iptables-unreadable)`
        : `${n.file} does not parse (see bundle-invalid)`;
  return undecided(check, `cannot check ${n.node}'s rules: ${why}`, {
    missing: n.file,
    howToGet:
      n.dump === "failed"
        ? `fix iptables on ${n.node} (see its iptables-unreadable finding), then ${collectNode(n.node)}`
        : collectNode(n.node),
  });
}

/** The client-node link. */
export function clientNodeLink(ctx: WalkContext): Link {
  const n = ctx.node;
  if (n === undefined) return missingNode(ctx, "client-node");
  const { client, clientKey, nodeIp } = ctx.question;
  const rules =
    n.dump === "read"
      ? ` (${n.summary.rules} rules)`
      : ` (${n.dump === "missing" ? "missing" : "unreadable"})`;
  return plain(
    "client-node",
    "ok",
    `pod ${clientKey} (${client.podIP ?? "no IP"}${client.hostNetwork ? ", hostNetwork" : ""}) runs on ${n.node}${nodeIp === undefined ? "" : ` (${nodeIp})`}; its rules: ${n.file}${rules}`,
  );
}

/** `rules-duplicated (179000 duplicate rules)`, `iptables-known-bug (k3s-3117)`, from typed counts. */
export function healthShort(f: Finding, s: NodeSummary): string {
  switch (f.code) {
    case "rules-duplicated":
      return `${f.code} (${s.duplicateRules} duplicate rules)`;
    case "rules-outlier":
      return `${f.code} (${s.rules} rules)`;
    case "iptables-known-bug":
      return s.knownBugs.length === 0 ? f.code : `${f.code} (${s.knownBugs.join(", ")})`;
    default:
      return f.code;
  }
}

/** The node-health link: at risk on any warning or error, undecided when the rules cannot be read. */
export function healthLink(ctx: WalkContext): Link {
  const n = ctx.node;
  if (n === undefined) return missingNode(ctx, "node-health");
  if (n.dump === "missing" || n.dump === "unparsable")
    return { ...unreadableDump(n, "node-health"), findings: n.health };
  const bad = n.health.filter((f) => f.severity !== "info");
  if (bad.length === 0)
    return {
      ...plain("node-health", "ok", `${n.node}: no duplicate rules, outliers or known iptables bugs`),
      findings: n.health,
    };
  const shorts = [...new Set(bad.map((f) => healthShort(f, n.summary)))].join(", ");
  const link = plain("node-health", "at-risk", `${n.node}: ${shorts}`, { risk: shorts });
  return {
    ...link,
    step: { ...link.step, findings: [...new Set(bad.map((f) => f.code))] },
    findings: n.health,
  };
}
