/**
 * The host-firewall link (issue 15): does a table that is not Kubernetes' own — firewalld's
 * `inet firewalld`, ufw's iptables chains, a hand-written `inet filter`, a DROP policy — drop or
 * reject the client's packet on its node? Read from the whole-host trace (every base chain of every
 * table at each hook): broken by such a drop, naming table, chain and rule; ok only when every table
 * that may act was read and lets the packet through; undecided when a table could not be read.
 */
import { makeFinding } from "../findings/make-finding.ts";
import type { FilterStep, Trace, TraceResult } from "../model/trace.ts";
import { ERRNO_MESSAGES } from "../trace/reject-errno.ts";
import { clusterRanges } from "./cluster-ranges.ts";
import type { HostFacts } from "./host-facts.ts";
import { brokenBy, type Link, plain, undecided, type WalkContext } from "./link.ts";
import { pathNodeFirewalls } from "./path-node-firewall.ts";

/** iptables chains Kubernetes components write (kube-proxy, kube-router, flannel, CNI plugins, Calico, Cilium). */
const KUBE_CHAIN = /^(KUBE-|FLANNEL|CNI-|cali-|CILIUM|WEAVE)/;
/** nft tables Kubernetes components write. */
const KUBE_TABLE = /^(kube-proxy|kube-router|flannel|cilium|calico|antrea)/i;

/**
 * Whether a rule step belongs to Kubernetes' own rules. A chain policy is the host's: kube-proxy
 * and flannel never set one. In an nft table of Kubernetes' own (kube-proxy's), every chain is.
 */
export function kubernetesOwned(step: FilterStep): boolean {
  if (step.action.kind === "policy") return false;
  if (step.backend === "nft") return KUBE_TABLE.test(step.table) || KUBE_CHAIN.test(step.chain);
  return KUBE_CHAIN.test(step.chain);
}

function kindOf(step: FilterStep): "firewalld" | "ufw" | "nftables" | "iptables" {
  if (/firewalld/i.test(step.table)) return "firewalld";
  if (/^ufw/i.test(step.chain)) return "ufw";
  return step.backend === "nft" ? "nftables" : "iptables";
}

function blocker(t: Trace): FilterStep | undefined {
  const d = t.disposition;
  if (d.kind !== "dropped" && d.kind !== "rejected") return undefined;
  return d.by.kind === "filter" && !kubernetesOwned(d.by) ? d.by : undefined;
}

function clientSees(t: Trace): string {
  const d = t.disposition;
  const err = d.kind === "dropped" || d.kind === "rejected" ? d.clientError : undefined;
  return err === undefined ? "times out (no answer)" : `gets ${err} ("${ERRNO_MESSAGES[err] ?? err}")`;
}

/** What an undecided whole-host trace lacks: the node's ipset save when a set decided it, else the facts named. */
function openEvidence(d: Trace["disposition"], node: string): { missing: string; howToGet: string } {
  if (d.kind === "undecided" && d.needs === "ipset-members")
    return {
      missing: `nodes/${node}/ipset-save.txt`,
      howToGet: `\`netdoctor collect --nodes ${node}\`, or \`ssh ${node} sudo ipset save > nodes/${node}/ipset-save.txt\``,
    };
  return {
    missing: "the facts the tracer could not see (interfaces, marks, conntrack state)",
    howToGet: `\`netdoctor trace --bundle DIR --node ${node}\` with the missing facts`,
  };
}

function blockedLink(ctx: WalkContext, node: string, hits: readonly { t: Trace; by: FilterStep }[]): Link {
  const { t, by } = hits[0]!;
  const share = Math.round(hits.reduce((n, h) => n + h.t.probability, 0) * 1000) / 10;
  const ranges = clusterRanges(ctx.cluster);
  const pod = ranges.pod?.cidr ?? ranges.assumed.find((r) => r.role === "pod")?.cidr;
  const svc = ranges.service?.cidr ?? ranges.assumed.find((r) => r.role === "service")?.cidr;
  const ev = by.evidence;
  const where = `${ev.file}:${ev.line}${ev.handle === undefined ? "" : ` handle ${ev.handle}`}`;
  const proof = makeFinding(
    "host-firewall-drop",
    {
      node,
      table: by.backend === "nft" ? `${by.family ?? "ip"} ${by.table}` : `${by.table} (iptables)`,
      chain: by.chain,
      where,
      kind: kindOf(by),
      outcome: t.disposition.kind === "rejected" ? "rejects" : "drops",
      share,
      clientSees: clientSees(t),
      ...(pod === undefined ? {} : { podCidr: pod }),
      ...(svc === undefined ? {} : { serviceCidr: svc }),
    },
    {
      node,
      evidence: hits.slice(0, 3).map((h) => ({
        file: h.by.evidence.file,
        line: h.by.evidence.line,
        ...(h.by.evidence.handle === undefined ? {} : { handle: h.by.evidence.handle }),
        text: h.by.rule,
      })),
    },
  );
  // The message already says what the client sees (the summary would repeat a clientSees).
  return brokenBy("host-firewall", proof);
}

