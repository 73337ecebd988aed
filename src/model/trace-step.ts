/**
 * The steps of a trace hop (after batfish's `Step`): a closed union tagged by `kind`, so JSON readers
 * and renderers switch on it. Only iptables `filter`/`transform`, the local-or-forward `routing`
 * decision and (in diagnose) `neighbor` have producers today; the other routing decisions,
 * `overlay`, `deliver` and `conntrack` are shaped for the nftables, routing/VXLAN and
 * NetworkPolicy work (consumers must already handle them).
 */
import type { Address, Headers } from "./flow.ts";

/** Where a step's proof is: a line of a file, and the nft rule handle when the rule has one. */
export interface EvidenceRef {
  /** The file as the user named it (a bundle-relative path, or the dump given on the command line). */
  readonly file: string;
  /** 1-indexed line. */
  readonly line: number;
  /** nft rule handle (`nft -a list ruleset`), for nft rules only. */
  readonly handle?: number;
}

/** What evidence would decide an undecided step or path (closed: renderers say how to get each). */
export type MissingEvidence =
  /** The node's own addresses: `--local-ip`, or `--bundle DIR --node NODE`. */
  | "node-addresses"
  /** The interface the packet arrives on (`--in-interface`). */
  | "in-interface"
  /** The interface the packet leaves by (`--out-interface`). */
  | "out-interface"
  /** The client's source port (`--src IP:PORT`). */
  | "source-port"
  /** The members of an ipset (`ipset save`). */
  | "ipset-members"
  /** Whether the packet crossed a Linux bridge (`-m physdev`). */
  | "bridge-crossing"
  /** The node's routing table (`ip route`), e.g. for `addrtype` route types. */
  | "routing-table"
  /** The node's interfaces and their addresses (`ip addr`). */
  | "interfaces"
  /** How many packets a rule has seen (`statistic --mode nth`). */
  | "packet-counters"
  /** The connection's history (conntrack options that depend on earlier packets). */
  | "connection-history"
  /** The verdict of a userspace program (QUEUE/NFQUEUE). */
  | "userspace-verdict"
  /** A chain the rule jumps to that is not in the dump (a partial dump). */
  | "complete-dump"
  /** A rule the dump holds but that does not parse. */
  | "parsable-rule"
  /** netdoctor does not simulate this: read the rule by hand. */
  | "manual-check"
  /** Too many random branches to follow (raise `maxPaths`). */
  | "path-limit"
  /** A node's neighbour (ARP) table (`ip -j neigh show` → nodes/NODE/ip-neigh.json). */
  | "neighbor-table"
  /** A node's bridge forwarding database (`bridge -j fdb show` → nodes/NODE/bridge-fdb.json). */
  | "fdb-table"
  /** A node's forwarding, rp_filter and br_netfilter settings (`sysctl -a` → nodes/NODE/sysctl.txt). */
  | "kernel-settings"
  /** Another node's iptables rules on the path (`iptables-save` → nodes/NODE/iptables-save.txt). */
  | "node-rules"
  /** An IPVS-mode node's virtual servers (`ipvsadm -Sn` → nodes/NODE/ipvsadm.txt). */
  | "ipvs-table";

/** The NAT actions: each is a `transform` step with the headers before and after. */
export type NatAction =
  /** `-j DNAT`: the destination becomes `to` (`ip[-ip][:port[-port]]` as written). */
  | { readonly kind: "dnat"; readonly to: string }
  /** `-j SNAT`: the source becomes `to` (as written). */
  | { readonly kind: "snat"; readonly to: string }
  /** `-j MASQUERADE`: the source becomes the out-interface's address. */
  | { readonly kind: "masquerade" }
  /** `-j REDIRECT`: the destination becomes the node itself, `to` = `ip:port` as resolved. */
  | { readonly kind: "redirect"; readonly to: string }
  /**
   * IPVS (kube-proxy's IPVS mode) scheduled the connection to the virtual server `virtualServer`
   * (`tcp 10.43.0.10:53`) to the real server `to` (`ip:port`, masquerading: the destination
   * becomes it). The scheduler (`rr`, `wrr`, `lc`...) picks any of `choices` real servers of weight
   * > 0; the step's probability is this one's share (by weight; equal shares for `rr`).
   */
  | {
      readonly kind: "ipvs";
      readonly to: string;
      readonly virtualServer: string;
      readonly scheduler: string;
      readonly weight: number;
      readonly choices: number;
    };

