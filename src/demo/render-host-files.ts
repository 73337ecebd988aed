/**
 * A demo node's host network files (docs/bundle.md) as k3s's flannel VXLAN backend leaves the host:
 * flannel.1 (VNI 1, UDP 8472, the node's VtepMAC, MTU of the underlay − 50) with the pod CIDR's
 * network address /32, the cni0 bridge with the pod CIDR's first address, a route to every other
 * node's pod CIDR via flannel.1 onlink with that node's network address as gateway, a permanent
 * neighbour entry (peer's overlay address → its VtepMAC) and FDB entry (VtepMAC → its public IP)
 * per peer. Printed in the exact shapes of the real commands' output in the kernel lab
 * (testdata/hostnet/lab/healthy/nodes/*): `ip -j` one-line JSON arrays, `sysctl -a` lines, `lsmod`.
 */
import { ethtoolFlannelText } from "./ethtool-flannel-text.ts";

/** The host side of one demo node. */
export interface NodeHostSpec {
  /** The underlay address (flannel's public-ip annotation, the node's InternalIP). */
  readonly publicIp: string;
  /** Prefix length of the underlay network. */
  readonly underlayPrefix: number;
  /** The underlay's default gateway. */
  readonly gateway: string;
  /** MAC of flannel.1 (flannel's backend-data VtepMAC). */
  readonly vtepMac: string;
  /** MAC of the underlay interface eth0. */
  readonly ethMac: string;
  /** MAC of the cni0 bridge. */
  readonly cniMac: string;
  /** MTU of eth0 (flannel.1 and cni0 get 50 less, VXLAN's overhead). */
  readonly underlayMtu: number;
  /** `tx-checksum-ip-generic` of flannel.1 (flannel-io/flannel#1279 on kernels before 5.7). */
  readonly txChecksum: boolean;
}

/** A node with its pod CIDR and host side, as the renderer needs it. */
export interface HostNode {
  readonly name: string;
  readonly podCIDR: string;
  readonly host: NodeHostSpec;
}

const FOREVER = { valid_life_time: 4294967295, preferred_life_time: 4294967295 };

function toInt(ip: string): number {
  return ip.split(".").reduce((n, o) => ((n << 8) | Number(o)) >>> 0, 0);
}

function toIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
}

/** Network address, first address, broadcast and prefix of an IPv4 CIDR. */
function cidr(text: string): { net: string; first: string; broadcast: string; prefix: number } {
  const [ip, len] = text.split("/");
  const prefix = Number(len);
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  const base = (toInt(ip!) & mask) >>> 0;
  return { net: toIp(base), first: toIp(base + 1), broadcast: toIp((base | ~mask) >>> 0), prefix };
}

/** `ip -j` prints one line. */
const line = (v: unknown) => `${JSON.stringify(v)}\n`;

/** flannel.1's `ip -j -d link` details as flannel's VXLAN backend sets them (VNI 1, port 8472). */
function vxlanInfo(local: string) {
  return {
    info_kind: "vxlan",
    info_data: {
      id: 1,
      local,
      link: "eth0",
      port_range: { low: 0, high: 0 },
      port: 8472,
      learning: false,
      ttl: 0,
      df: "unset",
      ageing: 300,
      udp_csum: false,
      udp_zero_csum6_tx: false,
      udp_zero_csum6_rx: false,
    },
  };
}

function links(n: HostNode, withAddr: boolean) {
  const h = n.host;
  const pod = cidr(n.podCIDR);
  const under = cidr(`${h.publicIp}/${h.underlayPrefix}`);
  const inet = (local: string, prefixlen: number, label: string, broadcast?: string) => ({
    family: "inet",
    local,
    prefixlen,
    ...(broadcast === undefined ? {} : { broadcast }),
    scope: "global",
    label,
    ...FOREVER,
  });
  const ether = (mtu: number) => ({
    flags: ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
    mtu,
    qdisc: "noqueue",
  });
  const tail = (mac: string) => ({ link_type: "ether", address: mac, broadcast: "ff:ff:ff:ff:ff:ff" });
  const items: Array<Record<string, unknown> & { addr: unknown[]; linkinfo?: unknown }> = [
    {
      ifindex: 1,
      ifname: "lo",
      flags: ["LOOPBACK", "UP", "LOWER_UP"],
      mtu: 65536,
      qdisc: "noqueue",
      operstate: "UNKNOWN",
      group: "default",
      txqlen: 1000,
      link_type: "loopback",
      address: "00:00:00:00:00:00",
      broadcast: "00:00:00:00:00:00",
      addr: [{ family: "inet", local: "127.0.0.1", prefixlen: 8, scope: "host", label: "lo", ...FOREVER }],
    },
    {
      ifindex: 2,
      ifname: "eth0",
      ...ether(h.underlayMtu),
      operstate: "UP",
      group: "default",
      txqlen: 1000,
      ...tail(h.ethMac),
      addr: [inet(h.publicIp, h.underlayPrefix, "eth0", under.broadcast)],
    },
    {
      ifindex: 3,
      ifname: "flannel.1",
      ...ether(h.underlayMtu - 50),
      operstate: "UNKNOWN",
      group: "default",
      txqlen: 1000,
      ...tail(h.vtepMac),
      linkinfo: vxlanInfo(h.publicIp),
      addr: [inet(pod.net, 32, "flannel.1")],
    },
    {
      ifindex: 4,
      ifname: "cni0",
      ...ether(h.underlayMtu - 50),
      operstate: "UP",
      group: "default",
      txqlen: 1000,
      ...tail(h.cniMac),
      linkinfo: { info_kind: "bridge", info_data: { stp_state: 0, vlan_filtering: 0 } },
      addr: [inet(pod.first, pod.prefix, "cni0", pod.broadcast)],
    },
  ];
  return items.map(({ addr, linkinfo, ...rest }) =>
    withAddr
      ? { ...rest, addr_info: addr }
      : { ...rest, linkmode: "DEFAULT", ...(linkinfo === undefined ? {} : { linkinfo }) },
  );
}