/** What the link judges of one node. */
interface NodeFirewallFacts {
  readonly node: string;
  /** Absent when the node's directory was not read at all. */
  readonly host?: HostFacts | undefined;
  readonly trace?: TraceResult | undefined;
  readonly traceError?: string | undefined;
  /** `` (the client's node) or ` (the endpoint's node)`, after the node's name in the texts. */
  readonly role: string;
}

function howToGetNft(node: string): string {
  return `\`netdoctor collect --nodes ${node}\`, or \`ssh ${node} sudo nft -j list ruleset > nodes/${node}/nft-ruleset.json\` and \`sudo nft -a list ruleset > nodes/${node}/nft-ruleset.txt\``;
}

/** One node's host firewall: broken by a non-Kubernetes drop, undecided, or ok (every table read). */
function judgeNode(ctx: WalkContext, f: NodeFirewallFacts): Link {
  const { node, host } = f;
  const howToGet = howToGetNft(node);
  const notRead = host?.notRead ?? [];
  // No nft evidence for the node (collected before issue 15, by hand, without the node's directory,
  // or a legacy-iptables node whose nft was not listed): a native nftables table may act unseen.
  if (host?.nftCollected !== true) {
    const file = `nodes/${node}/nft-ruleset.json`;
    const others = notRead.filter((r) => !r.includes(file));
    return undecided(
      "host-firewall",
      `not proven on ${node}${f.role}: the bundle has no nft ruleset for it (${file}), and a native nftables table (firewalld, ufw on nftables, a hand-written inet filter) is invisible to iptables-save${others.length === 0 ? "" : `; not looked at either: ${others.join("; ")}`}`,
      { missing: [file, ...others].join("; "), howToGet },
    );
  }
  const traces = f.trace?.traces ?? [];
  const hits = traces.flatMap((t) => {
    const by = blocker(t);
    return by === undefined ? [] : [{ t, by }];
  });
  if (hits.length > 0) return blockedLink(ctx, node, hits);
  if (notRead.length > 0)
    return undecided(
      "host-firewall",
      `no table read on ${node}${f.role} drops the packet, but these were not looked at: ${notRead.join("; ")}`,
      { missing: notRead.join("; "), howToGet },
    );
  const q = ctx.question;
  if (f.trace === undefined)
    return undecided(
      "host-firewall",
      q.packet === undefined
        ? `no packet to follow on ${node}${f.role}${q.noPacket === undefined ? "" : ` (${q.noPacket})`}`
        : `the packet could not be traced on ${node}${f.role}${f.traceError === undefined ? "" : `: ${f.traceError}`}`,
      {
        missing: "a packet the tracer can follow",
        howToGet: "ask with --to ADDRESS:PORT (a ClusterIP or pod IP)",
      },
    );
  const open = traces.filter((t) => t.disposition.kind === "undecided");
  if (open.length > 0) {
    const d = open[0]!.disposition;
    return undecided(
      "host-firewall",
      `the whole-host trace on ${node}${f.role} cannot decide ${Math.round(open.reduce((s, t) => s + t.probability, 0) * 1000) / 10}% of the paths: ${d.kind === "undecided" ? d.reason : ""}`,
      openEvidence(d, node),
    );
  }
  return plain(
    "host-firewall",
    "ok",
    `no host firewall on ${node}${f.role} drops or rejects the packet: every table at each hook was read (${host.tables.join(", ")})${host.assumptions.length ? `; assumed: ${host.assumptions.join("; ")}` : ""}`,
  );
}

/** Several undecided nodes: one link naming every missing part. */
function allUndecided(links: readonly Link[]): Link {
  if (links.length === 1) return links[0]!;
  const s = links.map((l) => l.step);
  return undecided("host-firewall", s.map((x) => x.detail).join("; "), {
    missing: s.map((x) => x.missing ?? "").join("; "),
    howToGet: s.map((x) => x.howToGet ?? "").join("; "),
  });
}

/**
 * The host-firewall link of a question: the client's node, then every node past it that the
 * packet reaches in `path` (the multi-hop trace; the endpoint's node).
 */
export function hostFirewallLink(ctx: WalkContext, path?: TraceResult): Link {
  const n = ctx.node;
  const client = n?.node ?? ctx.question.client.nodeName ?? "the client's node";
  const links = [
    judgeNode(ctx, { node: client, host: n?.host, trace: n?.trace, traceError: n?.traceError, role: "" }),
    ...pathNodeFirewalls(ctx, path).map((p) => judgeNode(ctx, { ...p, role: " (the endpoint's node)" })),
  ];
  const broken = links.find((l) => l.step.status === "broken");
  if (broken !== undefined) return broken;
  const open = links.filter((l) => l.step.status === "undecided");
  if (open.length > 0) return allUndecided(open);
  if (links.length === 1) return links[0]!;
  return plain("host-firewall", "ok", links.map((l) => l.step.detail).join("; "));
}
