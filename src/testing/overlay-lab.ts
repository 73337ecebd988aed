/**
 * A kernel lab of a flannel VXLAN cluster: "nodes" as network namespaces joined by an underlay
 * bridge (in its own namespace; no link to the machine's own namespace), each with a real VXLAN
 * device `flannel.1` (VNI 1, UDP 8472, learning off), a `cni0` bridge and pods as namespaces on it.
 * Routes, FDB and neighbour entries are set the way flannel sets them (pkg/backend/vxlan:
 * route `PODCIDR via OVERLAY-IP dev flannel.1 onlink`, PERMANENT neighbour OVERLAY-IP → VtepMAC,
 * FDB VtepMAC → public IP).
 *
 * Address layout (all in 198.18.0.0/15):
 * ```
 *   cluster CIDR 198.18.0.0/16; node i: podCIDR 198.18.i.0/24, flannel.1 198.18.i.0/32,
 *                cni0 198.18.i.1/24, pods 198.18.i.10+
 *   underlay 198.19.255.0/24 (eth0, node i = 198.19.255.(10+i)), bridge `br0` in the underlay namespace
 *   second underlay 198.19.254.0/24 (eth1, optional), bridge `br1`
 *   "NAT" NIC (optional, Vagrant style): nat0 198.19.253.15/24 on every node, each to its own
 *                namespace holding 198.19.253.2, the default route
 *   Service ClusterIPs 198.19.0.0/24 (DNAT rules loaded by the cases)
 * ```
 * Offloads (TSO/GSO/GRO) are off on pod and underlay links so that a packet larger than a link's
 * MTU is lost as on a real wire (veth lets oversized GSO packets through otherwise).
 */
import { OVERLAY_POD_AGENT } from "./overlay-lab-agents.ts";
import {
  deleteNamespace,
  newNamespace,
  nextLine,
  nsRun,
  run,
  setSysctl,
  startAgent,
  stopAgent,
} from "./overlay-lab-ns.ts";
import type { LabProbe, LabProbeResult } from "./overlay-lab-probe.ts";
import type { LabNodeState, LabPodState, OverlayLabPod } from "./overlay-lab-spec.ts";

export type {
  LabNodeState,
  LabPodState,
  OverlayLabNode,
  OverlayLabPod,
  OverlayLabSpec,
} from "./overlay-lab-spec.ts";

function ipOf(ns: string, dev: string): string {
  const j = JSON.parse(nsRun(ns, ["ip", "-j", "addr", "show", "dev", dev])) as Array<{
    addr_info: Array<{ family: string; local: string }>;
  }>;
  return j[0]!.addr_info.find((a) => a.family === "inet")!.local;
}

function macOf(ns: string, dev: string): string {
  return (JSON.parse(nsRun(ns, ["ip", "-j", "link", "show", "dev", dev])) as Array<{ address: string }>)[0]!
    .address;
}

function veth(a: { ns: string; name: string }, b: { ns: string; name: string }): void {
  run(["ip", "link", "add", a.name, "netns", a.ns, "type", "veth", "peer", "name", b.name, "netns", b.ns]);
}

/** Turns off the offloads that let oversized packets cross a veth (see the file comment). */
export function wireLike(ns: string, dev: string): void {
  nsRun(ns, ["ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off"]);
}

let uidCounter = 0;

/** The lab. Build with {@linkcode createOverlayLab}; always `destroy()`. */
export class OverlayLab {
  readonly nodes = new Map<string, LabNodeState>();
  readonly pods = new Map<string, LabPodState>();
  private vethCounter = 0; // never reused: removePod() frees a name another pod still holds
  readonly created: string[] = [];
  readonly area: string;
  underlay = "";
  #nextId = 0;

  constructor(area: string) {
    this.area = area;
  }

  /** A namespace of the lab, remembered for destroy(). */
  namespace(): string {
    const ns = newNamespace(this.area);
    this.created.push(ns);
    return ns;
  }

  node(name: string): LabNodeState {
    const n = this.nodes.get(name);
    if (n === undefined) throw new RangeError(`Cannot find lab node "${name}"`);
    return n;
  }

  /** Runs a command in a node's namespace. */
  exec(node: string, args: readonly string[], input?: string): string {
    return nsRun(this.node(node).ns, args, input);
  }

  /** The flannel.1 device: created as flannel does, with the public IP as `local` on the chosen NIC. */
  createVtep(node: string): void {
    const n = this.node(node);
    const iface = n.spec.flannelIface ?? "eth0";
    const local = ipOf(n.ns, iface);
    nsRun(n.ns, [
      "ip",
      "link",
      "add",
      "flannel.1",
      "type",
      "vxlan",
      "id",
      "1",
      "local",
      local,
      "dev",
      iface,
      "dstport",
      "8472",
      "nolearning",
    ]);
    nsRun(n.ns, ["ip", "addr", "add", `${n.overlayIp}/32`, "dev", "flannel.1"]);
    nsRun(n.ns, ["ip", "link", "set", "flannel.1", "up"]);
    nsRun(n.ns, ["ethtool", "-K", "flannel.1", "tso", "off", "gso", "off"]);
    // ARP on the overlay should fail fast in the lab (the kernel default is 3 probes 1 s apart).
    setSysctl(n.ns, "net.ipv4.neigh.flannel/1.retrans_time_ms", 100);
    n.vtepMac = macOf(n.ns, "flannel.1");
    n.flannelMtu = (
      JSON.parse(nsRun(n.ns, ["ip", "-j", "link", "show", "dev", "flannel.1"])) as Array<{ mtu: number }>
    )[0]!.mtu;
    n.publicIp = n.spec.publicIp ?? local;
  }