/** The `-j MARK` operations (option names without their dashes). */
export type MarkOp = "set-xmark" | "set-mark" | "and-mark" | "or-mark" | "xor-mark";

/** What a rule (or a chain policy) did to the packet, other than NAT. */
export type FilterAction =
  /** `-j CHAIN`: walks a user chain, then goes on with the next rule when it returns. */
  | { readonly kind: "jump"; readonly target: string }
  /** `-g CHAIN`: walks a user chain; its RETURN goes back past the calling chain. */
  | { readonly kind: "goto"; readonly target: string }
  /** `-j RETURN`: back to the calling chain (from a built-in chain: its policy applies). */
  | { readonly kind: "return" }
  /** `-j ACCEPT`: this table lets the packet through this hook. */
  | { readonly kind: "accept" }
  /** `-j DROP`: the packet is discarded silently. */
  | { readonly kind: "drop" }
  /** `-j REJECT`: the packet is discarded and the client told, with the canonical `--reject-with`. */
  | { readonly kind: "reject"; readonly rejectWith: string }
  /** `-j MARK`: the packet mark changes (`op` with its argument as written). */
  | { readonly kind: "mark"; readonly op: MarkOp; readonly value: string }
  /** `-j CONNMARK`: the packet and/or connection mark change (the target's options as written). */
  | { readonly kind: "connmark"; readonly options: string }
  /** `-j NOTRACK` / `-j CT --notrack`: the connection is not tracked, nat skips it. */
  | { readonly kind: "notrack" }
  /** A target that acts and lets the packet go on (LOG, NFLOG, TRACE, CT ...). */
  | { readonly kind: "continue"; readonly target: string }
  /** A rule without a target: it only counts the packet. */
  | { readonly kind: "count" }
  /** The end of a built-in chain: its policy applies. */
  | { readonly kind: "policy"; readonly policy: "ACCEPT" | "DROP" }
  /** The tracer cannot tell whether (or how) this rule applies: the path stops here, undecided. */
  | { readonly kind: "cannot-decide"; readonly reason: string; readonly needs: MissingEvidence };

/** Every action a rule step can record: one closed union. */
export type StepAction = FilterAction | NatAction;

/**
 * The rule-backend of a rule step: an iptables dump, an nft ruleset, or the IPVS table (`ipvsadm
 * -Sn`, kube-proxy's IPVS mode: table `ipvs`, chain = the virtual server, rule = its `-A`/`-a` line).
 */
export type RuleBackend = "iptables" | "nft" | "ipvs";

/** What a rule step (filter or transform) says about its rule. */
interface RuleStepBase {
  readonly backend: RuleBackend;
  /** iptables: raw, mangle, nat, filter, security; nft: the table's name. */
  readonly table: string;
  /** nft only: the table's family (ip, ip6, inet, bridge, arp, netdev). */
  readonly family?: string;
  readonly chain: string;
  readonly evidence: EvidenceRef;
  /** The rule as written (`-A ...`), or the chain declaration for a policy. */
  readonly rule: string;
  /**
   * When a statistic match (`-m statistic --mode random`, kube-proxy's endpoint choice) split the
   * path at this rule: the probability that the rule matched, given that the packet reached it.
   * Undefined (left out of JSON) when the rule matched for certain.
   */
  readonly probability?: number | undefined;
}

/** A rule (or chain policy) that acted on the packet without rewriting its addresses. */
export interface FilterStep extends RuleStepBase {
  readonly kind: "filter";
  readonly action: FilterAction;
}

/** A NAT rule: the packet's headers before and after it. */
export interface TransformStep extends RuleStepBase {
  readonly kind: "transform";
  readonly action: NatAction;
  readonly before: Headers;
  readonly after: Headers;
}

