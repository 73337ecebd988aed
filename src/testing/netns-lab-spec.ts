/**
 * What a netns lab is made of ({@linkcode LabSpec}), with its defaults filled in and its addresses
 * and member names checked before the kernel is asked for anything.
 */

export interface LabPod {
  readonly name: string;
  readonly ip: string;
}

export interface LabServer {
  readonly name: string;
  readonly ip: string;
  readonly tcpPorts?: readonly number[];
  readonly udpPorts?: readonly number[];
}

export interface LabSpec {
  /** Goes into namespace names: `nd-<area>-<pid>-<n>` (default "lab"). */
  readonly area?: string;
  /** Which iptables-restore loads rulesets (default nft). */
  readonly backend?: "nft" | "legacy";
  /** The node's own addresses (default ["198.18.0.1"]); the first is the pods' gateway. */
  readonly nodeIps?: readonly string[];
  /** TCP ports the node itself listens on (local delivery, e.g. NodePorts not DNATed). */
  readonly nodeTcpPorts?: readonly number[];
  readonly pods?: readonly LabPod[];
  readonly servers?: readonly LabServer[];
  /** A namespace that owns every address of `cidr` (default 198.19.0.0/16) and is the node's default route. */
  readonly world?: { readonly tcpPorts: readonly number[]; readonly cidr?: string } | false;
}

/** A {@linkcode LabSpec} with its defaults applied. */
export interface ResolvedLabSpec {
  readonly area: string;
  readonly nodeIps: readonly string[];
  readonly nodeTcpPorts: readonly number[];
  readonly pods: readonly LabPod[];
  readonly servers: readonly LabServer[];
  readonly world: { readonly tcpPorts: readonly number[]; readonly cidr: string } | undefined;
  /** The iptables-restore and iptables-save commands of the backend. */
  readonly restore: string;
  readonly save: string;
}

const LAB_NET = { base: (198 << 24) | (18 << 16), mask: 0xfffe0000 };

function inLabNet(cidr: string): boolean {
  const [ip, len] = cidr.split("/");
  const parts = (ip ?? "").split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return false;
  if (len !== undefined && Number(len) < 15) return false;
  const n = ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
  return (n & LAB_NET.mask) >>> 0 === LAB_NET.base >>> 0;
}

/**
 * `spec` with its defaults (one pod 198.18.1.2, node IP 198.18.0.1, a world on TCP 80, nft).
 *
 * @throws {RangeError} When an address lies outside 198.18.0.0/15, or a member name is repeated or
 * is "node" or "world".
 */
export function resolveLabSpec(spec: LabSpec): ResolvedLabSpec {
  const nodeIps = spec.nodeIps ?? ["198.18.0.1"];
  const pods = spec.pods ?? [{ name: "pod", ip: "198.18.1.2" }];
  const servers = spec.servers ?? [];
  const w = spec.world === false ? undefined : (spec.world ?? { tcpPorts: [80] });
  const world = w === undefined ? undefined : { tcpPorts: w.tcpPorts, cidr: w.cidr ?? "198.19.0.0/16" };
  const addrs = [
    ...nodeIps,
    ...pods.map((p) => p.ip),
    ...servers.map((s) => s.ip),
    ...(world ? [world.cidr] : []),
  ];
  for (const a of addrs) {
    if (!inLabNet(a))
      throw new RangeError(`Cannot use address "${a}" in a netns lab: only 198.18.0.0/15 is allowed`);
  }
  const names = [...pods.map((p) => p.name), ...servers.map((s) => s.name)];
  for (const n of names) {
    if (n === "node" || n === "world" || names.indexOf(n) !== names.lastIndexOf(n)) {
      throw new RangeError(`Cannot use lab member name "${n}": names must be unique and not node/world`);
    }
  }
  const legacy = spec.backend === "legacy";
  return {
    area: spec.area ?? "lab",
    nodeIps,
    nodeTcpPorts: spec.nodeTcpPorts ?? [],
    pods,
    servers,
    world,
    restore: legacy ? "iptables-legacy-restore" : "iptables-nft-restore",
    save: legacy ? "iptables-legacy-save" : "iptables-nft-save",
  };
}
