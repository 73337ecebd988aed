/**
 * Throw-away network namespaces that let tests ask the Linux kernel what it does with a packet
 * under a given ruleset ("the kernel is the judge").
 *
 * Topology (every address in 198.18.0.0/15; no link to the machine's own namespace):
 *
 * ```
 *   pod NS (eth0 198.18.1.x) --veth-- [nd-pN]  NODE NS  [nd-sN] --veth-- server NS (eth0 198.18.2.x)
 *                                     lo: node IPs (198.18.0.1)
 *                                     [nd-w] default route --veth-- world NS (answers any 198.19.0.0/16)
 * ```
 *
 * The node namespace forwards (ip_forward=1) and holds the ruleset under test. Servers, the world
 * namespace and the node itself run a listener on the configured TCP ports that answers every
 * connection with `name localIp:localPort peerIp:peerPort`: the probe therefore learns who answered,
 * the destination after DNAT and the source after SNAT/MASQUERADE.
 *
 * API:
 * ```ts
 * const lab = await createLab({ area: "trace", pods: [{ name: "pod", ip: "198.18.1.2" }],
 *   servers: [{ name: "ep1", ip: "198.18.2.1", tcpPorts: [8080] }], world: { tcpPorts: [80] } });
 * try {
 *   await lab.load(iptablesSaveText);            // real iptables-restore in the node NS (nft by default)
 *   const r = await lab.probe({ from: "pod", protocol: "tcp", dstIp: "198.19.0.10", dstPort: 80 });
 *   // r: { outcome: "answer", server: "ep1", destination: "198.18.2.1:8080", source: "198.18.1.2:40312" }
 *   //  | { outcome: "error", errno: "ECONNREFUSED" } | { outcome: "timeout" }
 *   const seen = await lab.sample(req, { attempts: 40 }); // Map<outcomeKey, count>
 * } finally {
 *   await lab.destroy();                          // always: deletes every namespace it made
 * }
 * ```
 * `from` is a pod name or `"node"` (a hostNetwork process: OUTPUT chains). Namespaces are named
 * `nd-<area>-<pid>-<n>`; a process exit hook deletes any the caller forgot.
 */
import { type LabAgent, startLabAgents } from "./netns-lab-agent.ts";
import { nsExec } from "./netns-lab-namespaces.ts";
import {
  type ProbeRequest,
  type ProbeResult,
  probeWith,
  type SampleOptions,
  sampleProbes,
} from "./netns-lab-probe.ts";
import { restoreIpsets, restoreRuleset, tuneConntrack } from "./netns-lab-ruleset.ts";
import { type LabSpec, resolveLabSpec } from "./netns-lab-spec.ts";
import { buildTopology, type LabState, teardownLab } from "./netns-lab-topology.ts";

export { outcomeKey, type ProbeRequest, type ProbeResult, type SampleOptions } from "./netns-lab-probe.ts";
export type { LabPod, LabServer, LabSpec } from "./netns-lab-spec.ts";

export interface Lab {
  /** Namespace names, for debugging (`ip netns exec NAME iptables-save`). */
  readonly namespaces: { readonly node: string; readonly [name: string]: string };
  /** Node-side interface name of a pod or server (what `-i`/`-o` match in the node namespace). */
  interfaceOf(name: string): string;
  /** Replaces the node's raw/mangle/nat/filter tables with `rulesetText` (iptables-save format). */
  load(rulesetText: string): Promise<void>;
  /** The node's current ruleset as iptables-save prints it (with `[packets:bytes]` when `counters`). */
  save(counters?: boolean): string;
  /**
   * Replaces the node's ipsets with those of `saveText` (`ipset save` format) through the real
   * `ipset restore`. Sets referenced by loaded rules cannot be destroyed: load rules after sets, and
   * to change sets load an empty ruleset first.
   */
  loadIpsets(saveText: string): Promise<void>;
  /** The node's ipsets as `ipset save` prints them. */
  saveIpsets(): string;
  probe(request: ProbeRequest): Promise<ProbeResult>;
  /** Repeats a probe (bounded) and counts outcomes by {@linkcode outcomeKey}. */
  sample(request: ProbeRequest, options: SampleOptions): Promise<Map<string, number>>;
  destroy(): Promise<void>;
}

/**
 * Builds the namespaces of `spec`, starts its listeners and returns the lab. Throws (after cleaning
 * up) when an address lies outside 198.18.0.0/15 or the kernel refuses a step.
 */
export async function createLab(spec: LabSpec): Promise<Lab> {
  const resolved = resolveLabSpec(spec);
  const state: LabState = { created: [], namespaces: {}, ifaces: new Map(), agents: [] };
  let destroyed = false;
  const destroy = async (): Promise<void> => {
    if (destroyed) return;
    destroyed = true;
    await teardownLab(state);
  };
  let clients: Map<string, LabAgent>;
  try {
    buildTopology(resolved, state);
    clients = await startLabAgents(resolved, state);
  } catch (error) {
    await destroy().catch(() => {});
    throw error;
  }

  const node = state.namespaces.node!;
  let nextId = 0;
  let conntrackTuned = false;
  const probe = async (request: ProbeRequest): Promise<ProbeResult> => {
    const agent = clients.get(request.from);
    if (agent === undefined)
      throw new RangeError(`Cannot probe from "${request.from}": no such pod in the lab`);
    return probeWith(agent, request, nextId++);
  };
  return {
    namespaces: state.namespaces as Lab["namespaces"],
    interfaceOf(name: string): string {
      const i = state.ifaces.get(name);
      if (i === undefined) throw new RangeError(`Cannot find lab member "${name}"`);
      return i;
    },
    async load(rulesetText: string): Promise<void> {
      restoreRuleset(node, rulesetText, { restore: resolved.restore });
      if (!conntrackTuned) conntrackTuned = tuneConntrack(node);
    },
    save(counters = false): string {
      return nsExec(node, counters ? [resolved.save, "-c"] : [resolved.save]);
    },
    async loadIpsets(saveText: string): Promise<void> {
      restoreIpsets(node, saveText);
    },
    saveIpsets(): string {
      return nsExec(node, ["ipset", "save"]);
    },
    probe,
    sample: (request, options) => sampleProbes(probe, request, options),
    destroy,
  };
}