  /** What flannel does on `node` for every peer lease: neighbour, FDB, then the route. */
  programPeers(node: string, options: { skip?: readonly string[] } = {}): void {
    const n = this.node(node);
    for (const peer of this.nodes.values()) {
      if (peer === n || options.skip?.includes(peer.spec.name)) continue;
      nsRun(n.ns, [
        "ip",
        "neigh",
        "replace",
        peer.overlayIp,
        "lladdr",
        peer.vtepMac,
        "dev",
        "flannel.1",
        "nud",
        "permanent",
      ]);
      nsRun(n.ns, [
        "bridge",
        "fdb",
        "append",
        peer.vtepMac,
        "dev",
        "flannel.1",
        "dst",
        peer.publicIp,
        "self",
        "permanent",
      ]);
      nsRun(n.ns, [
        "ip",
        "route",
        "replace",
        peer.podCidr,
        "via",
        peer.overlayIp,
        "dev",
        "flannel.1",
        "onlink",
      ]);
    }
  }

  /** Recreates flannel.1 on `node` with a new MAC (a flannel restart) and re-adds its own peers. */
  recreateVtep(node: string): void {
    nsRun(this.node(node).ns, ["ip", "link", "del", "flannel.1"]);
    this.createVtep(node);
    this.programPeers(node);
  }

  /** Starts a pod on `node`: namespace, veth on cni0 (MTU of flannel.1, as flannel's CNI config sets), agent. */
  async addPod(node: string, pod: OverlayLabPod): Promise<void> {
    const n = this.node(node);
    const ns = this.namespace();
    const host = `veth${n.spec.index}p${this.vethCounter++}`;
    veth({ ns: n.ns, name: host }, { ns, name: "eth0" });
    const mtu = String(
      (
        JSON.parse(nsRun(n.ns, ["ip", "-j", "link", "show", "dev", "flannel.1"])) as Array<{ mtu: number }>
      )[0]!.mtu,
    );
    nsRun(n.ns, ["ip", "link", "set", host, "mtu", mtu, "master", "cni0", "up"]);
    nsRun(ns, ["ip", "link", "set", "eth0", "mtu", mtu, "up"]);
    nsRun(ns, ["ip", "addr", "add", `${pod.ip}/24`, "dev", "eth0"]);
    nsRun(ns, ["ip", "route", "add", "default", "via", `198.18.${n.spec.index}.1`]);
    wireLike(ns, "eth0");
    const agent = startAgent(ns, OVERLAY_POD_AGENT, [
      pod.name,
      (pod.tcpPorts ?? []).join(","),
      (pod.udpPorts ?? []).join(","),
    ]);
    const state: LabPodState = {
      spec: pod,
      node,
      ns,
      uid: `00000000-0000-4000-8000-${String(++uidCounter).padStart(12, "0")}`,
      agent,
    };
    this.pods.set(pod.name, state);
    const line = await nextLine(agent, 15_000, `pod ${pod.name}`);
    if (line !== "ready") throw new Error(`overlay lab: pod ${pod.name} said "${line}"`);
  }

  /** Deletes a pod: its agent, its namespace, and its object (the API forgets it). */
  async removePod(name: string): Promise<void> {
    const p = this.pods.get(name);
    if (p === undefined) throw new RangeError(`Cannot find lab pod "${name}"`);
    if (p.agent !== undefined) await stopAgent(p.agent);
    deleteNamespace(p.ns);
    this.created.splice(this.created.indexOf(p.ns), 1);
    this.pods.delete(name);
  }

  /** One connection attempt from a pod, bounded by its timeout. */
  async probe(req: LabProbe): Promise<LabProbeResult> {
    const p = this.pods.get(req.from);
    if (p?.agent === undefined) throw new RangeError(`Cannot probe from "${req.from}": no such pod`);
    const id = this.#nextId++;
    const timeoutMs = req.timeoutMs ?? 1500;
    p.agent.proc.stdin.write(`${JSON.stringify({ ...req, payload: req.payload ?? 16, id, timeoutMs })}\n`);
    const r = JSON.parse(await nextLine(p.agent, timeoutMs + 10_000, `pod ${req.from}`)) as LabProbeResult & {
      id: number;
    };
    if (r.id !== id) throw new Error(`overlay lab: answer ${r.id} for request ${id}`);
    return {
      outcome: r.outcome,
      ...(r.errno === undefined ? {} : { errno: r.errno }),
      ...(r.reply === undefined ? {} : { reply: r.reply }),
    };
  }

  async destroy(): Promise<void> {
    await Promise.all(
      [...this.pods.values()].map((p) => (p.agent === undefined ? undefined : stopAgent(p.agent))),
    );
    const errors: string[] = [];
    for (const ns of [...this.created].reverse()) {
      try {
        deleteNamespace(ns);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    this.created.length = 0;
    if (errors.length > 0) throw new Error(`overlay lab: cannot delete namespaces: ${errors.join("; ")}`);
  }
}
