/**
 * The node-dataplane link: the client node's kube-proxy rules reconciled with the API, and the packet
 * traced through them. Proven only when the rules agree and every traced path reaches a target (or,
 * for an outside destination, leaves the node); broken by a rule finding or a blocked path; otherwise
 * undecided with what is missing.
 */
import { makeFinding } from "../findings/make-finding.ts";
import { checkStep } from "../model/diagnosis.ts";
import type { Finding } from "../model/finding.ts";
import { type ClientNodeFacts, type Link, undecided, type WalkContext } from "./link.ts";
import { ipvsDataplaneLink } from "./link-ipvs.ts";
import { missingNode, unreadableDump } from "./link-node.ts";
import { type TraceFacts, traceFacts } from "./trace-facts.ts";

/** The node's findings that concern this path: the asked Service, and the cluster DNS when a name is looked up. */
function onPath(ctx: WalkContext, n: ClientNodeFacts): Finding[] {
  const q = ctx.question;
  const asked = q.expected?.service;
  const dns = q.usesClusterDns ? q.dnsPort?.service : undefined;
  return n.dataplane.filter((f) => f.service === undefined || f.service === asked || f.service === dns);
}

function traceUnknownFinding(n: ClientNodeFacts, t: NonNullable<TraceFacts["unknown"]>): Finding {
  return makeFinding(
    "trace-unknown",
    { node: n.node, share: t.share, reason: t.reason },
    { node: n.node, evidence: t.evidence },
  );
}

function blockedFinding(n: ClientNodeFacts, b: NonNullable<TraceFacts["blocked"]>): Finding {
  return makeFinding(
    "path-blocked",
    { node: n.node, outcome: b.outcome, share: b.share, by: b.by, clientSees: b.clientSees },
    { node: n.node, evidence: b.evidence },
  );
}

function traced(ctx: WalkContext, n: ClientNodeFacts, found: readonly Finding[]): Link {
  const q = ctx.question;
  if (n.trace === undefined)
    return undecided(
      "node-dataplane",
      n.traceError === undefined
        ? `no packet to trace: ${q.noPacket ?? "unknown destination"}`
        : `the trace failed: ${n.traceError}`,
      n.traceError === undefined && q.resolution.kind === "outside-name"
        ? {
            missing: `the address "${q.target.host}" resolves to`,
            howToGet: `resolve it from the pod and ask again with --to ADDRESS:${q.target.port}`,
          }
        : {
            missing: "a packet the tracer can follow",
            howToGet: "ask with --to ADDRESS:PORT (a ClusterIP or pod IP)",
          },
      found,
    );
  const t = traceFacts(n.trace, {
    ...(q.targets === undefined ? {} : { targets: q.targets }),
    ...(q.expected === undefined ? {} : { expected: q.expected }),
    cluster: ctx.cluster,
    node: n.node,
    file: n.file,
  });
  if (t.blocked !== undefined) {
    const proof = blockedFinding(n, t.blocked);
    return {
      step: checkStep("node-dataplane", "broken", `${proof.message}; ${t.text}`, { findings: [proof.code] }),
      findings: [...found, proof],
      proof,
      clientSees: t.blocked.clientSees,
    };
  }
  const unknown = t.unknown === undefined ? [] : [traceUnknownFinding(n, t.unknown)];
  if (t.wrongTarget !== undefined || t.unknown !== undefined) {
    const why =
      t.unknown !== undefined
        ? `the trace cannot decide ${t.unknown.share}% of the paths: ${t.unknown.reason}`
        : `the trace reaches ${t.wrongTarget!.destination}, which is not a target, and no rule finding explains it`;
    return undecided(
      "node-dataplane",
      `${why}; ${t.text}`,
      {
        missing:
          t.unknown !== undefined
            ? "the facts the tracer could not see (interfaces, marks, conntrack state)"
            : "why the rules send the packet there",
        howToGet: `\`netdoctor trace --dump ${n.file}\` with the missing facts, or read the rules on the path by hand`,
      },
      [...found, ...unknown],
    );
  }
  const masq = t.masquerade && q.targets === undefined ? " (masqueraded to the node's address)" : "";
  const detail =
    q.targets === undefined
      ? `${n.node}'s rules let the packet leave the node${masq}; ${t.text}`
      : q.expected === undefined
        ? `${n.node}'s rules deliver the packet to ${q.targets.join(", ")}; ${t.text}`
        : `${n.node}'s kube-proxy rules for ${q.expected.svcPortName} match the API; ${t.text}`;
  const warn = found.filter((f) => f.severity === "warning");
  if (warn.length > 0)
    return {
      step: checkStep("node-dataplane", "at-risk", detail, {
        findings: [...new Set(warn.map((f) => f.code))],
      }),
      findings: found,
      risk: [...new Set(warn.map((f) => f.code))].join(", "),
    };
  return { step: checkStep("node-dataplane", "ok", detail), findings: found };
}

/** The node-dataplane link of a question. */
export function dataplaneLink(ctx: WalkContext): Link {
  const n = ctx.node;
  if (n === undefined) return missingNode(ctx, "node-dataplane");
  if (n.dump !== "read") return unreadableDump(n, "node-dataplane");
  if (n.ipvs !== undefined) return ipvsDataplaneLink(ctx, n, onPath(ctx, n));
  if (n.proxyUndecided !== undefined)
    return undecided("node-dataplane", `cannot check ${n.node}'s data plane: ${n.proxyUndecided}`, {
      missing: `rules netdoctor can analyse for ${n.node}'s proxy mode`,
      howToGet: "check the node with the tools of that mode (e.g. `ipvsadm -Ln`, `nft list ruleset`) by hand",
    });
  const found = onPath(ctx, n);
  const errors = found.filter((f) => f.severity === "error");
  if (errors.length > 0) {
    const asked = errors.find((f) => f.service === ctx.question.expected?.service) ?? errors[0]!;
    const t =
      n.trace === undefined
        ? undefined
        : traceFacts(n.trace, {
            ...(ctx.question.targets === undefined ? {} : { targets: ctx.question.targets }),
            ...(ctx.question.expected === undefined ? {} : { expected: ctx.question.expected }),
            cluster: ctx.cluster,
            node: n.node,
            file: n.file,
          });
    const traceText =
      t === undefined ? (n.traceError === undefined ? "" : `; trace failed: ${n.traceError}`) : `; ${t.text}`;
    const sees = t?.blocked?.clientSees ?? t?.wrongTarget?.clientSees;
    const unknown = t?.unknown === undefined ? [] : [traceUnknownFinding(n, t.unknown)];
    return {
      step: checkStep("node-dataplane", "broken", `${asked.message}${traceText}`, {
        findings: [...new Set(errors.map((f) => f.code))],
      }),
      findings: [...found, ...unknown],
      proof: asked,
      ...(sees === undefined ? {} : { clientSees: sees }),
    };
  }
  return traced(ctx, n, found);
}
