/** The inputs shared by every hop of a path evaluation, and small helpers over them. */
import type { Evidence } from "../model/finding.ts";
import type { Packet } from "../model/trace.ts";
import type { HostEvidence, HostPart } from "./host-evidence.ts";
import type { IpLink } from "./ip-link.ts";
import type { FilterQuery, FilterVerdict, HopDisposition, HostStep, PathOutcome } from "./path-types.ts";
import type { PodPlacement } from "./pod-placement.ts";

/** What a path evaluation knows. */
export interface PathContext {
  /** Every node's parsed evidence, by node name. */
  readonly hosts: ReadonlyMap<string, HostEvidence>;
  /** Live pod IPs from the API (see podPlacements). */
  readonly pods: readonly PodPlacement[];
  /**
   * The iptables side (the tracer) at a hook; absent: filters are not evaluated and the result
   * speaks for routing, neighbours and the overlay only.
   */
  readonly filter?: (query: FilterQuery) => FilterVerdict;
  /** Largest IP packet the connection sends (for MTU checks); absent: MTU is not evaluated. */
  readonly packetBytes?: number;
  /** Evaluating the reply direction of a connection. */
  readonly reply?: boolean;
}

/** How a packet reaches a node: routed in on an interface, or as VXLAN for a local device. */
export interface Arrival {
  readonly node: string;
  readonly packet: Packet;
  /** Interface it came in by; absent when the node (or a hostNetwork pod) sends it. */
  readonly iif?: string;
  /** Size of the IP packet on the wire (after any PMTU adjustment). */
  readonly bytes?: number;
  /** Set when the packet arrives encapsulated: the outer UDP packet and the inner frame's MAC. */
  readonly vxlan?: {
    readonly outer: Packet;
    readonly innerDstMac: string;
    readonly vni?: number;
    /** Size of the outer packet on the wire. */
    readonly outerBytes?: number;
    readonly from: string;
  };
}

/** How a path ends on a hop. */
export interface PathEnd {
  readonly outcome: PathOutcome;
  readonly clientError?: string;
  readonly reason: string;
}

/** The result of one hop: the hop's steps and disposition, and either the next arrival or the end. */
export interface HopOutcome {
  readonly steps: HostStep[];
  readonly disposition: HopDisposition;
  readonly outInterface?: string;
  readonly next?: Arrival;
  readonly end?: PathEnd;
  readonly missing?: readonly string[];
}

/** The link named `ifname` on `host`. */
export function linkNamed(host: HostEvidence, ifname: string | undefined): IpLink | undefined {
  if (ifname === undefined) return undefined;
  return host.link?.links.find((l) => l.ifname === ifname);
}

/** The bundle files of the parts that are missing, or undefined when all are there. */
export function missingFiles(host: HostEvidence, parts: readonly HostPart[]): string[] | undefined {
  const missing = parts.filter((p) => host.missing.includes(p)).map((p) => host.files[p]);
  return missing.length === 0 ? undefined : missing;
}

/** A hop that stops undecided for want of files. */
export function undecided(steps: HostStep[], missing: readonly string[], what: string): HopOutcome {
  return {
    steps,
    disposition: "undecided",
    missing,
    end: { outcome: "unknown", reason: `${what}: ${missing.join(", ")} missing` },
  };
}

/** Asks the filter (when there is one) and records the step; returns the verdict. */
export function askFilter(
  ctx: PathContext,
  steps: HostStep[],
  query: Omit<FilterQuery, "reply">,
): FilterVerdict | undefined {
  if (ctx.filter === undefined) return undefined;
  const v = ctx.filter({ ...query, reply: ctx.reply ?? false });
  steps.push({
    kind: "filter",
    node: query.node,
    hook: query.hook,
    verdict: v.verdict,
    action: v.action,
    evidence: v.evidence,
  });
  return v;
}

/** The hop outcome of a filter that did not accept, or undefined when it accepted (or was not asked). */
export function filterStop(
  v: FilterVerdict | undefined,
  steps: HostStep[],
  where: string,
): HopOutcome | undefined {
  if (v === undefined || v.verdict === "accept") return undefined;
  switch (v.verdict) {
    case "drop":
      return {
        steps,
        disposition: "dropped",
        end: { outcome: "timeout", reason: `dropped by ${v.action} ${where}` },
      };
    case "reject":
      return {
        steps,
        disposition: "rejected",
        end: {
          outcome: "error",
          reason: `rejected by ${v.action} ${where}`,
          ...(v.clientError === undefined ? {} : { clientError: v.clientError }),
        },
      };
    case "unknown":
      return { steps, disposition: "undecided", end: { outcome: "unknown", reason: `${v.action} ${where}` } };
    default: {
      const never: never = v.verdict;
      throw new TypeError(`Unknown filter verdict ${String(never)}`);
    }
  }
}

/** `ip:port` of a packet end. */
export function endText(ip: string, port: number | undefined): string {
  return port === undefined ? ip : `${ip}:${port}`;
}

/** Evidence list without duplicates (same file, line and text). */
export function uniqueEvidence(list: readonly Evidence[]): Evidence[] {
  const seen = new Set<string>();
  return list.filter((e) => {
    const k = `${e.file}\u0000${e.line ?? ""}\u0000${e.text}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The ICMP errors a node sends back for a packet it cannot deliver. */
export type IcmpError = "net-unreachable" | "host-unreachable" | "admin-prohibited" | "time-exceeded";

const ICMP_ERRNO: Readonly<Record<IcmpError, string>> = {
  "net-unreachable": "ENETUNREACH",
  "host-unreachable": "EHOSTUNREACH",
  "admin-prohibited": "EHOSTUNREACH",
  "time-exceeded": "EHOSTUNREACH",
};

/**
 * What the client sees when a node answers its packet with an ICMP error. A connecting TCP socket
 * aborts on any of them (tcp_v4_err, SYN_SENT). A connected UDP socket without IP_RECVERR reports
 * only the "fatal" ones of icmp_err_convert[] (admin-prohibited is, net/host-unreachable and
 * time-exceeded are not), so the client waits and times out (kernel-verified in the overlay lab).
 * `synchronous`: the node itself originated the packet and the route lookup failed, so send() or
 * connect() returns the errno at once.
 */
export function icmpEnd(
  error: IcmpError,
  packet: { readonly protocol: string },
  options: { readonly synchronous: boolean; readonly reason: string },
): PathEnd {
  const errno = ICMP_ERRNO[error];
  if (options.synchronous || packet.protocol === "tcp" || error === "admin-prohibited") {
    return { outcome: "error", clientError: errno, reason: options.reason };
  }
  if (packet.protocol === "udp") {
    return { outcome: "timeout", reason: `${options.reason} (the ICMP error is one a UDP socket ignores)` };
  }
  return { outcome: "error", clientError: errno, reason: options.reason };
}
