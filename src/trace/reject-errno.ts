/**
 * What a client sees when netfilter REJECTs its first packet. The errno follows Linux
 * `icmp_err_convert` (net/ipv4/icmp.c); the netns kernel tests check every row.
 */

export interface RejectEffect {
  /** The canonical `--reject-with` name, as iptables-save prints it. */
  readonly rejectWith: string;
  /** What a connecting TCP client sees (connect() fails at once for every ICMP unreachable code). */
  readonly tcpError: string;
  /**
   * What a connected UDP socket sees, or undefined when the kernel does not report the error
   * (net/host unreachable are not "fatal" codes, so without IP_RECVERR the client just waits).
   */
  readonly udpError: string | undefined;
}

const EFFECTS: readonly RejectEffect[] = [
  { rejectWith: "icmp-net-unreachable", tcpError: "ENETUNREACH", udpError: undefined },
  { rejectWith: "icmp-host-unreachable", tcpError: "EHOSTUNREACH", udpError: undefined },
  { rejectWith: "icmp-proto-unreachable", tcpError: "ENOPROTOOPT", udpError: "ENOPROTOOPT" },
  { rejectWith: "icmp-port-unreachable", tcpError: "ECONNREFUSED", udpError: "ECONNREFUSED" },
  { rejectWith: "icmp-net-prohibited", tcpError: "ENETUNREACH", udpError: "ENETUNREACH" },
  { rejectWith: "icmp-host-prohibited", tcpError: "EHOSTUNREACH", udpError: "EHOSTUNREACH" },
  { rejectWith: "icmp-admin-prohibited", tcpError: "EHOSTUNREACH", udpError: "EHOSTUNREACH" },
  { rejectWith: "tcp-reset", tcpError: "ECONNREFUSED", udpError: undefined },
];

/** The spellings iptables accepts for each type (libxt_REJECT), mapped to the canonical name. */
const ALIASES: Readonly<Record<string, string>> = {
  "net-unreach": "icmp-net-unreachable",
  "host-unreach": "icmp-host-unreachable",
  "proto-unreach": "icmp-proto-unreachable",
  "port-unreach": "icmp-port-unreachable",
  "net-prohib": "icmp-net-prohibited",
  "host-prohib": "icmp-host-prohibited",
  "admin-prohib": "icmp-admin-prohibited",
  "tcp-rst": "tcp-reset",
};

/** The effect of `--reject-with TYPE` (default icmp-port-unreachable), or undefined for an unknown type. */
export function rejectEffect(type = "icmp-port-unreachable"): RejectEffect | undefined {
  const canonical = ALIASES[type] ?? type;
  return EFFECTS.find((e) => e.rejectWith === canonical);
}

/** The message a glibc client prints for an errno the tracer reports. */
export const ERRNO_MESSAGES: Readonly<Record<string, string>> = {
  ECONNREFUSED: "Connection refused",
  EHOSTUNREACH: "No route to host (musl: Host is unreachable)",
  ENETUNREACH: "Network is unreachable",
  ENOPROTOOPT: "Protocol not available",
  EPERM: "Operation not permitted",
};