/** The route lookup: is the packet for the node itself, routed on, or stopped by routing? */
export interface RoutingStep {
  readonly kind: "routing";
  /**
   * local: INPUT (the node's own socket); forward: FORWARD and out; no-route: no route, or an
   * unreachable/prohibit route (the path ends no-route); drop: a blackhole route, forwarding
   * disabled or rp_filter (the path ends dropped, silently); undecided: the path stops.
   */
  readonly decision: "local" | "forward" | "no-route" | "drop" | "undecided";
  /** The destination looked up (after any DNAT). */
  readonly dst: Address;
  /**
   * What decided it: `loopback` (127.0.0.0/8), `node-addresses` (the destination is, or is not, one
   * of the node's addresses as given), `route-table` (a route, once `ip route` evidence is read).
   */
  readonly basis: "loopback" | "node-addresses" | "route-table" | "none";
  /** The interface the route leaves by, when known (undefined, left out of JSON, otherwise). */
  readonly outInterface?: string | undefined;
  /** The next hop (gateway), when the route has one. */
  readonly gateway?: string;
  /** The route that decided it, once routes are read from evidence. */
  readonly evidence?: EvidenceRef;
  /** Why the decision is what it is when it ends the path (no-route, drop, undecided). */
  readonly reason?: string | undefined;
}

/**
 * Encapsulation into an overlay towards another node (VXLAN, WireGuard, IP-in-IP, Geneve), or, on
 * the receiving node, decapsulation of it.
 */
export interface OverlayStep {
  readonly kind: "overlay";
  /** Absent (as before multi-hop traces) means `encapsulate`. */
  readonly direction?: "encapsulate" | "decapsulate";
  /**
   * Set when the overlay discards the packet here (no FDB entry for the inner MAC, a frame for
   * another VTEP MAC, too big with DF set): why, from the evidence. The path ends dropped.
   */
  readonly dropped?: string;
  readonly encapsulation: "vxlan" | "wireguard" | "ipip" | "geneve";
  /** The overlay device, e.g. `flannel.1`. */
  readonly device: string;
  /** VXLAN network identifier, for VXLAN. */
  readonly vni?: number;
  /** The outer headers (node to node) the inner packet travels in. */
  readonly outer: Headers;
  /** The node the outer destination belongs to, when known. */
  readonly toNode?: string;
  readonly evidence?: EvidenceRef;
}

/** Neighbour (ARP) resolution of the next hop on a device. */
export interface NeighborStep {
  readonly kind: "neighbor";
  readonly ip: string;
  /** The device the neighbour is looked up on (e.g. `cni0`), when known. */
  readonly device?: string;
  /**
   * `answers`: a neighbour entry exists or a host owns the address; `no-answer`: nothing answers ARP
   * (the path ends neighbor-unreachable); `not-needed`: the device does no ARP (lo, wireguard, ipip);
   * `undecided`: the evidence cannot tell (the path ends undecided).
   */
  readonly state: "answers" | "no-answer" | "not-needed" | "undecided";
  /** Why the state is what it is, from the evidence (e.g. no pod in pods.json has the address). */
  readonly reason: string;
  readonly evidence?: EvidenceRef;
}

/** Delivery to the final receiver: a pod's interface, or a process of the node. */
export interface DeliverStep {
  readonly kind: "deliver";
  readonly to: "pod" | "node";
  /** `namespace/name` of the receiving pod, when known. */
  readonly pod?: string;
  readonly device?: string;
  readonly evidence?: EvidenceRef;
}

/** A packet of a connection that already has a conntrack entry: it goes where the entry says. */
export interface ConntrackStep {
  readonly kind: "conntrack";
  /** The entry as `conntrack -L` printed it. */
  readonly entry: string;
  /** The headers before and after the entry's NAT, when it rewrites them. */
  readonly before?: Headers;
  readonly after?: Headers;
  readonly evidence?: EvidenceRef;
}

/** One step of a hop; closed and tagged by `kind`. */
export type Step =
  | FilterStep
  | TransformStep
  | RoutingStep
  | OverlayStep
  | NeighborStep
  | DeliverStep
  | ConntrackStep;

/** Steps that point at a rule of a dump (filter and transform). */
export type RuleStep = FilterStep | TransformStep;
