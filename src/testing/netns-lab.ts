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
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { CLIENT_AGENT, SERVER_AGENT } from "./lab-agents.ts";

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

export interface ProbeRequest {
  /** A pod name, or "node" for a connection made by the node itself. */
  readonly from: string;
  readonly protocol: "tcp" | "udp";
  readonly dstIp: string;
  readonly dstPort: number;
  readonly srcPort?: number;
  /** Hard limit of one attempt (default 1000 ms); a DROP shows as a timeout. */
  readonly timeoutMs?: number;
}

export interface ProbeResult {
  readonly outcome: "answer" | "error" | "timeout";
  /** For `error`: the errno name the client saw (ECONNREFUSED, EHOSTUNREACH, ...). */
  readonly errno?: string;
  /** For `answer`: the name of the server that answered ("node" for the node itself, "world"). */
  readonly server?: string;
  /** For `answer`: the address the server accepted on, i.e. the destination after rewrites. */
  readonly destination?: string;
  /** For `answer`: the source address the server saw. */
  readonly source?: string;
  readonly ms: number;
}

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

export interface SampleOptions {
  readonly attempts: number;
  /** Stop early once this returns true (checked after each attempt). */
  readonly stopWhen?: (seen: ReadonlyMap<string, number>) => boolean;
}

