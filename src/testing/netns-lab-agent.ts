/**
 * The processes of the netns lab: a Node.js agent (listener or client, see lab-agents.ts) run in a
 * namespace, spoken to one JSON line at a time over stdin/stdout.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { CLIENT_AGENT, SERVER_AGENT } from "./lab-agents.ts";
import type { ResolvedLabSpec } from "./netns-lab-spec.ts";

/** A running agent and the lines it prints. */
export interface LabAgent {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly lines: AsyncIterator<string>;
}

/** Starts `script` with `args` in namespace `ns`; its stderr is printed if it fails. */
export function startAgent(ns: string, script: string, args: readonly string[]): LabAgent {
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

/** The next line `agent` prints; throws when it exits or says nothing within `ms` (`what` names it). */
export async function nextLine(agent: LabAgent, ms: number, what: string): Promise<string> {
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

/** Kills `agents` and waits until every one has exited. */
export async function stopAgents(agents: readonly LabAgent[]): Promise<void> {
  for (const a of agents) {
    a.proc.stdin.end();
    a.proc.kill("SIGKILL");
  }
  await Promise.all(
    agents.map((a) => (a.proc.exitCode !== null ? undefined : new Promise((r) => a.proc.once("exit", r)))),
  );
}

/**
 * Starts the listeners of `spec` (servers, the world, the node's own ports) and waits until each
 * is ready, then a client in every pod and in the node; returns the clients by member name.
 * Every agent goes into `agents` as soon as it runs, so a failure part-way stops them all.
 */
export async function startLabAgents(
  spec: ResolvedLabSpec,
  lab: { namespaces: Readonly<Record<string, string>>; agents: LabAgent[] },
): Promise<Map<string, LabAgent>> {
  const { namespaces, agents } = lab;
  const listeners: Array<[string, string, readonly string[]]> = spec.servers.map((s) => {
    const udp = (s.udpPorts ?? []).map((p) => `${s.ip}:${p}`).join(",");
    return [s.name, namespaces[s.name]!, [s.name, (s.tcpPorts ?? []).join(","), udp]];
  });
  if (spec.world) listeners.push(["world", namespaces.world!, ["world", spec.world.tcpPorts.join(","), ""]]);
  if (spec.nodeTcpPorts.length > 0)
    listeners.push(["node", namespaces.node!, ["node", spec.nodeTcpPorts.join(","), ""]]);
  const started = listeners.map(([name, ns, args]) => {
    const agent = startAgent(ns, SERVER_AGENT, args);
    agents.push(agent);
    return [name, agent] as const;
  });
  for (const [name, agent] of started) {
    const line = await nextLine(agent, 10_000, `server ${name}`);
    if (line !== "ready") throw new Error(`netns lab: server ${name} said "${line}"`);
  }
  const clients = new Map<string, LabAgent>();
  for (const name of [...spec.pods.map((p) => p.name), "node"]) {
    const agent = startAgent(namespaces[name]!, CLIENT_AGENT, []);
    agents.push(agent);
    await nextLine(agent, 10_000, `client in ${name}`);
    clients.set(name, agent);
  }
  return clients;
}
