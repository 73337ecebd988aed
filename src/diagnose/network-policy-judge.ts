/**
 * How the network-policy link (link-network-policy.ts) judges the answers of the endpoints it
 * checked: a node that rejects breaks the link; missing or undecided node evidence for a direction a
 * policy isolates leaves it undecided; a node letting through what the API denies puts it at risk;
 * otherwise it is ok, naming the policies that allow and the node rules that agree.
 */

import { makeFinding } from "../findings/make-finding.ts";
import { checkStep } from "../model/diagnosis.ts";
import type { Evidence, Finding } from "../model/finding.ts";
import type { NodePolicyVerdict } from "../netpol/kube-router-verdict.ts";
import type { NodeAnswer } from "../netpol/netpol-findings.ts";
import type { NetpolVerdict, PolicyRef } from "../netpol/netpol-types.ts";
import { type Link, undecided, type WalkContext } from "./link.ts";
import type { PolicyTarget } from "./netpol-evidence.ts";
import { deniedProof, describeNodeVerdict, policyList, rejectSees } from "./network-policy-words.ts";

const CHECK = "network-policy";

/** The answer for one endpoint. */
export interface TargetAnswer {
  readonly target: PolicyTarget;
  readonly api: NetpolVerdict;
  readonly nodes: readonly NodeAnswer[];
  readonly findings: readonly Finding[];
  /** What node evidence the answer lacks, with how to get it. */
  readonly missing: readonly { readonly what: string; readonly how: string }[];
}

function dedupe(fs: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return fs.filter((f) => !seen.has(f.message) && seen.add(f.message) !== undefined);
}

type State = "broken" | "undecided" | "at-risk" | "ok";
const RANK: Readonly<Record<State, number>> = { broken: 0, undecided: 1, "at-risk": 2, ok: 3 };

/** How one endpoint's answers combine: the node's rejection decides; the API alone never proves a drop. */
function stateOf(a: TargetAnswer): State {
  if (a.nodes.some((n) => n.verdict.decision === "denied")) return "broken";
  if (a.missing.length > 0 || undecidedNodes(a).length > 0) return "undecided";
  if (a.api.decision === "denied") return "at-risk";
  if (a.api.decision === "undecided" && !a.nodes.some((n) => n.verdict.decision === "allowed"))
    return "undecided";
  return "ok";
}

/** Enforcing nodes whose walk could not decide, for a direction a policy isolates. */
function undecidedNodes(a: TargetAnswer): NodePolicyVerdict[] {
  return a.nodes
    .filter(
      (n) =>
        n.verdict.decision === "undecided" &&
        (n.role === "client" ? a.api.egress : a.api.ingress).selecting.length > 0,
    )
    .map((n) => n.verdict);
}

/** The link from the answers of the endpoints checked (`total` endpoints in all). */
export function judge(ctx: WalkContext, answers: readonly TargetAnswer[], total: number): Link {
  const findings = dedupe(answers.flatMap((a) => a.findings));
  const codes = [...new Set(findings.map((f) => f.code))];
  const states = answers.map(stateOf);
  const worst = states.reduce((w, s) => (RANK[s] < RANK[w] ? s : w), "ok" as State);
  const a = answers[states.indexOf(worst)]!;
  const count = states.filter((s) => s === worst).length;
  const of = total > 1 ? ` (${count} of ${total} endpoints)` : "";
  switch (worst) {
    case "broken": {
      const proof = a.findings.find((f) => f.severity === "error")!;
      const node = a.nodes.find((n) => n.verdict.decision === "denied")!.verdict;
      const sees = rejectSees(node, ctx.question.packet!.protocol);
      return {
        step: checkStep(CHECK, "broken", `${proof.message}${deniedProof(node)}${of}`, {
          findings: codes,
        }),
        findings: [proof, ...findings.filter((f) => f !== proof)],
        proof,
        ...(sees === undefined ? {} : { clientSees: sees }),
      };
    }
    case "undecided":
      return undecidedLink(a, findings, of);
    case "at-risk": {
      const f = findings.find((x) => x.severity !== "info");
      const detail = `${f?.message ?? `the API denies it (${policyList(a.api)}) but the node lets it through`}${of}`;
      return {
        step: checkStep(CHECK, "at-risk", detail, { findings: codes }),
        findings,
        risk: codes.join(", ") || "policy not enforced",
      };
    }
    case "ok": {
      const allowed = answers.flatMap((x) => allowedFinding(ctx, x));
      const all = [...findings, ...allowed];
      const okCodes = [...new Set(all.map((f) => f.code))];
      return {
        step: checkStep(
          CHECK,
          "ok",
          allowedDetail(a, total > 1 ? ` (${answers.length} of ${total} endpoints checked)` : ""),
          okCodes.length === 0 ? {} : { findings: okCodes },
        ),
        findings: all,
      };
    }
    default: {
      const never: never = worst;
      return never;
    }
  }
}

