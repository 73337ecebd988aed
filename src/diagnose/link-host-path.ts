/**
 * The links past the client node's rules (issue 17): `route` (the client node routes and forwards
 * the packet), `overlay` (neighbour, VXLAN encapsulation, the underlay, decapsulation on the
 * endpoint node) and `endpoint-node` (the endpoint node routes, forwards and delivers to the pod;
 * the reply comes back), each from the multi-hop trace with the catalogue's hostnet finding and
 * evidence from the node and file that prove it. Undecided when a host file is missing (which one
 * and the command that makes it); not-applicable for what a same-node connection does not cross.
 */
import { makeFinding } from "../findings/make-finding.ts";
import { checkStep } from "../model/diagnosis.ts";
import type { Finding } from "../model/finding.ts";
import type { Trace, TraceResult } from "../model/trace.ts";
import { addressText } from "../trace/address-text.ts";
import { ERRNO_MESSAGES } from "../trace/reject-errno.ts";
import { type HostPathFacts, hostPathFacts } from "./host-path-facts.ts";
import { brokenBy, type Link, plain, type WalkContext } from "./link.ts";
import { PATH_LINKS, type PathFailure, type PathLinkName, pathFailure } from "./path-failure.ts";
import { undecidedLink } from "./path-undecided.ts";

/** Which hostnet findings can prove which link broken. */
const CODES: Readonly<Record<PathLinkName, readonly string[]>> = {
  route: [
    "overlay-route-missing",
    "overlay-route-wrong",
    "ip-forward-disabled",
    "rp-filter-drop",
    "bridge-nf-disabled",
  ],
  overlay: [
    "overlay-neighbor-missing",
    "overlay-neighbor-stale",
    "overlay-fdb-missing",
    "overlay-fdb-stale",
    "overlay-vtep-mismatch",
    "overlay-device-missing",
    "overlay-wrong-interface",
    "overlay-public-ip-duplicate",
    "overlay-mtu-mismatch",
    "overlay-checksum-offload",
    "rp-filter-drop",
  ],
  "endpoint-node": [
    "ip-forward-disabled",
    "rp-filter-drop",
    "bridge-nf-disabled",
    "conntrack-stale-endpoint",
  ],
};

/** What the client sees at the end of a path: `no answer (it times out)`, `EHOSTUNREACH ("…")`. */
function sees(t: Trace): string {
  const d = t.disposition;
  const e =
    d.kind === "dropped" ||
    d.kind === "rejected" ||
    d.kind === "no-route" ||
    d.kind === "neighbor-unreachable"
      ? d.clientError
      : undefined;
  return e === undefined ? "no answer (it times out)" : `${e} ("${ERRNO_MESSAGES[e] ?? e}")`;
}

/** How the path ends, in words (from the typed disposition and the step that decided). */
function endText(t: Trace): string {
  const d = t.disposition;
  switch (d.kind) {
    case "dropped": {
      const by = d.by;
      const what =
        by.kind === "routing"
          ? (by.reason ?? "routing")
          : by.kind === "overlay"
            ? `the overlay on ${by.device}: ${by.dropped ?? "dropped"}`
            : `${by.table}/${by.chain} ${by.action.kind === "policy" ? `policy ${by.action.policy}` : "rule"} (${by.evidence.file}:${by.evidence.line})`;
      return `dropped by ${what}`;
    }
    case "rejected":
      return `rejected by ${d.by.table}/${d.by.chain} (${d.by.evidence.file}:${d.by.evidence.line}) with ${d.rejectWith}`;
    case "no-route":
      return `no route to ${d.dst.kind === "exact" ? d.dst.ip : "the destination"}`;
    case "neighbor-unreachable":
      return `nothing answers ARP for ${d.ip}${d.device === undefined ? "" : ` on ${d.device}`}`;
    case "undecided":
      return `undecided: ${d.reason}`;
    default:
      return d.kind;
  }
}

function filesOf(f: Finding): string[] {
  return f.evidence.map((e) => e.file);
}

