/**
 * The `--from/--to` walk: each link of the chain a connection depends on, in order, with what proves
 * it. Every link runs; the verdict is decided from their statuses (see model/diagnosis.ts verdictOf).
 */
import { type CheckStep, verdictOf } from "../model/diagnosis.ts";
import type { Finding } from "../model/finding.ts";
import type { TraceResult } from "../model/trace.ts";
import { type Link, plain, undecided, type WalkContext } from "./link.ts";
import { configLink } from "./link-config.ts";
import { dataplaneLink } from "./link-dataplane.ts";
import { dnsLink } from "./link-dns.ts";
import { endpointsLink } from "./link-endpoints.ts";
import { hostFirewallLink } from "./link-host-firewall.ts";
import { hostPathLinks } from "./link-host-path.ts";
import { networkPolicyLink } from "./link-network-policy.ts";
import { clientNodeLink, healthLink } from "./link-node.ts";
import { serviceLink } from "./link-service.ts";
import { questionSummary } from "./summary.ts";

export interface BundleFacts {
  readonly services: number;
  readonly pods: number;
  readonly nodeDumps: number;
  /** Where the endpoints came from when not plain EndpointSlices v1, e.g. `endpoints from v1 Endpoints (…)`. */
  readonly endpointSource?: string;
  /** Every `bundle-invalid` problem of the bundle. */
  readonly problems: readonly Finding[];
}

function problemFile(f: Finding): string {
  return f.evidence[0]?.file ?? "";
}

/**
 * The bundle link: parts the answer depends on that could not be read make it undecided. For a
 * question (`clientNode` given) that is cluster/*.json (a skipped item may be on the path) and the
 * client node's other files; its missing directory or dump are the client-node and node-dataplane
 * links' to report, and other nodes' problems are off the path. For the full check, every part counts.
 */
export function bundleLink(facts: BundleFacts, scope: { readonly clientNode: string } | "everything"): Link {
  const own = scope === "everything" ? "\0" : `nodes/${scope.clientNode}/`;
  const covered = new Set([own, `${own}iptables-save.txt`]);
  const relevant = facts.problems.filter((f) => {
    const file = problemFile(f);
    return (
      scope === "everything" || file.startsWith("cluster/") || (file.startsWith(own) && !covered.has(file))
    );
  });
  const read = `${facts.services} Services, ${facts.pods} pods, ${facts.nodeDumps} node dumps read${facts.endpointSource === undefined ? "" : `; ${facts.endpointSource}`}`;
  if (relevant.length > 0) {
    const files = [...new Set(relevant.map(problemFile))];
    return undecided(
      "bundle",
      `${relevant.length} part${relevant.length > 1 ? "s" : ""} of the bundle ${scope === "everything" ? "" : "this question depends on "}could not be read (see bundle-invalid): ${files.join(", ")}${facts.endpointSource === undefined ? "" : `; ${facts.endpointSource}`}`,
      {
        missing: files.join(", "),
        howToGet: "collect them again (`netdoctor collect`, or the commands in docs/bundle.md)",
      },
    );
  }
  const off = facts.problems.filter((f) => !covered.has(problemFile(f))).length;
  return plain(
    "bundle",
    "ok",
    off === 0
      ? read
      : `${read}; ${off} other part${off > 1 ? "s" : ""} could not be read (see bundle-invalid), none on this path`,
  );
}

export interface WalkResult {
  readonly steps: CheckStep[];
  readonly findings: Finding[];
  readonly summary: string;
  /** The connection across nodes, when the host side was read. */
  readonly pathTrace?: TraceResult;
}

/** Runs every link of the question and sums them up. */
export function walkQuestion(
  ctx: WalkContext,
  options: { readonly bundle: Link; readonly sickElsewhere: readonly string[] },
): WalkResult {
  const host = hostPathLinks(ctx);
  const links: Link[] = [
    options.bundle,
    dnsLink(ctx),
    serviceLink(ctx),
    endpointsLink(ctx),
    clientNodeLink(ctx),
    hostFirewallLink(ctx, host.trace),
    networkPolicyLink(ctx),
    dataplaneLink(ctx),
    ...host.links,
    healthLink(ctx),
    configLink(ctx),
  ];
  const steps = links.map((l) => l.step);
  const v = verdictOf(steps);
  const q = ctx.question;
  const summary = questionSummary({
    from: q.clientKey,
    to: q.to,
    ...(q.client.nodeName === undefined ? {} : { clientNode: q.client.nodeName }),
    links,
    verdict: v.verdict,
    ...(v.at === undefined ? {} : { at: v.at }),
    sickElsewhere: options.sickElsewhere,
  });
  const seen = new Set<Finding>();
  const findings = links.flatMap((l) => l.findings).filter((f) => !seen.has(f) && seen.add(f) !== undefined);
  return { steps, findings, summary, ...(host.trace === undefined ? {} : { pathTrace: host.trace }) };
}