/** Undecided: the node's evidence is missing or its walk stopped, or the API cannot decide. */
function undecidedLink(a: TargetAnswer, findings: readonly Finding[], of: string): Link {
  const apiText =
    a.api.decision === "denied"
      ? `the API denies it (${policyList(a.api)})`
      : a.api.decision === "allowed"
        ? `policies select the pods (${policyList(a.api)})`
        : `the API cannot decide (${[a.api.egress, a.api.ingress].find((x) => x.decision === "undecided")?.reason ?? "unknown"})`;
  if (a.missing.length > 0) {
    const what = [...new Set(a.missing.map((m) => m.what))];
    return undecided(
      CHECK,
      `${apiText}, but the node's proof is missing: ${what.join(", ")}${of}`,
      { missing: what.join(", "), howToGet: [...new Set(a.missing.map((m) => m.how))].join("; ") },
      findings,
    );
  }
  const stuck = undecidedNodes(a);
  if (stuck.length > 0)
    return undecided(
      CHECK,
      `${apiText}, but ${stuck.map(describeNodeVerdict).join("; ")}${of}`,
      {
        missing: "what the node's NetworkPolicy rules do with the packet",
        howToGet: `read the rules on the path by hand, or \`netdoctor trace --bundle DIR --node ${stuck[0]!.node}\``,
      },
      findings,
    );
  return undecided(
    CHECK,
    `${apiText}${of}`,
    {
      missing:
        [...a.api.egress.missing, ...a.api.ingress.missing].join("; ") || "the objects the policies refer to",
      howToGet: "`netdoctor collect` again (cluster/namespaces.json, cluster/pods.json)",
    },
    findings,
  );
}

/**
 * `netpol-allowed` (info) for an endpoint that policies isolate and allow: the deciding policies
 * with their lines and the node rules that marked the packet, for the report's path diagram.
 */
function allowedFinding(ctx: WalkContext, a: TargetAnswer): Finding[] {
  if (!selects(a) || a.api.decision !== "allowed") return [];
  const refs = new Map<string, PolicyRef>();
  for (const r of [...a.api.egress.allowedBy, ...a.api.ingress.allowedBy])
    refs.set(`${r.policy.namespace}/${r.policy.name}`, r.policy);
  const nodes = [...new Map(a.nodes.map((n) => [n.verdict.node, n.verdict])).values()];
  const rules = nodes.flatMap((v) => v.allowedBy.map((r) => ({ node: v.node, r })));
  const evidence: Evidence[] = [
    ...[...refs.values()].map((p) => ({
      file: p.file ?? "cluster/networkpolicies.json",
      ...(p.line === undefined ? {} : { line: p.line }),
      text: `NetworkPolicy ${p.namespace}/${p.name}`,
    })),
    ...rules.map(({ r }) => ({ file: r.file, line: r.line, text: r.text })),
  ];
  const sets = new Set<string>();
  for (const v of nodes)
    for (const e of v.setEvidence)
      if (!sets.has(`${e.file}:${e.line}`) && sets.add(`${e.file}:${e.line}`) !== undefined)
        evidence.push({ file: e.file, line: e.line, text: e.text });
  const q = ctx.question;
  const pod = `${a.target.pod.metadata.namespace}/${a.target.pod.metadata.name}`;
  const values = {
    connection: `${q.clientKey} → ${pod}:${a.target.port}/${q.packet!.protocol.toUpperCase()}`,
    policies: [...refs.keys()],
    nodeRules: rules.map(({ node, r }) => `${node} ${r.file}:${r.line}`),
  };
  const service = q.expected?.service;
  return [
    makeFinding("netpol-allowed", values, { evidence, pod, ...(service === undefined ? {} : { service }) }),
  ];
}

/** Whether a policy selects the client (egress) or the endpoint (ingress). */
function selects(a: TargetAnswer): boolean {
  return a.api.egress.selecting.length > 0 || a.api.ingress.selecting.length > 0;
}

function allowedDetail(a: TargetAnswer, count: string): string {
  const by = [...a.api.egress.allowedBy, ...a.api.ingress.allowedBy];
  const api = !selects(a)
    ? "no NetworkPolicy selects the client (egress) or the endpoint (ingress)"
    : `allowed by ${[...new Set(by.map((r) => `NetworkPolicy ${r.policy.namespace}/${r.policy.name}${r.policy.line === undefined ? "" : ` (${r.policy.file ?? "cluster/networkpolicies.json"}:${r.policy.line})`}`))].join(", ")}`;
  const nodes = [...new Map(a.nodes.map((n) => [n.verdict.node, n.verdict])).values()].map(
    describeNodeVerdict,
  );
  return `${a.target.pod.metadata.namespace}/${a.target.pod.metadata.name}:${a.target.port}: ${api}${nodes.length === 0 ? "" : `; ${nodes.join("; ")}`}${count}`;
}
