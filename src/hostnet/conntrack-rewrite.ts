/**
 * Packets of a flow that already has a conntrack entry follow the entry, not the NAT rules: the
 * entry's reply tuple says where the original direction is sent (DNAT) — which is how a stale
 * entry keeps a client talking to a pod that is gone.
 */
import type { Evidence } from "../model/finding.ts";
import type { Packet } from "../model/trace.ts";
import type { ConntrackEntry, ConntrackTable } from "./conntrack.ts";

/** The packet as the entry rewrites it, and the entry. */
export interface ConntrackHit {
  readonly packet: Packet;
  readonly entry: ConntrackEntry;
  readonly evidence: Evidence;
}

/**
 * Finds the entry whose original tuple is this packet (protocol, addresses and ports) and returns
 * the packet with the destination the entry maps it to (the reply tuple's source). Undefined when
 * no entry matches: the packet starts a new flow and the rules decide.
 */
export function conntrackRewrite(packet: Packet, table: ConntrackTable): ConntrackHit | undefined {
  const entry = table.entries.find(
    (e) =>
      e.protocol === packet.protocol &&
      e.original.src === packet.srcIp &&
      e.original.dst === packet.dstIp &&
      e.original.sport === packet.srcPort &&
      e.original.dport === packet.dstPort,
  );
  if (entry === undefined) return undefined;
  const rewritten: Packet = {
    ...packet,
    dstIp: entry.reply.src,
    ...(entry.reply.sport === undefined ? {} : { dstPort: entry.reply.sport }),
  };
  return { packet: rewritten, entry, evidence: entry.evidence };
}