/** A stable name for an outcome: `answer SERVER DEST`, `error ERRNO` or `timeout`. */
export function outcomeKey(result: ProbeResult): string {
  switch (result.outcome) {
    case "answer":
      return `answer ${result.server} ${result.destination}`;
    case "error":
      return `error ${result.errno}`;
    case "timeout":
      return "timeout";
    default: {
      const never: never = result.outcome;
      throw new TypeError(`Unknown outcome ${String(never)}`);
    }
  }
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

let nsCounter = 0;
const liveNamespaces = new Set<string>();
let exitHook = false;

function run(args: readonly string[], input?: string): string {
  return execFileSync(args[0]!, args.slice(1), {
    input,
    stdio: "pipe",
    timeout: 20_000,
    encoding: "utf8",
  });
}

function nsExec(ns: string, args: readonly string[], input?: string): string {
  return run(["ip", "netns", "exec", ns, ...args], input);
}

function newNamespace(area: string): string {
  const name = `nd-${area}-${process.pid}-${nsCounter++}`;
  run(["ip", "netns", "add", name]);
  liveNamespaces.add(name);
  if (!exitHook) {
    exitHook = true;
    process.on("exit", () => {
      for (const ns of liveNamespaces) {
        try {
          execFileSync("ip", ["netns", "del", ns], { stdio: "ignore", timeout: 5000 });
        } catch {
          // best effort on exit
        }
      }
    });
  }
  nsExec(name, ["ip", "link", "set", "lo", "up"]);
  return name;
}

function deleteNamespace(ns: string): void {
  try {
    run(["ip", "netns", "del", ns]);
  } finally {
    liveNamespaces.delete(ns);
  }
}

interface Agent {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly lines: AsyncIterator<string>;
}

function startAgent(ns: string, script: string, args: readonly string[]): Agent {
  const proc = spawn("ip", ["netns", "exec", ns, process.execPath, "-e", script, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  proc.stderr.on("data", (d) => (stderr += String(d)));
  proc.on("exit", (code) => {
    if (code !== 0 && code !== null && stderr) process.stderr.write(`netns-lab agent in ${ns}: ${stderr}`);
  });
  const rl = createInterface({ input: proc.stdout });
  return { proc, lines: rl[Symbol.asyncIterator]() };
}

async function nextLine(agent: Agent, ms: number, what: string): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`netns lab: ${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    const r = await Promise.race([agent.lines.next(), timeout]);
    if (r.done) throw new Error(`netns lab: ${what} exited`);
    return r.value;
  } finally {
    clearTimeout(timer);
  }
}

const RESET_TABLES: Readonly<Record<string, string>> = {
  raw: ":PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n",
  mangle:
    ":PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n",
  nat: ":PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n",
  filter: ":INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n",
};

/**
 * Builds the namespaces of `spec`, starts its listeners and returns the lab. Throws (after cleaning
 * up) when an address lies outside 198.18.0.0/15 or the kernel refuses a step.
 */
export async function createLab(spec: LabSpec): Promise<Lab> {
  const area = spec.area ?? "lab";
  const nodeIps = spec.nodeIps ?? ["198.18.0.1"];
  const pods = spec.pods ?? [{ name: "pod", ip: "198.18.1.2" }];
  const servers = spec.servers ?? [];
  const world = spec.world === false ? undefined : (spec.world ?? { tcpPorts: [80] });
  const worldCidr = world?.cidr ?? "198.19.0.0/16";
  const addrs = [
    ...nodeIps,
    ...pods.map((p) => p.ip),
    ...servers.map((s) => s.ip),
    ...(world ? [worldCidr] : []),
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
  const gateway = nodeIps[0]!;
  const created: string[] = [];
  const agents: Agent[] = [];
  const clients = new Map<string, Agent>();
  const ifaces = new Map<string, string>();
  const namespaces: Record<string, string> = {};
  const restore = spec.backend === "legacy" ? "iptables-legacy-restore" : "iptables-nft-restore";
  const saveCmd = spec.backend === "legacy" ? "iptables-legacy-save" : "iptables-nft-save";
  let destroyed = false;

  const destroy = async (): Promise<void> => {
    if (destroyed) return;
    destroyed = true;
    for (const a of agents) {
      a.proc.stdin.end();
      a.proc.kill("SIGKILL");
    }
    await Promise.all(
      agents.map((a) => (a.proc.exitCode !== null ? undefined : new Promise((r) => a.proc.once("exit", r)))),
    );
    const errors: string[] = [];
    for (const ns of created.reverse()) {
      try {
        deleteNamespace(ns);
      } catch (e) {
        errors.push(`${ns}: ${(e as Error).message}`);
      }
    }
    if (errors.length > 0) throw new Error(`netns lab: cannot delete namespaces: ${errors.join("; ")}`);
  };

  try {
    const node = newNamespace(area);
    created.push(node);
    namespaces.node = node;
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
    for (const ip of nodeIps) nsExec(node, ["ip", "addr", "add", `${ip}/32`, "dev", "lo"]);

    const attach = (member: string, ip: string | undefined, ifname: string): string => {
      const ns = newNamespace(area);
      created.push(ns);
      namespaces[member] = ns;
      run([
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
      ifaces.set(member, ifname);
      return ns;
    };

    pods.forEach((p, i) => {
      attach(p.name, p.ip, `nd-p${i}`);
    });
    const serverStarts: Array<[string, Agent]> = [];
    servers.forEach((s, i) => {
      const ns = attach(s.name, s.ip, `nd-s${i}`);
      const udp = (s.udpPorts ?? []).map((p) => `${s.ip}:${p}`).join(",");
      serverStarts.push([s.name, startAgent(ns, SERVER_AGENT, [s.name, (s.tcpPorts ?? []).join(","), udp])]);
    });
    if (world) {
      const ns = attach("world", undefined, "nd-w");
      nsExec(ns, ["ip", "route", "add", "local", worldCidr, "dev", "lo"]);
      nsExec(node, ["ip", "route", "add", "default", "dev", "nd-w"]);
      serverStarts.push(["world", startAgent(ns, SERVER_AGENT, ["world", world.tcpPorts.join(","), ""])]);
    }
    if ((spec.nodeTcpPorts ?? []).length > 0) {
      serverStarts.push(["node", startAgent(node, SERVER_AGENT, ["node", spec.nodeTcpPorts!.join(","), ""])]);
    }
    for (const [name, agent] of serverStarts) {
      agents.push(agent);
      const line = await nextLine(agent, 10_000, `server ${name}`);
      if (line !== "ready") throw new Error(`netns lab: server ${name} said "${line}"`);
    }
    for (const [name, ns] of [
      ...pods.map((p) => [p.name, namespaces[p.name]!] as const),
      ["node", node] as const,
    ]) {
      const agent = startAgent(ns, CLIENT_AGENT, []);
      agents.push(agent);
      await nextLine(agent, 10_000, `client in ${name}`);
      clients.set(name, agent);
    }
  } catch (error) {
    await destroy().catch(() => {});
    throw error;
  }

  let nextId = 0;
  let conntrackTuned = false;
  const probe = async (request: ProbeRequest): Promise<ProbeResult> => {
    const agent = clients.get(request.from);
    if (agent === undefined)
      throw new RangeError(`Cannot probe from "${request.from}": no such pod in the lab`);
    const timeoutMs = request.timeoutMs ?? 1000;
    const id = nextId++;
    agent.proc.stdin.write(`${JSON.stringify({ ...request, id, timeoutMs })}\n`);
    const line = await nextLine(agent, timeoutMs + 5000, `client in ${request.from}`);
    const r = JSON.parse(line) as {
      id: number;
      outcome: ProbeResult["outcome"];
      errno?: string;
      reply?: string;
      ms: number;
    };
    if (r.id !== id) throw new Error(`netns lab: answer ${r.id} for request ${id}`);
    if (r.outcome !== "answer") {
      return r.errno === undefined
        ? { outcome: r.outcome, ms: r.ms }
        : { outcome: r.outcome, errno: r.errno, ms: r.ms };
    }
    const [server, destination, source] = (r.reply ?? "").split(" ");
    return {
      outcome: "answer",
      server: server ?? "",
      destination: destination ?? "",
      source: source ?? "",
      ms: r.ms,
    };
  };

  return {
    namespaces: namespaces as Lab["namespaces"],
    interfaceOf(name: string): string {
      const i = ifaces.get(name);
      if (i === undefined) throw new RangeError(`Cannot find lab member "${name}"`);
      return i;
    },
    async load(rulesetText: string): Promise<void> {
      let text = rulesetText.endsWith("\n") ? rulesetText : `${rulesetText}\n`;
      for (const [table, chains] of Object.entries(RESET_TABLES)) {
        if (!new RegExp(`^\\*${table}\\s*$`, "m").test(text)) text += `*${table}\n${chains}COMMIT\n`;
      }
      try {
        nsExec(namespaces.node!, [restore, "-w", "5"], text);
      } catch (e) {
        const err = e as { stderr?: string; message: string };
        throw new Error(`netns lab: ${restore} refused the ruleset: ${(err.stderr || err.message).trim()}`);
      }
      if (!conntrackTuned) {
        // Entries of unanswered connections (SYN_SENT, 120 s by default) keep their NAT binding and
        // would steer a later probe with the same ports: make them expire quickly. The sysctls exist
        // once conntrack is active in the namespace, i.e. after a first ruleset; best effort.
        try {
          nsExec(namespaces.node!, [
            "sh",
            "-c",
            "cd /proc/sys/net/netfilter && echo 10 > nf_conntrack_tcp_timeout_syn_sent && echo 5 > nf_conntrack_tcp_timeout_close && echo 5 > nf_conntrack_tcp_timeout_time_wait",
          ]);
          conntrackTuned = true;
        } catch {
          // conntrack not loaded yet: try again on the next load
        }
      }
    },
    save(counters = false): string {
      return nsExec(namespaces.node!, counters ? [saveCmd, "-c"] : [saveCmd]);
    },
    async loadIpsets(saveText: string): Promise<void> {
      try {
        // A list:set holds references to its members: flush (empties every set) before destroying.
        nsExec(namespaces.node!, ["ipset", "flush"]);
        nsExec(namespaces.node!, ["ipset", "destroy"]);
        nsExec(namespaces.node!, ["ipset", "restore"], saveText.endsWith("\n") ? saveText : `${saveText}\n`);
      } catch (e) {
        const err = e as { stderr?: string; message: string };
        throw new Error(`netns lab: ipset restore refused the sets: ${(err.stderr || err.message).trim()}`);
      }
    },
    saveIpsets(): string {
      return nsExec(namespaces.node!, ["ipset", "save"]);
    },
    probe,
    async sample(request: ProbeRequest, options: SampleOptions): Promise<Map<string, number>> {
      const seen = new Map<string, number>();
      for (let i = 0; i < options.attempts; i++) {
        const key = outcomeKey(await probe(request));
        seen.set(key, (seen.get(key) ?? 0) + 1);
        if (options.stopWhen?.(seen)) break;
      }
      return seen;
    },
    destroy,
  };
}
