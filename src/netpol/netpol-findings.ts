/**
 * Findings from the two NetworkPolicy answers for one connection: the API's (policy objects) and
 * each enforcing node's (kube-router's chains and ipsets). Egress is enforced on the client's node,
 * ingress on the server's node. Codes:
 *
 * - `netpol-denied` (error): the policies deny the connection and the node agrees (or was not
 *   walked), or the node's rules reject it where the API cannot decide; names the isolating policies
 *   with file:line and the node rule that rejected;
 * - `netpol-node-disagrees` (error): the API allows and the node rejects, or the reverse: the node's
 *   ipsets or chains are stale (an ipset missing the client, k3s-io/k3s#7446, #7391);
 * - `netpol-not-enforced` (warning): policies select the pods but the node has no NetworkPolicy
 *   controller's chains, so nothing enforces them.
 */
import type { Evidence, Finding } from "../model/finding.ts";
import type { NodePolicyVerdict } from "./kube-router-verdict.ts";
import type { DirectionVerdict, NetpolQuery, NetpolVerdict, PolicyRef } from "./netpol-types.ts";
import { isPod } from "./netpol-types.ts";

/** A node answer and which end of the connection that node enforces for. */
export interface NodeAnswer {
  readonly role: "client" | "server";
  readonly verdict: NodePolicyVerdict;
}

export interface NetpolFindingInput {
  readonly query: NetpolQuery;
  readonly api: NetpolVerdict;
  readonly nodes: readonly NodeAnswer[];
  /** `namespace/name` of the Service the client asked for, when there is one. */
  readonly service?: string;
}

const policyText = (p: PolicyRef) => `NetworkPolicy ${p.namespace}/${p.name}`;

function policyEvidence(refs: readonly PolicyRef[]): Evidence[] {
  return refs.map((p) => ({
    file: p.file ?? "cluster/networkpolicies.json",
    ...(p.line === undefined ? {} : { line: p.line }),
    text: policyText(p),
  }));
}

function nodeEvidence(v: NodePolicyVerdict): Evidence[] {
  const out: Evidence[] = [];
  if (v.deniedAt !== undefined)
    out.push({ file: v.deniedAt.file, line: v.deniedAt.line, text: v.deniedAt.text });
  for (const c of v.consulted) out.push({ file: c.file, line: c.line, text: c.text });
  for (const a of v.allowedBy) out.push({ file: a.file, line: a.line, text: a.text });
  for (const s of v.setEvidence) out.push({ file: s.file, line: s.line, text: s.text });
  return out;
}

function connection(q: NetpolQuery): string {
  const c = isPod(q.client) ? `${q.client.metadata.namespace}/${q.client.metadata.name}` : q.client.ip;
  return `${c} → ${q.server.metadata.namespace}/${q.server.metadata.name}:${q.port}/${q.protocol}`;
}

function deniedDirections(api: NetpolVerdict): DirectionVerdict[] {
  return [api.egress, api.ingress].filter((d) => d.decision === "denied");
}

function base(input: NetpolFindingInput, node?: string): Pick<Finding, "node" | "service" | "pod"> {
  const q = input.query;
  return {
    ...(node === undefined ? {} : { node }),
    ...(input.service === undefined ? {} : { service: input.service }),
    pod: `${q.server.metadata.namespace}/${q.server.metadata.name}`,
  };
}

/** The node answers that enforce `direction`: egress on the client's node, ingress on the server's. */
function enforcing(nodes: readonly NodeAnswer[], direction: "ingress" | "egress"): NodePolicyVerdict[] {
  return nodes.filter((n) => n.role === (direction === "egress" ? "client" : "server")).map((n) => n.verdict);
}

/**
 * The findings for one connection (none when API and nodes agree that it is allowed).
 *
 * @example
 * ```ts
 * netpolFindings({ query, api, nodes: [{ role: "server", verdict: node }] })[0]?.code; // "netpol-denied"
 * ```
 */
export function netpolFindings(input: NetpolFindingInput): Finding[] {
  const what = connection(input.query);
  const denied = deniedDirections(input.api);
  if (denied.length > 0) return denied.flatMap((d) => deniedFindings(input, d, what));
  return [...unenforcedFindings(input, what), ...nodeDeniedFindings(input, what)];
}