/** The catalogue finding that proves the failure, and the other nodes' findings that go with it. */
function proofOf(h: HostPathFacts, fail: PathFailure, t: Trace): [Finding, Finding[]] {
  const codes = CODES[fail.link];
  const nodes = new Set(t.hops.map((x) => x.node));
  const candidates = h.findings.filter((f) => f.severity !== "info" && codes.includes(f.code));
  const onNode = candidates.filter((f) => f.node === fail.node);
  const stepFile = fail.files[0];
  // An overlay drop on the receiver is often caused on the sender (a stale FDB or neighbour entry
  // for the receiver's old VTEP MAC): that finding cites the receiver's files too.
  const cites = (f: Finding) => filesOf(f).some((x) => x.startsWith(`nodes/${fail.node}/`));
  const best =
    onNode.find((f) => stepFile !== undefined && filesOf(f).includes(stepFile)) ??
    onNode.find((f) => filesOf(f).some((x) => fail.files.includes(x))) ??
    onNode[0] ??
    (fail.link === "overlay"
      ? (candidates.find((f) => nodes.has(f.node ?? "") && cites(f)) ??
        candidates.find((f) => nodes.has(f.node ?? "")))
      : undefined);
  const others =
    fail.link === "overlay" ? candidates.filter((f) => f !== best && nodes.has(f.node ?? "")) : [];
  if (best !== undefined) return [best, others];
  const s = fail.step;
  const by = endText(t).replace(/^(dropped|rejected) by /, "");
  const evidence =
    s !== undefined && (s.kind === "filter" || s.kind === "transform")
      ? [{ file: s.evidence.file, line: s.evidence.line, text: s.rule }]
      : s !== undefined && "evidence" in s && s.evidence !== undefined
        ? [{ file: s.evidence.file, line: s.evidence.line, text: by }]
        : [{ file: `nodes/${fail.node}/`, text: by }];
  const outcome = t.disposition.kind === "rejected" ? "rejected" : "dropped";
  const proof =
    fail.node === h.clientNode
      ? makeFinding(
          "path-blocked",
          {
            node: fail.node,
            outcome,
            share: Math.round(t.probability * 100),
            by,
            clientSees: `sees ${sees(t)}`,
          },
          { node: fail.node, evidence },
        )
      : makeFinding(
          "node-rules-drop",
          { node: fail.node, outcome, by, clientSees: sees(t) },
          { node: fail.node, evidence },
        );
  return [proof, others];
}

/**
 * The three links for one path; `t` undefined means every path was delivered. `cause` is the
 * client node's kube-proxy finding when its rules sent the packet to an address that is not a
 * ready endpoint: the failing link is broken by that same fault (node-dataplane), not a new one.
 */
function linksFor(
  h: HostPathFacts,
  t: Trace | undefined,
  fail: PathFailure | undefined,
  cause?: Finding,
): Link[] {
  const at = fail === undefined ? PATH_LINKS.length : PATH_LINKS.indexOf(fail.link);
  return PATH_LINKS.map((check, i) => {
    if (i < at) return plain(check, "ok", okText(check, h));
    if (i > at)
      return plain(check, "not-applicable", `not reached: the path ends at ${fail!.link} on ${fail!.node}`);
    if (fail!.undecided) return undecidedLink(h, check, fail!, t!);
    if (cause !== undefined) {
      const to = addressText(t!.headers.dst);
      const detail = `on ${fail!.node}: ${endText(t!)}, where its rules send the packet (${to} is not a ready endpoint: ${cause.code}, see node-dataplane)`;
      return { ...brokenBy(check, cause, detail), clientSees: sees(t!) };
    }
    const [proof, more] = proofOf(h, fail!, t!);
    const end = `on ${fail!.node}: ${endText(t!)}`;
    const link = brokenBy(
      check,
      proof,
      proof.code === "path-blocked" ? end : `${end}; ${proof.message}`,
      more,
    );
    return { ...link, clientSees: sees(t!) };
  });
}

function okText(check: PathLinkName, h: HostPathFacts): string {
  const t = h.trace?.traces[0];
  const nodes = [...new Set(t?.hops.map((x) => x.node) ?? [])].join(" → ");
  switch (check) {
    case "route":
      return `${h.clientNode} routes and forwards the packet (${nodes})`;
    case "overlay":
      return `the overlay carries it between ${nodes}`;
    case "endpoint-node":
      return `the endpoint node delivers it and the reply comes back (${nodes})`;
    default: {
      const never: never = check;
      throw new TypeError(`Unknown link ${String(never)}`);
    }
  }
}

/** The first failing path of a trace (the worst: broken before undecided). */
function worst(traces: readonly Trace[], client: string): { t: Trace; fail: PathFailure } | undefined {
  const fails = traces.flatMap((t) => {
    const fail = pathFailure(t, client);
    return fail === undefined ? [] : [{ t, fail }];
  });
  return fails.find((f) => !f.fail.undecided) ?? fails[0];
}

/**
 * route, overlay and endpoint-node for a question, and the connection's multi-hop trace (no links
 * when the bundle's host side was not read).
 */
