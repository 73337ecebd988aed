/**
 * The text verdict of `netdoctor diagnose`: what is broken and where, the walk, every finding with
 * its evidence (bundle-relative file:line and the rule text), the fix and references, and a node
 * table. Text from dumps and API objects is data: control characters are shown escaped.
 */
import type { CheckStep, Diagnosis, LinkStatus, NodeSummary } from "../model/diagnosis.ts";
import type { Finding } from "../model/finding.ts";
import type { Step, TraceResult } from "../model/trace.ts";
import { terminalSafe } from "../text/terminal-safe.ts";
import { addressText } from "../trace/address-text.ts";
import { pathTraceLines } from "./path-trace-lines.ts";
import { clientErrorOf, describeOutcome, dispositionWord, stepText } from "./trace-words.ts";

const SEVERITY = { error: "ERROR", warning: "WARN ", info: "INFO " } as const;

/** Escapes what a terminal would act on (see text/terminal-safe.ts). */
export const safe = terminalSafe;

function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

const MARK: Readonly<Record<LinkStatus, string>> = {
  ok: "[ok]  ",
  broken: "[FAIL]",
  "at-risk": "[risk]",
  undecided: "[?]   ",
  "not-applicable": "[n/a] ",
};

function step(s: CheckStep): string[] {
  const out = [`  ${MARK[s.status]} ${s.check.padEnd(15)} ${safe(s.detail)}`];
  if (s.missing !== undefined || s.howToGet !== undefined) {
    const parts = [
      s.missing === undefined ? undefined : `missing: ${safe(s.missing)}`,
      s.howToGet === undefined ? undefined : `to get it: ${safe(s.howToGet)}`,
    ].filter((x) => x !== undefined);
    out.push(`  ${" ".repeat(23)}${parts.join("; ")}`);
  }
  return out;
}

function verdictLine(d: Diagnosis): string {
  switch (d.verdict) {
    case "reachable":
      return d.question === undefined ? "VERDICT: HEALTHY" : "VERDICT: REACHABLE";
    case "broken":
      return `VERDICT: BROKEN at ${d.brokenAt ?? "?"}`;
    case "undecided":
      return `VERDICT: UNDECIDED${d.undecidedAt === undefined ? "" : ` at ${d.undecidedAt}`} (not proven: evidence is missing)`;
    default: {
      const never: never = d.verdict;
      throw new TypeError(`Unknown verdict ${String(never)}`);
    }
  }
}

function finding(f: Finding): string[] {
  const scope = [
    f.node === undefined ? undefined : `node ${f.node}`,
    f.service === undefined ? undefined : `service ${f.service}`,
    f.pod === undefined ? undefined : `pod ${f.pod}`,
  ]
    .filter((x) => x !== undefined)
    .join(", ");
  const out = [
    `${SEVERITY[f.severity]} ${f.code}${scope === "" ? "" : ` (${safe(scope)})`}`,
    `    ${safe(f.message)}`,
  ];
  for (const e of f.evidence) {
    out.push(`    ${safe(e.line === undefined ? e.file : `${e.file}:${e.line}`)}  ${safe(clip(e.text))}`);
  }
  if (f.fix !== undefined) out.push(`    fix: ${safe(f.fix)}`);
  if (f.references !== undefined && f.references.length > 0)
    out.push(`    see: ${safe(f.references.join(", "))}`);
  return out;
}

