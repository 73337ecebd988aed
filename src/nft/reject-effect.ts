/**
 * What a client sees when an nftables `reject` answers its first packet. icmpx codes are the
 * family-independent names the kernel maps to ICMP codes (nft_reject_icmpv4_code); the errno follows
 * Linux icmp_err_convert, as for iptables' REJECT (src/trace/reject-errno.ts holds the same table
 * for `--reject-with`, checked against the kernel by the trace suites).
 */

export interface NftRejectEffect {
  /** iptables' name of the reply, e.g. `icmp-port-unreachable`, `tcp-reset`. */
  readonly rejectWith: string;
  /** What a connecting TCP client sees. */
  readonly tcpError: string | undefined;
  /** What a connected UDP socket sees; undefined when the kernel does not report the code. */
  readonly udpError: string | undefined;
}

const ICMP: Readonly<Record<string, NftRejectEffect>> = {
  "net-unreachable": { rejectWith: "icmp-net-unreachable", tcpError: "ENETUNREACH", udpError: undefined },
  "host-unreachable": { rejectWith: "icmp-host-unreachable", tcpError: "EHOSTUNREACH", udpError: undefined },
  "prot-unreachable": {
    rejectWith: "icmp-proto-unreachable",
    tcpError: "ENOPROTOOPT",
    udpError: "ENOPROTOOPT",
  },
  "port-unreachable": {
    rejectWith: "icmp-port-unreachable",
    tcpError: "ECONNREFUSED",
    udpError: "ECONNREFUSED",
  },
  "net-prohibited": { rejectWith: "icmp-net-prohibited", tcpError: "ENETUNREACH", udpError: "ENETUNREACH" },
  "host-prohibited": {
    rejectWith: "icmp-host-prohibited",
    tcpError: "EHOSTUNREACH",
    udpError: "EHOSTUNREACH",
  },
  "admin-prohibited": {
    rejectWith: "icmp-admin-prohibited",
    tcpError: "EHOSTUNREACH",
    udpError: "EHOSTUNREACH",
  },
};

/** icmpx code → ICMPv4 code name (net/netfilter/nft_reject.c). */
const ICMPX: Readonly<Record<string, string>> = {
  "port-unreachable": "port-unreachable",
  "admin-prohibited": "admin-prohibited",
  "no-route": "net-unreachable",
  "host-unreachable": "host-unreachable",
};

/**
 * The effect of `reject with TYPE CODE` on an IPv4 connection, or undefined for a type/code
 * without a model (the caller reports "undecided").
 */
export function nftRejectEffect(type: string, code: string): NftRejectEffect | undefined {
  if (type === "tcp reset") return { rejectWith: "tcp-reset", tcpError: "ECONNREFUSED", udpError: undefined };
  if (type === "icmp") return ICMP[code];
  if (type === "icmpx") {
    const c = ICMPX[code];
    return c === undefined ? undefined : ICMP[c];
  }
  return undefined;
}