function routes(n: HostNode, peers: readonly HostNode[]) {
  const h = n.host;
  const pod = cidr(n.podCIDR);
  const under = cidr(`${h.publicIp}/${h.underlayPrefix}`);
  const local = (type: string, dst: string, dev: string, src: string) => ({
    type,
    dst,
    dev,
    table: "local",
    protocol: "kernel",
    scope: type === "local" ? "host" : "link",
    prefsrc: src,
    flags: [],
  });
  return [
    { dst: "default", gateway: h.gateway, dev: "eth0", protocol: "static", flags: [] },
    {
      dst: `${pod.net}/${pod.prefix}`,
      dev: "cni0",
      protocol: "kernel",
      scope: "link",
      prefsrc: pod.first,
      flags: [],
    },
    ...peers.map((p) => {
      const c = cidr(p.podCIDR);
      return { dst: `${c.net}/${c.prefix}`, gateway: c.net, dev: "flannel.1", flags: ["onlink"] };
    }),
    {
      dst: `${under.net}/${under.prefix}`,
      dev: "eth0",
      protocol: "kernel",
      scope: "link",
      prefsrc: h.publicIp,
      flags: [],
    },
    local("local", "127.0.0.0/8", "lo", "127.0.0.1"),
    local("local", "127.0.0.1", "lo", "127.0.0.1"),
    local("broadcast", "127.255.255.255", "lo", "127.0.0.1"),
    local("local", pod.net, "flannel.1", pod.net),
    local("local", pod.first, "cni0", pod.first),
    local("broadcast", pod.broadcast, "cni0", pod.first),
    local("local", h.publicIp, "eth0", h.publicIp),
    local("broadcast", under.broadcast, "eth0", h.publicIp),
  ];
}

const RULES = [
  { priority: 0, src: "all", table: "local" },
  { priority: 32766, src: "all", table: "main" },
  { priority: 32767, src: "all", table: "default" },
];

function sysctl(): string {
  const lines = ["net.bridge.bridge-nf-call-iptables = 1"];
  for (const i of ["all", "cni0", "default", "eth0", "flannel/1", "lo"]) {
    lines.push(`net.ipv4.conf.${i}.forwarding = 1`, `net.ipv4.conf.${i}.rp_filter = ${i === "all" ? 2 : 0}`);
  }
  lines.push("net.ipv4.ip_forward = 1");
  return `${lines.sort().join("\n")}\n`;
}

const LSMOD = `Module                  Size  Used by
vxlan                  86016  0
ip6_udp_tunnel         16384  1 vxlan
udp_tunnel             32768  1 vxlan
xt_conntrack           16384  14
xt_MASQUERADE          20480  4
nf_conntrack_netlink   57344  0
xt_comment             16384  412
nft_compat             20480  486
br_netfilter           32768  0
bridge                311296  1 br_netfilter
nf_tables             286720  1 nft_compat
nf_conntrack          176128  3 xt_conntrack,nf_conntrack_netlink,xt_MASQUERADE
ip_tables              36864  0
overlay               155648  12
`;

/**
 * Every host file of `n` as `[file name, text]`; `peers` are the cluster's other flannel nodes.
 */
export function hostFiles(n: HostNode, peers: readonly HostNode[], clusterCIDR: string): [string, string][] {
  const h = n.host;
  const pod = cidr(n.podCIDR);
  const neigh = peers.flatMap((p) => [
    { dst: p.host.publicIp, dev: "eth0", lladdr: p.host.ethMac, state: ["REACHABLE"] },
    { dst: cidr(p.podCIDR).net, dev: "flannel.1", lladdr: p.host.vtepMac, state: ["PERMANENT"] },
  ]);
  const self = (mac: string, ifname: string) => ({ mac, ifname, flags: ["self"], state: "permanent" });
  const fdb = [
    self("33:33:00:00:00:01", "eth0"),
    self("01:00:5e:00:00:01", "eth0"),
    self("33:33:00:00:00:01", "cni0"),
    self("01:00:5e:00:00:01", "cni0"),
    ...peers.map((p) => ({
      mac: p.host.vtepMac,
      ifname: "flannel.1",
      dst: p.host.publicIp,
      flags: ["self"],
      state: "permanent",
    })),
  ];
  const env = [
    `FLANNEL_NETWORK=${clusterCIDR}`,
    `FLANNEL_SUBNET=${pod.first}/${pod.prefix}`,
    `FLANNEL_MTU=${h.underlayMtu - 50}`,
    "FLANNEL_IPMASQ=true",
  ];
  return [
    ["ip-addr.json", line(links(n, true))],
    ["ip-link.json", line(links(n, false))],
    ["ip-route.json", line(routes(n, peers))],
    ["ip-rule.json", line(RULES)],
    ["ip-neigh.json", line(neigh)],
    ["bridge-fdb.json", line(fdb)],
    ["sysctl.txt", sysctl()],
    ["lsmod.txt", LSMOD],
    ["flannel-subnet.env", `${env.join("\n")}\n`],
    ["ethtool-k-flannel.1.txt", ethtoolFlannelText(h.txChecksum)],
    ["conntrack.txt", ""],
  ];
}