function nodeTable(nodes: readonly NodeSummary[]): string[] {
  const rows = [["NODE", "RULES", "DUPLICATES", "IPTABLES", "PROXY MODE", "KUBE-PROXY", "KNOWN BUGS"]];
  for (const n of nodes) {
    rows.push([
      n.node,
      n.readable ? String(n.rules) : "unreadable",
      String(n.duplicateRules),
      n.iptablesVersion ??
        (n.header?.version === undefined ? "?" : `${n.header.program ?? "iptables"} v${n.header.version}`),
      n.kubeProxy?.mode ?? "-",
      n.kubeProxy?.era?.label ?? "-",
      n.knownBugs.length === 0 ? "-" : n.knownBugs.join(", "),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows
    .map((r) => `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")}`.trimEnd())
    .map(safe);
  return [...table, ...nodeNotes(nodes)];
}

/**
 * Under the table, what the columns cannot hold: how the mode was decided when it is not plain
 * iptables mode, and kube-proxy's sync health when its metrics or canaries say something.
 */
function nodeNotes(nodes: readonly NodeSummary[]): string[] {
  const out: string[] = [];
  for (const n of nodes) {
    const k = n.kubeProxy;
    if (k === undefined) continue;
    if (k.mode !== "iptables") out.push(`  ${safe(n.node)}: proxy mode ${k.mode}: ${safe(k.modeReason)}`);
    if (k.health !== undefined) out.push(`  ${safe(n.node)}: ${safe(k.health.summary)}`);
  }
  return out;
}

/** The steps worth a line in the diagnosis: Service jumps, DNAT, drops, rejects, policies, what ended a path. */
function keyStep(s: Step): boolean {
  switch (s.kind) {
    case "filter":
      switch (s.action.kind) {
        case "jump":
        case "goto":
          return s.action.target.startsWith("KUBE-S") || s.action.target.includes("DROP");
        case "reject":
        case "drop":
        case "policy":
          return true;
        default:
          return false;
      }
    case "transform":
      return s.action.kind === "dnat";
    case "routing":
      return s.decision !== "local" && s.decision !== "forward";
    case "neighbor":
      return s.state === "no-answer";
    default:
      return false;
  }
}

function stepLine(s: Step): string {
  const where =
    s.kind === "filter" || s.kind === "transform"
      ? `${s.table}/${safe(s.chain)} line ${s.evidence.line}`
      : s.kind;
  return `    ${where}: ${safe(stepText(s))}`;
}

/** The trace section: each path's outcome, then its key steps (at most 8). */
function traceLines(t: TraceResult): string[] {
  const f = t.flow;
  const out = [`Trace (${f.protocol} ${f.srcIp} -> ${f.dstIp}:${f.dstPort ?? ""}, from ${f.ingress}):`];
  for (const p of t.traces) {
    const err = clientErrorOf(p.disposition);
    out.push(
      `  ${Math.round(p.probability * 1000) / 10}% ${dispositionWord(p.disposition)} ${safe(addressText(p.headers.dst))}${err === undefined ? "" : ` (${err})`} - ${safe(describeOutcome(p, f))}`,
    );
    const steps = p.hops.flatMap((h) => h.steps).filter(keyStep);
    for (const s of steps.slice(0, 8)) out.push(stepLine(s));
  }
  return out;
}

/** Renders a {@linkcode Diagnosis} for people. */
export function renderDiagnosisText(d: Diagnosis): string {
  const out: string[] = [];
  out.push(`netdoctor diagnose${d.cluster === undefined ? "" : ` - cluster ${safe(d.cluster)}`}`);
  if (d.question !== undefined) {
    const q = d.question;
    const extra = [
      q.clientNode === undefined ? undefined : `client node ${q.clientNode}`,
      q.clusterIp === undefined ? undefined : `destination ${q.clusterIp}:${q.port}`,
    ]
      .filter((x) => x !== undefined)
      .join(", ");
    out.push(
      `question: can ${safe(q.from ?? "?")} reach ${safe(q.to ?? "?")}?${extra === "" ? "" : ` (${safe(extra)})`}`,
    );
  } else out.push("question: every Service on every node (no --from/--to)");
  out.push("");
  out.push(verdictLine(d));
  if (d.atRisk.length > 0)
    out.push(`AT RISK: ${d.atRisk.join(", ")} (works now, may break later: see the findings)`);
  out.push(`  ${safe(d.summary)}`, "", "Checks:");
  for (const s of d.steps) out.push(...step(s));
  const counts = { error: 0, warning: 0, info: 0 };
  for (const f of d.findings) counts[f.severity]++;
  out.push("", `Findings: ${counts.error} error, ${counts.warning} warning, ${counts.info} info`);
  for (const f of d.findings) out.push(...finding(f));
  if (d.trace !== undefined) out.push("", ...traceLines(d.trace));
  if (d.pathTrace !== undefined) out.push("", ...pathTraceLines(d.pathTrace));
  out.push("", "Nodes:", ...nodeTable(d.nodes));
  return `${out.join("\n")}\n`;
}
