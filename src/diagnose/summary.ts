/** The one sentence of a diagnosis, built from the links' typed facts (never from their prose). */
import type { CheckName, Verdict } from "../model/diagnosis.ts";
import type { Link } from "./link.ts";

export interface QuestionSummaryInput {
  readonly from: string;
  readonly to: string;
  readonly clientNode?: string;
  readonly links: readonly Link[];
  readonly verdict: Verdict;
  readonly at?: CheckName;
  /** Node-health errors off the asked path, e.g. `prod-agent1 (rules-duplicated, rules-outlier)`. */
  readonly sickElsewhere: readonly string[];
}

function where(check: CheckName, node: string | undefined): string {
  return check.startsWith("node") && node !== undefined ? ` on ${node}` : "";
}

function riskList(links: readonly Link[], node: string | undefined): string {
  return links
    .filter((l) => l.step.status === "at-risk")
    .map((l) => `${l.step.check}${where(l.step.check, node)} (${l.risk ?? l.step.detail})`)
    .join("; ");
}

/** The summary of a `--from/--to` walk. */
export function questionSummary(s: QuestionSummaryInput): string {
  const link = s.links.find((l) => l.step.check === s.at);
  const elsewhere =
    s.sickElsewhere.length === 0
      ? ""
      : `. Off this path, node health errors on ${s.sickElsewhere.join("; ")}: run diagnose without --from/--to`;
  const risks = riskList(s.links, s.clientNode);
  if (s.verdict === "reachable" || link === undefined) {
    const proven = (check: string) =>
      s.links.some((l) => l.step.check === check && (l.step.status === "ok" || l.step.status === "at-risk"));
    // The endpoint-node link proven: the path across nodes up to the pod and back.
    const last = proven("endpoint-node")
      ? "the endpoint's node and back"
      : s.links.some((l) => l.step.check === "node-dataplane" && l.step.status !== "not-applicable")
        ? `${s.clientNode ?? "its node"}'s rules`
        : "the destination";
    return (
      `${s.from} can reach ${s.to}: every link from DNS to ${last} is proven` +
      (risks === "" ? "" : `; at risk: ${risks}`) +
      elsewhere
    );
  }
  const at = `${s.at}${where(link.step.check, s.clientNode)}`;
  if (s.verdict === "broken") {
    const health = s.links.find((l) => l.step.check === "node-health" && l.step.status === "at-risk");
    return (
      `${s.from} → ${s.to} breaks at ${at}: ${link.proof?.message ?? link.step.detail}` +
      (link.clientSees === undefined ? "" : `; the client gets ${link.clientSees}`) +
      (health === undefined || s.at === "node-health"
        ? ""
        : `. The node's iptables is unhealthy too: ${health.risk ?? health.step.detail}`) +
      elsewhere
    );
  }
  const others = s.links.filter((l) => l.step.status === "undecided").length - 1;
  return (
    `${s.from} → ${s.to} is not proven: undecided at ${at}: ${link.step.detail}` +
    (link.step.missing === undefined ? "" : `. Missing: ${link.step.missing}`) +
    (link.step.howToGet === undefined ? "" : `; to get it: ${link.step.howToGet}`) +
    (others > 0 ? ` (${others} more undecided link${others > 1 ? "s" : ""})` : "") +
    (risks === "" ? "" : `. At risk: ${risks}`) +
    elsewhere
  );
}
