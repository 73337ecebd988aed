/**
 * VXLAN encapsulation and decapsulation from evidence, as flannel sets it up: the route's next hop
 * (the peer's overlay address) resolves to the peer's VtepMAC through a PERMANENT neighbour entry,
 * and the FDB maps that MAC to the peer's public IP (flannel-io/flannel pkg/backend/vxlan:
 * AddARP, AddFDB). The device then sends UDP from its `local` address to that IP on its port.
 */
import type { Evidence } from "../model/finding.ts";
import type { Packet } from "../model/trace.ts";
import type { FdbEntry } from "./bridge-fdb.ts";
import type { HostEvidence } from "./host-evidence.ts";
import type { IpLink } from "./ip-link.ts";
import { ZERO_MAC } from "./neighbor-resolve.ts";

/** The Linux VXLAN default port, which flannel keeps unless configured (IANA's is 4789). */
export const VXLAN_DEFAULT_PORT = 8472;
/** Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) headers: flannel's `encapOverhead`. */
export const VXLAN_OVERHEAD = 50;

export type EncapResult =
  | {
      readonly ok: true;
      readonly fdb: FdbEntry;
      readonly outer: Packet;
      readonly vni?: number;
      readonly evidence: readonly Evidence[];
    }
  | {
      readonly ok: false;
      readonly flood: boolean;
      readonly reason: string;
      readonly evidence: readonly Evidence[];
    };

/**
 * Picks the FDB entry for `dstMac` on the VXLAN device `dev` and builds the outer packet. Without
 * an entry the device drops the frame (vxlan_xmit finds no remote); an all-zero entry would flood it,
 * which flannel never installs, so that case is left undecided.
 */
export function encapsulate(host: HostEvidence, dev: IpLink, dstMac: string, inner: Packet): EncapResult {
  const entries = host.fdb?.entries.filter((e) => e.ifname === dev.ifname && e.dst !== undefined) ?? [];
  const hit = entries.find((e) => e.mac === dstMac);
  if (hit === undefined) {
    const flood = entries.filter((e) => e.mac === ZERO_MAC);
    return {
      ok: false,
      flood: flood.length > 0,
      reason:
        flood.length > 0
          ? `no FDB entry for ${dstMac} on ${dev.ifname}; it floods to ${flood.map((f) => f.dst).join(", ")}`
          : `no FDB entry for ${dstMac} on ${dev.ifname}: the VXLAN device has no remote to send the frame to and drops it`,
      evidence: [
        dev.evidence,
        { file: host.files.fdb, text: `no entry for ${dstMac} dev ${dev.ifname}` },
        ...flood.map((f) => f.evidence),
      ],
    };
  }
  const port = dev.vxlan?.port ?? VXLAN_DEFAULT_PORT;
  const local = dev.vxlan?.local;
  const outer: Packet = {
    protocol: "udp",
    srcIp: local ?? "0.0.0.0",
    dstIp: hit.dst!,
    dstPort: port,
    ...(inner.srcPort === undefined ? {} : { srcPort: inner.srcPort }),
  };
  return {
    ok: true,
    fdb: hit,
    outer,
    ...(dev.vxlan?.id === undefined ? {} : { vni: dev.vxlan.id }),
    evidence: [hit.evidence, dev.evidence],
  };
}

export type DecapResult =
  | { readonly ok: true; readonly dev: IpLink; readonly evidence: readonly Evidence[] }
  | { readonly ok: false; readonly reason: string; readonly evidence: readonly Evidence[] };

/**
 * Finds the VXLAN device that takes a frame for VNI `vni` on UDP `port`, and checks the frame is
 * addressed to it: a frame for another MAC (a stale VtepMAC on the sender) is not for this host
 * and is dropped after decapsulation.
 */
export function decapsulate(
  host: HostEvidence,
  arrival: { readonly port: number; readonly vni?: number; readonly innerDstMac: string },
  options: { readonly checkMac: boolean } = { checkMac: true },
): DecapResult {
  const devices = host.link?.links.filter((l) => l.kind === "vxlan") ?? [];
  const dev = devices.find(
    (l) =>
      (l.vxlan?.port ?? VXLAN_DEFAULT_PORT) === arrival.port &&
      (arrival.vni === undefined || l.vxlan?.id === arrival.vni),
  );
  if (dev === undefined) {
    return {
      ok: false,
      reason: `no VXLAN device for VNI ${arrival.vni ?? "?"} on UDP port ${arrival.port} on node ${host.node}`,
      evidence: devices.map((d) => d.evidence),
    };
  }
  if (!dev.flags.includes("UP")) {
    return { ok: false, reason: `${dev.ifname} on node ${host.node} is down`, evidence: [dev.evidence] };
  }
  if (options.checkMac && dev.address !== arrival.innerDstMac) {
    return {
      ok: false,
      reason: `the frame is for MAC ${arrival.innerDstMac}, but ${dev.ifname} on node ${host.node} has ${dev.address ?? "no MAC"}: not for this host, dropped`,
      evidence: [dev.evidence],
    };
  }
  return { ok: true, dev, evidence: [dev.evidence] };
}
