/**
 * The words of the network-policy link (link-network-policy.ts): a node's kube-router answer with
 * the rule and ipset lines it rests on, the policies of an API answer, what the client sees at a
 * rejecting rule, and how to collect a node's missing evidence.
 */
import type { NodePolicyVerdict } from "../netpol/kube-router-verdict.ts";
import type { NetpolVerdict, PolicyRef } from "../netpol/netpol-types.ts";
import { ERRNO_MESSAGES, rejectEffect } from "../trace/reject-errno.ts";

/** `x/deny-web (cluster/networkpolicies.json:12)`. */
export function policyText(p: PolicyRef): string {
  return `${p.namespace}/${p.name}${p.line === undefined ? "" : ` (${p.file ?? "cluster/networkpolicies.json"}:${p.line})`}`;
}

/** The policies selecting the pods of an API answer, each with its line. */
export function policyList(v: NetpolVerdict): string {
  const refs = new Map<string, PolicyRef>();
  for (const p of [...v.egress.selecting, ...v.ingress.selecting]) refs.set(`${p.namespace}/${p.name}`, p);
  return [...refs.values()].map(policyText).join(", ") || "no policy";
}

/** Up to three ipset lines a node answer read, as `file:line`. */
function setLines(v: NodePolicyVerdict): string {
  const lines = [...new Set(v.setEvidence.map((s) => `${s.file}:${s.line}`))];
  if (lines.length === 0) return "";
  return `; ipsets read: ${lines.slice(0, 3).join(", ")}${lines.length > 3 ? ` and ${lines.length - 3} more` : ""}`;
}

/** The chain a rule line belongs to (`-A CHAIN ...`). */
function chainOf(text: string): string {
  return /^-A (\S+)/.exec(text)?.[1] ?? "a rule";
}

/** Why a node's rules rejected: the chain, the policies consulted that did not mark it, the ipset lines read. */
export function deniedProof(v: NodePolicyVerdict): string {
  const consulted = [...new Set(v.consulted.map((c) => c.name))];
  const chain = v.deniedAt === undefined ? "" : ` (${chainOf(v.deniedAt.text)})`;
  return `${chain}${consulted.length === 0 ? "" : `, no rule of ${consulted.join(", ")} marked it`}${setLines(v)}`;
}

/** One sentence: what the node's NetworkPolicy rules do with the packet, and the lines that say so. */
export function describeNodeVerdict(v: NodePolicyVerdict): string {
  switch (v.decision) {
    case "denied": {
      const at = v.deniedAt === undefined ? "" : ` at ${v.deniedAt.file}:${v.deniedAt.line}`;
      return `node ${v.node} rejects it${at}${deniedProof(v)}`;
    }
    case "allowed": {
      if (v.allowedBy.length > 0) {
        const a = v.allowedBy[0]!;
        const name = a.namespace === undefined ? a.name : `${a.namespace}/${a.name}`;
        return `node ${v.node} allows it by policy ${name} at ${a.file}:${a.line}${setLines(v)}`;
      }
      return v.allowedByDefault
        ? `node ${v.node} allows it (no policy selects the pod there: KUBE-NWPLCY-DEFAULT)${setLines(v)}`
        : `node ${v.node}'s NetworkPolicy rules let it through (${v.reason})`;
    }
    case "not-enforced":
      return `node ${v.node} enforces no NetworkPolicy (${v.reason})`;
    case "undecided":
      return `node ${v.node}'s NetworkPolicy rules cannot be decided (${v.reason})`;
    default: {
      const never: never = v.decision;
      return never;
    }
  }
}

/** What a client sees at the node's rejecting rule: the errno of its `--reject-with`, or a timeout for DROP. */
export function rejectSees(v: NodePolicyVerdict, protocol: string): string | undefined {
  const text = v.deniedAt?.text;
  if (text === undefined) return undefined;
  if (/ -j DROP\b/.test(text)) return "no answer (a timeout)";
  if (!/ -j REJECT\b/.test(text)) return undefined;
  const effect = rejectEffect(/--reject-with (\S+)/.exec(text)?.[1]);
  const errno = effect === undefined ? undefined : protocol === "udp" ? effect.udpError : effect.tcpError;
  return errno === undefined ? "no answer (a timeout)" : `${errno} ("${ERRNO_MESSAGES[errno] ?? errno}")`;
}

/** How to collect a node's missing NetworkPolicy evidence. */
export function nodeMissing(node: string, what: "ipset save"): string {
  return `run \`netdoctor collect --nodes ${node}\`, or \`ssh ${node} sudo ipset save > nodes/${node}/ipset-save.txt\` (${what})`;
}
