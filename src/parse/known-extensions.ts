/**
 * The iptables match modules and targets netdoctor knows by name. Anything else
 * is kept opaque with a warning: the rule is never dropped.
 */

/** Match modules shipped with iptables (libxt_*, libipt_*) that appear in real dumps. */
export const KNOWN_MATCHES: ReadonlySet<string> = new Set([
  "addrtype", "ah", "bpf", "cgroup", "cluster", "comment", "connbytes", "connlabel", "connlimit",
  "connmark", "conntrack", "cpu", "dccp", "devgroup", "dscp", "ecn", "esp", "hashlimit", "helper",
  "icmp", "icmp6", "iprange", "ipvs", "length", "limit", "mac", "mark", "multiport", "nfacct", "osf",
  "owner", "physdev", "pkttype", "policy", "quota", "rateest", "realm", "recent", "rpfilter", "sctp",
  "set", "socket", "state", "statistic", "string", "tcp", "tcpmss", "time", "tos", "ttl", "u32", "udp",
  "udplite", "ipv6header", "frag", "hbh", "dst", "rt", "mh", "hl", "eui64", "ipcomp", "l2tp", "unclean",
]);

/** Built-in verdicts and target extensions. A jump to a declared chain is a jump, not a target. */
export const KNOWN_TARGETS: ReadonlySet<string> = new Set([
  "ACCEPT", "DROP", "RETURN", "QUEUE", "REJECT", "DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP",
  "MARK", "CONNMARK", "CONNSECMARK", "SECMARK", "LOG", "NFLOG", "ULOG", "NFQUEUE", "CT", "NOTRACK",
  "TPROXY", "CHECKSUM", "TCPMSS", "TCPOPTSTRIP", "CLASSIFY", "DSCP", "TOS", "TTL", "HL", "SET",
  "AUDIT", "TRACE", "IDLETIMER", "LED", "RATEEST", "TEE", "SYNPROXY", "CLUSTERIP", "HMARK", "ECN",
]);

/**
 * Options that take no argument. Every other option takes the words up to the
 * next option (one word for most).
 */
export const FLAG_OPTIONS: ReadonlySet<string> = new Set([
  "--rcheck", "--set", "--update", "--remove", "--reap", "--rsource", "--rdest", "--rttl",
  "--random", "--random-fully", "--persistent", "--log-tcp-sequence", "--log-tcp-options",
  "--log-ip-options", "--log-uid", "--log-macdecode", "--syn", "--physdev-is-in", "--physdev-is-out",
  "--physdev-is-bridged", "--notrack", "--clamp-mss-to-pmtu", "--checksum-fill", "--nowildcard",
  "--transparent", "--restore-mark", "--save-mark", "--restore", "--save", "--loose", "--validmark",
  "--invert", "--accept-local", "--limit-iface-in", "--limit-iface-out", "--return-nomatch",
  "--update-counters", "--update-subcounters", "--kerneltz", "--contiguous", "--exist",
  "--ctreverse", "--connlimit-upto", "--fully-random", "--strict", "--ipvs", "--ctrepldst",
]);

/** Options whose single argument is free text: the next word is taken whatever it looks like. */
export const TEXT_OPTIONS: ReadonlySet<string> = new Set([
  "--comment", "--log-prefix", "--nflog-prefix", "--nfacct-name", "--name", "--string", "--hex-string",
]);
