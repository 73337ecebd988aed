/**
 * An undecided path link (route, overlay, endpoint-node): the host files that are missing on the
 * node where the packet cannot be followed, and the command that makes each (docs/bundle.md).
 */
import type { HostPart } from "../hostnet/host-evidence.ts";
import type { Trace } from "../model/trace.ts";
import type { HostPathFacts } from "./host-path-facts.ts";
import { type Link, undecided } from "./link.ts";
import type { PathFailure, PathLinkName } from "./path-failure.ts";

/** The commands that make each host file (docs/bundle.md). */
const COMMANDS: Readonly<Record<string, string>> = {
  "ip-addr.json": "ip -j addr show",
  "ip-link.json": "ip -j -d link show",
  "ip-route.json": "ip -j route show table all",
  "ip-rule.json": "ip -j rule show",
  "ip-neigh.json": "ip -j neigh show",
  "bridge-fdb.json": "bridge -j fdb show",
  "sysctl.txt": "sysctl -a (net.ipv4.ip_forward, rp_filter, forwarding, bridge-nf-call-iptables)",
  "iptables-save.txt": "iptables-save",
  "conntrack.txt": "conntrack -L -o extended",
  "ipset-save.txt": "ipset save",
  "ipvsadm.txt": "ipvsadm -Sn",
};

/** The host parts the path's hops read (conntrack, lsmod, subnet.env and ethtool only refine checks). */
const PATH_PARTS: readonly HostPart[] = ["addr", "link", "route", "rule", "neigh", "fdb", "sysctl"];

/**
 * The files a failure names: those in the trace's reason, else the path's host files that are
 * missing on the node where it stops or on the node of the address it is going to (a node
 * directory collected without them), else the node's directory.
 */
function missingFiles(h: HostPathFacts, fail: PathFailure, t: Trace, reason: string): string[] {
  // What the node's own trace says it lacks: its ipset-save.txt (a `-m set` rule) or ipvsadm.txt.
  const needs = t.disposition.kind === "undecided" ? t.disposition.needs : undefined;
  if (needs === "ipset-members" || needs === "ipvs-table")
    return [`nodes/${fail.node}/${needs === "ipvs-table" ? "ipvsadm.txt" : "ipset-save.txt"}`];
  const named = reason.match(/nodes\/[^\s,;:()]+/g);
  if (named !== null) return [...new Set(named)];
  const dst = t.headers.dst.kind === "exact" ? t.headers.dst.ip : undefined;
  const to = h.input.pods.find((p) => p.ip === dst)?.node;
  const absent = [...new Set([fail.node, ...(to === undefined ? [] : [to])])].flatMap((node) => {
    const host = h.input.hosts.get(node);
    return host === undefined
      ? []
      : PATH_PARTS.filter((p) => host.missing.includes(p)).map((p) => host.files[p]);
  });
  return absent.length > 0 ? absent : [`nodes/${fail.node}/`];
}

/** The undecided link `check` for a failure the trace could not decide. */
export function undecidedLink(h: HostPathFacts, check: PathLinkName, fail: PathFailure, t: Trace): Link {
  const reason = t.disposition.kind === "undecided" ? t.disposition.reason : "";
  const files = missingFiles(h, fail, t, reason);
  const cmds = files.flatMap((f) => {
    const cmd = COMMANDS[f.split("/").pop() ?? ""];
    return cmd === undefined ? [] : [`\`${cmd} > ${f}\``];
  });
  const nodes = [...new Set(files.map((f) => f.split("/")[1]))].join(",");
  const collect = `\`netdoctor collect --nodes ${nodes}\``;
  const how = cmds.length === 0 ? collect : `${collect}, or on the node ${cmds.join("; ")}`;
  return undecided(check, `cannot follow the packet on ${fail.node}: ${reason}`, {
    missing: files.join(", "),
    howToGet: how,
  });
}