export function hostPathLinks(ctx: WalkContext): { links: Link[]; trace?: TraceResult } {
  const input = ctx.hostPathInput;
  const h = input === undefined ? undefined : hostPathFacts(input, ctx.question);
  if (h === undefined) return { links: [] };
  return { links: pathLinks(ctx, h), ...(h.trace === undefined ? {} : { trace: h.trace }) };
}

function pathLinks(ctx: WalkContext, h: HostPathFacts): Link[] {
  const q = ctx.question;
  if (h.trace === undefined || q.targets === undefined) {
    const why =
      h.trace === undefined
        ? `no packet to follow across nodes (${q.noPacket ?? "see node-dataplane"})`
        : "the destination is not a pod or Service of the cluster: the client node's rules decide (node-dataplane)";
    return PATH_LINKS.map((c) => plain(c, "not-applicable", why));
  }
  const traces = h.trace.traces;
  // Same node: every address the packet may end at is a pod of the client's node.
  const ends = q.targets.map((t) => t.replace(/:\d+$/, ""));
  const sameNode =
    ends.length > 0 &&
    ends.every((ip) => h.input.pods.some((p) => p.ip === ip && p.node === h.clientNode)) &&
    traces.every((t) => t.hops.every((x) => x.node === h.clientNode));
  const w = worst(traces, h.clientNode);
  if (sameNode) {
    const local = `the client and the endpoint share ${h.clientNode}: only its bridge and delivery matter`;
    const endpoint = linksFor(
      h,
      w?.t,
      w === undefined ? undefined : { ...w.fail, link: "endpoint-node" },
    )[2]!;
    return [plain("route", "not-applicable", local), plain("overlay", "not-applicable", local), endpoint];
  }
  const links = linksFor(h, w?.t, w?.fail, w === undefined ? undefined : staleCause(ctx, w));
  if (w !== undefined) return links;
  return pinnedLinks(h, overlayRisk(h, links));
}

/**
 * The client node's kube-proxy finding behind a path that fails on the client node after its rules
 * sent the packet to an address that is not one of the question's ready endpoints (a stale DNAT).
 */
function staleCause(ctx: WalkContext, w: { t: Trace; fail: PathFailure }): Finding | undefined {
  const targets = ctx.question.targets ?? [];
  if (w.fail.undecided || w.fail.node !== ctx.node?.node || targets.length === 0) return undefined;
  if (targets.includes(addressText(w.t.headers.dst))) return undefined;
  return ctx.node.dataplane.find((f) => f.severity === "error");
}

/** Faults of a node's overlay device that hit some packets of every path through it (not per peer). */
const DEVICE_RISKS = new Set(["overlay-mtu-mismatch", "overlay-checksum-offload"]);

/**
 * A delivered path through an overlay device the checks find faulty (an MTU that drops full-size
 * packets, broken checksum offload): the overlay works for this packet, at risk for others.
 */
function overlayRisk(h: HostPathFacts, links: Link[]): Link[] {
  const nodes = new Set(h.trace?.traces.flatMap((t) => t.hops.map((x) => x.node)) ?? []);
  const risky = h.findings.filter(
    (f) => f.severity === "error" && DEVICE_RISKS.has(f.code) && nodes.has(f.node ?? ""),
  );
  if (risky.length === 0) return links;
  const codes = [...new Set(risky.map((f) => f.code))];
  const detail = `${links[1]!.step.detail}, but ${risky[0]!.message}`;
  const overlay: Link = {
    step: checkStep("overlay", "at-risk", detail, { findings: codes }),
    findings: risky,
    risk: codes.join(", "),
  };
  return [links[0]!, overlay, links[2]!];
}

/** A delivered path whose client still has a flow pinned by conntrack to a dead endpoint. */
function pinnedLinks(h: HostPathFacts, links: Link[]): Link[] {
  for (const p of h.pinned) {
    const w = worst(p.trace.traces, h.clientNode);
    if (w === undefined) continue;
    const stale = h.findings.find(
      (f) => f.code === "conntrack-stale-endpoint" && f.node === h.clientNode && f.severity !== "info",
    );
    if (stale === undefined) continue;
    const detail = `the client's existing flow from port ${p.srcPort} follows a conntrack entry on ${h.clientNode}, not the rules: ${endText(w.t)} on ${w.fail.node}`;
    const link = brokenBy("endpoint-node", stale, `${stale.message}; ${detail}`);
    return [links[0]!, links[1]!, { ...link, clientSees: sees(w.t) }];
  }
  return links;
}
