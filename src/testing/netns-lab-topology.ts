/**
 * The namespaces of a netns lab and their links: a forwarding node namespace holding the node's
 * addresses, one namespace per pod and server behind its own veth, and the world namespace as the
 * node's default route; torn down in reverse.
 */
import { type LabAgent, stopAgents } from "./netns-lab-agent.ts";
import { deleteNamespace, newNamespace, nsExec, runCommand } from "./netns-lab-namespaces.ts";
import type { ResolvedLabSpec } from "./netns-lab-spec.ts";

/** What a lab holds while it lives. */
export interface LabState {
  /** Namespaces in the order they were made (deleted in reverse). */
  readonly created: string[];
  /** Namespace of each member ("node", pods, servers, "world"). */
  readonly namespaces: Record<string, string>;
  /** Node-side interface of each pod, server and the world. */
  readonly ifaces: Map<string, string>;
  readonly agents: LabAgent[];
}

function setUpNode(spec: ResolvedLabSpec, state: LabState): string {
  const node = newNamespace(spec.area);
  state.created.push(node);
  state.namespaces.node = node;
  // ICMP errors (REJECT replies) are rate limited per peer by default (burst 6, then 1/s): a lab
  // that rejects many probes would see timeouts instead of the errno, so the limit is lifted.
  for (const key of [
    "net.ipv4.ip_forward=1",
    "net.ipv4.conf.all.rp_filter=0",
    "net.ipv4.conf.default.rp_filter=0",
    "net.ipv4.icmp_ratelimit=0",
    "net.ipv4.icmp_msgs_per_sec=100000",
  ]) {
    const [k, v] = key.split("=");
    nsExec(node, ["sh", "-c", `echo ${v} > /proc/sys/${k!.replaceAll(".", "/")}`]);
  }
  // The node's own addresses live on lo: no dummy module is needed and they stay local.
  for (const ip of spec.nodeIps) nsExec(node, ["ip", "addr", "add", `${ip}/32`, "dev", "lo"]);
  return node;
}

/** A new namespace for `member`, linked to the node by a veth (`ifname` on the node side). */
function attach(
  spec: ResolvedLabSpec,
  state: LabState,
  member: { name: string; ip: string | undefined; ifname: string },
): string {
  const { name, ip, ifname } = member;
  const node = state.namespaces.node!;
  const gateway = spec.nodeIps[0]!;
  const ns = newNamespace(spec.area);
  state.created.push(ns);
  state.namespaces[name] = ns;
  runCommand([
    "ip",
    "link",
    "add",
    "name",
    ifname,
    "netns",
    node,
    "type",
    "veth",
    "peer",
    "name",
    "eth0",
    "netns",
    ns,
  ]);
  nsExec(node, ["ip", "link", "set", ifname, "up"]);
  if (ip !== undefined) {
    nsExec(ns, ["ip", "addr", "add", `${ip}/32`, "dev", "eth0"]);
    nsExec(node, ["ip", "route", "add", `${ip}/32`, "dev", ifname]);
  }
  nsExec(ns, ["ip", "link", "set", "eth0", "up"]);
  nsExec(ns, ["ip", "route", "add", gateway, "dev", "eth0"]);
  nsExec(ns, ["ip", "route", "add", "default", "via", gateway, "dev", "eth0"]);
  state.ifaces.set(name, ifname);
  return ns;
}

/** Makes the node, pod, server and world namespaces of `spec`, recording each in `state`. */
export function buildTopology(spec: ResolvedLabSpec, state: LabState): void {
  const node = setUpNode(spec, state);
  spec.pods.forEach((p, i) => {
    attach(spec, state, { name: p.name, ip: p.ip, ifname: `nd-p${i}` });
  });
  spec.servers.forEach((s, i) => {
    attach(spec, state, { name: s.name, ip: s.ip, ifname: `nd-s${i}` });
  });
  if (spec.world) {
    const ns = attach(spec, state, { name: "world", ip: undefined, ifname: "nd-w" });
    nsExec(ns, ["ip", "route", "add", "local", spec.world.cidr, "dev", "lo"]);
    nsExec(node, ["ip", "route", "add", "default", "dev", "nd-w"]);
  }
}

/**
 * Stops the agents of `state` and deletes its namespaces, newest first.
 *
 * @throws {Error} Naming every namespace the kernel would not delete (after trying them all).
 */
export async function teardownLab(state: LabState): Promise<void> {
  await stopAgents(state.agents);
  const errors: string[] = [];
  for (const ns of state.created.reverse()) {
    try {
      deleteNamespace(ns);
    } catch (e) {
      errors.push(`${ns}: ${(e as Error).message}`);
    }
  }
  if (errors.length > 0) throw new Error(`netns lab: cannot delete namespaces: ${errors.join("; ")}`);
}
