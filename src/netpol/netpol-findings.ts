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
import { type FindingScope, makeFinding } from "../findings/make-finding.ts";
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
  // A walk may read one set line many times (a set matched by several rules): cite it once.
  const seen = new Set<string>();
  return out.filter((e) => !seen.has(`${e.file}:${e.line}`) && seen.add(`${e.file}:${e.line}`) !== undefined);
}

function connection(q: NetpolQuery): string {
  const c = isPod(q.client) ? `${q.client.metadata.namespace}/${q.client.metadata.name}` : q.client.ip;
  return `${c} → ${q.server.metadata.namespace}/${q.server.metadata.name}:${q.port}/${q.protocol}`;
}

function deniedDirections(api: NetpolVerdict): DirectionVerdict[] {
  return [api.egress, api.ingress].filter((d) => d.decision === "denied");
}

function scope(input: NetpolFindingInput, evidence: readonly Evidence[], node?: string): FindingScope {
  const q = input.query;
  return {
    evidence,
    ...(node === undefined ? {} : { node }),
    ...(input.service === undefined ? {} : { service: input.service }),
    pod: `${q.server.metadata.namespace}/${q.server.metadata.name}`,
  };
}

const refName = (p: PolicyRef) => `${p.namespace}/${p.name}`;
const at = (v: NodePolicyVerdict) =>
  v.deniedAt === undefined ? undefined : `${v.deniedAt.file}:${v.deniedAt.line}`;

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
  const nodes = enforcing(input.nodes, d.direction);
  const isolating = policyEvidence(d.selecting);
  const policies = d.selecting.map(refName);
  const allowing = nodes.find((n) => n.decision === "allowed");
  const unenforced = nodes.find((n) => n.decision === "not-enforced");
  if (unenforced !== undefined) {
    const v = { connection: what, node: unenforced.node, policies, denies: true };
    return [makeFinding("netpol-not-enforced", v, scope(input, isolating, unenforced.node))];
  }
  if (allowing !== undefined) {
    const v = {
      connection: what,
      node: allowing.node,
      api: "denies" as const,
      policies,
      nodeAllowedBy: allowing.allowedBy.map((a) =>
        a.namespace === undefined ? a.name : `${a.namespace}/${a.name}`,
      ),
    };
    return [
      makeFinding(
        "netpol-node-disagrees",
        v,
        scope(input, [...isolating, ...nodeEvidence(allowing)], allowing.node),
      ),
    ];
  }
  const rejecting = nodes.find((n) => n.decision === "denied");
  const where = rejecting === undefined ? undefined : at(rejecting);
  const pod =
    d.direction === "ingress"
      ? input.query.server
      : isPod(input.query.client)
        ? input.query.client
        : undefined;
  const v = {
    connection: what,
    direction: d.direction,
    pod: pod === undefined ? what : `${pod.metadata.namespace}/${pod.metadata.name}`,
    policies,
    ...(rejecting === undefined ? {} : { node: rejecting.node }),
    ...(where === undefined ? {} : { at: where }),
  };
  const evidence = [...isolating, ...(rejecting === undefined ? [] : nodeEvidence(rejecting))];
  return [makeFinding("netpol-denied", v, scope(input, evidence, rejecting?.node))];
}

/** Policies select the pods but a node enforces nothing. */
function unenforcedFindings(input: NetpolFindingInput, what: string): Finding[] {
  const selecting = [...input.api.egress.selecting, ...input.api.ingress.selecting];
  const unenforced = input.nodes.find((n) => n.verdict.decision === "not-enforced");
  if (unenforced === undefined || selecting.length === 0) return [];
  const v = {
    connection: what,
    node: unenforced.verdict.node,
    policies: [...new Set(selecting.map(refName))],
    denies: false,
  };
  return [
    makeFinding("netpol-not-enforced", v, scope(input, policyEvidence(selecting), unenforced.verdict.node)),
  ];
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
    const where = at(n.verdict) ?? n.verdict.reason;
    if (api.decision === "allowed") {
      const by = [...api.egress.allowedBy, ...api.ingress.allowedBy].map((a) => a.policy);
      const v = {
        connection: what,
        node: n.verdict.node,
        api: "allows" as const,
        policies: [...new Set(by.map(refName))],
        at: where,
      };
      out.push(
        makeFinding(
          "netpol-node-disagrees",
          v,
          scope(input, [...policyEvidence(by), ...nodeEvidence(n.verdict)], n.verdict.node),
        ),
      );
    } else if (api.decision === "undecided") {
      const pod = n.role === "client" && isPod(input.query.client) ? input.query.client : input.query.server;
      const v = {
        connection: what,
        direction: d.direction,
        pod: `${pod.metadata.namespace}/${pod.metadata.name}`,
        policies: [],
        node: n.verdict.node,
        at: where,
        apiUndecided: d.missing.join("; ") || d.reason,
      };
      out.push(makeFinding("netpol-denied", v, scope(input, nodeEvidence(n.verdict), n.verdict.node)));
    }
  }
  return out;
}
