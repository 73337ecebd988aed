/**
 * The packet a trace follows (after batfish's `Flow`): what the client sent and where it entered, and
 * the header fields as they are at any point of the path (after NAT rewrites).
 */

export type Protocol = "tcp" | "udp" | "sctp" | "icmp";

/** Where the packet enters the node: from a pod interface, or from a hostNetwork process. */
export type Ingress = "pod" | "host";

/** The header fields of a packet as the client sent it. */
export interface Packet {
  readonly protocol: Protocol;
  readonly srcIp: string;
  /** Absent for ICMP, or when the caller did not give the client's port. */
  readonly srcPort?: number;
  readonly dstIp: string;
  /** Absent for ICMP. */
  readonly dstPort?: number;
}

/** The packet as sent, where it enters, and on which node (batfish `Flow`). */
export interface Flow extends Packet {
  readonly ingress: Ingress;
  /** The node the packet enters; absent when the trace was asked of a dump without a node name. */
  readonly node?: string;
  /** The interface a `pod` packet arrives on (for `-i`); absent when not known. */
  readonly inInterface?: string;
}

/**
 * One end (source or destination) of the packet at some point of its path. Closed union: later
 * producers (overlay encapsulation, IPv6) add members, consumers switch on `kind`.
 */
export type Address =
  /** Known exactly. `port` is absent for ICMP, or for a source port the caller did not give. */
  | { readonly kind: "exact"; readonly ip: string; readonly port?: number }
  /**
   * A NAT rule mapped the packet into a range (`--to-destination 10.0.0.1-10.0.0.3:80`): the kernel
   * picks one per connection, which the dump cannot tell. Ports are absent when the rule kept them.
   */
  | {
      readonly kind: "range";
      readonly minIp: string;
      readonly maxIp: string;
      readonly minPort?: number;
      readonly maxPort?: number;
    }
  /**
   * MASQUERADE: the primary address of the interface the packet leaves by, which is not in an
   * iptables dump. `port` is the port kept when known (the kernel keeps it unless it clashes).
   */
  | { readonly kind: "out-interface"; readonly port?: number };

/** The header fields a trace follows, as they are at one point of the path. */
export interface Headers {
  readonly protocol: Protocol;
  readonly src: Address;
  readonly dst: Address;
}