/** A direction the API denies: not enforced, contradicted by the node, or denied (and where). */
function deniedFindings(input: NetpolFindingInput, d: DirectionVerdict, what: string): Finding[] {
  const out: Finding[] = [];
  const nodes = enforcing(input.nodes, d.direction);
  const isolating = policyEvidence(d.selecting);
  const names = d.selecting.map((p) => `${p.namespace}/${p.name}`).join(", ");
  const allowing = nodes.find((n) => n.decision === "allowed");
  const unenforced = nodes.find((n) => n.decision === "not-enforced");
  if (unenforced !== undefined) {
    out.push({
      code: "netpol-not-enforced",
      severity: "warning",
      message: `NetworkPolicy ${names} would deny ${what} (${d.direction}), but node ${unenforced.node} has no NetworkPolicy controller's rules: nothing enforces it (${unenforced.reason})`,
      evidence: isolating,
      ...base(input, unenforced.node),
      fix: "Enable a NetworkPolicy controller on the node (k3s: do not start the server with --disable-network-policy), or do not rely on the policy",
    });
  } else if (allowing !== undefined) {
    out.push({
      code: "netpol-node-disagrees",
      severity: "error",
      message: `the API denies ${what} (${d.direction} of ${names}: no rule allows it), but node ${allowing.node}'s rules allow it${allowing.allowedBy.length > 0 ? ` by ${allowing.allowedBy.map((a) => a.name).join(", ")}` : ""}: the node's chains or ipsets are stale`,
      evidence: [...isolating, ...nodeEvidence(allowing)],
      ...base(input, allowing.node),
      fix: "Restart the NetworkPolicy controller on the node (k3s: restart k3s) so it rewrites its chains and ipsets, then collect again",
      references: ["https://github.com/k3s-io/k3s/issues/7446"],
    });
  } else {
    const rejecting = nodes.find((n) => n.decision === "denied");
    out.push({
      code: "netpol-denied",
      severity: "error",
      message: `NetworkPolicy denies ${what}: ${d.reason}${rejecting?.deniedAt !== undefined ? `; node ${rejecting.node} rejects it at ${rejecting.deniedAt.file}:${rejecting.deniedAt.line}` : ""}`,
      evidence: [...isolating, ...(rejecting === undefined ? [] : nodeEvidence(rejecting))],
      ...base(input, rejecting?.node),
      fix: `Add an ${d.direction} rule that admits ${what} to a policy selecting the pod, or change the pod's labels`,
    });
  }
  return out;
}

/** Policies select the pods but a node enforces nothing. */
function unenforcedFindings(input: NetpolFindingInput, what: string): Finding[] {
  const { api } = input;
  const out: Finding[] = [];
  const selecting = [...api.egress.selecting, ...api.ingress.selecting];
  const unenforced = input.nodes.find((n) => n.verdict.decision === "not-enforced");
  if (unenforced !== undefined && selecting.length > 0) {
    out.push({
      code: "netpol-not-enforced",
      severity: "warning",
      message: `NetworkPolicy ${[...new Set(selecting.map((p) => `${p.namespace}/${p.name}`))].join(", ")} select the pods of ${what}, but node ${unenforced.verdict.node} has no NetworkPolicy controller's rules: nothing enforces them`,
      evidence: policyEvidence(selecting),
      ...base(input, unenforced.verdict.node),
      fix: "Enable a NetworkPolicy controller on the node (k3s: do not start the server with --disable-network-policy)",
    });
  }
  return out;
}

/** The API allows (or cannot decide) and a node rejects. */
function nodeDeniedFindings(input: NetpolFindingInput, what: string): Finding[] {
  const { api } = input;
  const out: Finding[] = [];
  // One node may enforce both ends (client and server on the same node): report it once.
  const seen = new Set<string>();
  for (const n of input.nodes) {
    if (n.verdict.decision !== "denied" || seen.has(n.verdict.node)) continue;
    seen.add(n.verdict.node);
    const d = n.role === "client" ? api.egress : api.ingress;
    if (api.decision === "allowed") {
      const by = [...api.egress.allowedBy, ...api.ingress.allowedBy];
      out.push({
        code: "netpol-node-disagrees",
        severity: "error",
        message: `the API allows ${what}${by.length > 0 ? ` (${[...new Set(by.map((a) => `${a.policy.namespace}/${a.policy.name}`))].join(", ")})` : ""}, but node ${n.verdict.node} rejects it at ${n.verdict.deniedAt?.file}:${n.verdict.deniedAt?.line}: its ipsets or chains are stale (e.g. an ipset missing the client's address)`,
        evidence: [...policyEvidence(by.map((a) => a.policy)), ...nodeEvidence(n.verdict)],
        ...base(input, n.verdict.node),
        fix: "Restart the NetworkPolicy controller on the node (k3s: restart k3s) so it rewrites its ipsets, then collect again",
        references: [
          "https://github.com/k3s-io/k3s/issues/7446",
          "https://github.com/k3s-io/k3s/issues/7391",
        ],
      });
    } else if (api.decision === "undecided") {
      out.push({
        code: "netpol-denied",
        severity: "error",
        message: `node ${n.verdict.node}'s NetworkPolicy rules reject ${what} at ${n.verdict.deniedAt?.file}:${n.verdict.deniedAt?.line}; the API side cannot be decided (${d.missing.join("; ") || d.reason})`,
        evidence: nodeEvidence(n.verdict),
        ...base(input, n.verdict.node),
      });
    }
  }
  return out;
}
