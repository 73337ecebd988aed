/**
 * The full check (no `--from/--to`): every Service port on every node, and every node's health.
 * Healthy only when every node's rules were read and agree with the API.
 */
import { makeFinding } from "../findings/make-finding.ts";
import type { ExpectedServicePort } from "../kube-proxy/expected-state.ts";
import { type CheckStep, checkStep, verdictOf } from "../model/diagnosis.ts";
import type { Finding } from "../model/finding.ts";
import type { DumpState } from "./link.ts";

/** One node as the full check sees it. */
export interface NodeCheck {
  readonly node: string;
  readonly file: string;
  readonly dump: DumpState;
  readonly proxyUndecided?: string;
  readonly dataplane: readonly Finding[];
  readonly health: readonly Finding[];
}

function byNode(findings: readonly Finding[]): string {
  const counts = new Map<string, number>();
  for (const f of findings) counts.set(f.node ?? "cluster", (counts.get(f.node ?? "cluster") ?? 0) + 1);
  return [...counts].map(([n, c]) => `${n} (${c})`).join(", ");
}

function codes(findings: readonly Finding[]): string[] {
  return [...new Set(findings.map((f) => f.code))];
}

/** Broken beats undecided beats at risk beats ok. */
function worst(found: CheckStep | undefined, blind: CheckStep | undefined, ok: CheckStep): CheckStep {
  if (found?.status === "broken") return found;
  return blind ?? found ?? ok;
}

function findingStep(
  check: "node-dataplane" | "node-health",
  findings: readonly Finding[],
  what: string,
): CheckStep | undefined {
  const errors = findings.filter((f) => f.severity === "error");
  const warnings = findings.filter((f) => f.severity === "warning");
  const bad = errors.length > 0 ? errors : warnings;
  if (bad.length === 0) return undefined;
  return checkStep(
    check,
    errors.length > 0 ? "broken" : "at-risk",
    `${what} on ${byNode(bad)}: ${codes(bad).join(", ")}`,
    {
      findings: codes(bad),
    },
  );
}

function unreadable(
  check: "node-dataplane" | "node-health",
  nodes: readonly NodeCheck[],
): CheckStep | undefined {
  // No node at all proves nothing about any node: "all 0 nodes agree" must not read as healthy.
  if (nodes.length === 0)
    return checkStep(check, "undecided", "the bundle has no node directory: no node's rules were read", {
      missing: "nodes/NODE/iptables-save.txt for the cluster's nodes",
      howToGet: "run `netdoctor collect` (it collects every node unless --nodes says otherwise)",
    });
  const blind = nodes.filter(
    (n) => n.dump !== "read" || (check === "node-dataplane" && n.proxyUndecided !== undefined),
  );
  if (blind.length === 0) return undefined;
  const names = blind.map((n) => n.node);
  return checkStep(
    check,
    "undecided",
    `cannot check ${names.join(", ")}: ${blind.map((n) => n.proxyUndecided ?? `${n.file} ${n.dump === "missing" ? "is missing" : n.dump === "failed" ? "failed on the node" : "does not parse"}`).join("; ")}`,
    {
      missing:
        blind
          .filter((n) => n.proxyUndecided === undefined)
          .map((n) => n.file)
          .join(", ") || "rules netdoctor can analyse for their proxy mode",
      howToGet: `run \`netdoctor collect --nodes ${names.join(",")}\``,
    },
  );
}

/** The steps and findings of the full check. */
export function fullCheck(
  nodes: readonly NodeCheck[],
  options: {
    readonly ports: readonly ExpectedServicePort[];
    readonly outliers: readonly Finding[];
    readonly bundle: CheckStep;
  },
): { readonly steps: CheckStep[]; readonly findings: Finding[]; readonly summary: string } {
  const { ports, outliers } = options;
  const dataplane = nodes.flatMap((n) => n.dataplane);
  // A node whose dump is simply missing is undecided, not broken: its `iptables-unreadable` says so.
  const blind = new Set(
    nodes.filter((n) => n.dump === "missing" || n.dump === "unparsable").map((n) => n.node),
  );
  const health = [...nodes.flatMap((n) => n.health), ...outliers];
  const judged = health.filter(
    (f) => !(f.code === "iptables-unreadable" && f.node !== undefined && blind.has(f.node)),
  );
  const noEndpoints = ports.filter((p) => p.clusterEndpoints.length === 0);
  const endpointsNone = noEndpoints.map((p) =>
    makeFinding(
      "endpoints-none",
      { context: "full-check", service: p.service, svcPortName: p.svcPortName },
      {
        service: p.service,
        evidence: [
          {
            file: p.source?.file ?? "cluster/services.json",
            ...(p.source?.line === undefined ? {} : { line: p.source.line }),
            text: `service ${p.svcPortName} ${p.clusterIP}:${p.port}/${p.protocol}`,
          },
        ],
      },
    ),
  );
  const readable = nodes.filter((n) => n.dump === "read").length;
  const steps = [
    options.bundle,
    checkStep(
      "endpoints",
      "ok",
      `${ports.length} service ports; ${noEndpoints.length} without ready endpoints`,
    ),
    worst(
      findingStep("node-dataplane", dataplane, "kube-proxy rules disagree with the API"),
      unreadable("node-dataplane", nodes),
      checkStep(
        "node-dataplane",
        "ok",
        `${ports.length} service ports match the API on all ${readable} readable nodes`,
      ),
    ),
    worst(
      findingStep("node-health", judged, "node health problems"),
      unreadable("node-health", nodes),
      checkStep("node-health", "ok", "no duplicate rules, outliers or known iptables bugs"),
    ),
  ];
  const findings = [...endpointsNone, ...dataplane, ...health];
  return {
    steps,
    findings,
    summary: fullSummary(steps, findings, { nodes: nodes.length, ports: ports.length }),
  };
}

function fullSummary(
  steps: readonly CheckStep[],
  findings: readonly Finding[],
  counts: { readonly nodes: number; readonly ports: number },
): string {
  const v = verdictOf(steps);
  const at = steps.find((s) => s.check === v.at);
  const risks = steps.filter((s) => s.status === "at-risk").map((s) => s.detail);
  if (v.verdict === "reachable" || at === undefined)
    return (
      `All ${counts.ports} service ports are programmed correctly on all ${counts.nodes} nodes and no node shows a known problem` +
      (risks.length === 0 ? "" : `; at risk: ${risks.join("; ")}`)
    );
  if (v.verdict === "undecided")
    return `Not proven: ${at.detail}${at.missing === undefined ? "" : `. Missing: ${at.missing}`}${at.howToGet === undefined ? "" : `; to get it: ${at.howToGet}`}`;
  const errs = findings.filter((f) => f.severity === "error");
  const where = [...new Set(errs.map((f) => f.node).filter((n): n is string => n !== undefined))];
  return `${errs.length} error${errs.length === 1 ? "" : "s"}${where.length > 0 ? ` on ${where.join(", ")}` : ""}: ${at.detail}`;
}
