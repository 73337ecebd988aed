/**
 * `netdoctor trace --bundle DIR --from NS/POD --to NS/POD[:PORT] | SERVICE:PORT | IP:PORT`: the
 * connection across nodes (client node, overlay, endpoint node) as the typed multi-hop trace, from
 * the bundle's host files and the iptables rules of the nodes on the path.
 */
import { readBundle } from "../../collect/read-bundle.ts";
import { readHostEvidence, withRulesOf } from "../../collect/read-host-evidence.ts";
import { resolveQuestion } from "../../diagnose/question.ts";
import { ExpectedPorts } from "../../kube-proxy/expected-ports.ts";
import { type ClusterState, objectKey } from "../../model/cluster.ts";
import type { Packet, Protocol } from "../../model/trace.ts";
import { podIpLookup } from "../../net/pod-ip-lookup.ts";
import { renderTraceText } from "../../report/render-trace-text.ts";
import { answerConnection } from "../../trace/connection-answer.ts";
import { multiHopTrace } from "../../trace/multi-hop-trace.ts";
import { UsageError } from "../exit-codes.ts";
import { formatOutput, parseOutputFormat, writeStdout } from "../output.ts";
import { parseEndpoint, type TraceCliOptions } from "./trace-options.ts";

/** `NS/POD[:PORT]`: the pod's address and the port (given, or its only container port). */
function podTarget(
  cluster: ClusterState,
  to: string,
  protocol: Protocol,
): { ip: string; port: number } | undefined {
  const m = /^([^/\s:]+)\/([^/\s:]+)(?::(\d+))?$/.exec(to);
  if (m === null) return undefined;
  const key = `${m[1]}/${m[2]}`;
  const pod = cluster.pods.find((p) => objectKey(p.metadata) === key);
  if (pod === undefined) throw new UsageError(`Cannot use --to "${to}": no pod ${key} in cluster/pods.json`);
  const ip = pod.podIP ?? pod.podIPs?.[0];
  if (ip === undefined || ip === "")
    throw new UsageError(`Cannot use --to "${to}": pod ${key} has no pod IP`);
  if (m[3] !== undefined) return { ip, port: Number(m[3]) };
  const ports = pod.containers
    .flatMap((c) => c.ports ?? [])
    .filter((p) => (p.protocol ?? "TCP").toLowerCase() === protocol);
  if (ports.length !== 1)
    throw new UsageError(
      `Cannot use --to "${to}": pod ${key} has ${ports.length} ${protocol} ports; give NS/POD:PORT`,
    );
  return { ip, port: ports[0]!.containerPort };
}

/**
 * The packet the client pod sends, and the addresses it may end up at (a Service's endpoints):
 * for a Service the protocol is the Service port's, for a pod or an address it is `--proto`.
 */
function packetOf(
  cluster: ClusterState,
  opts: TraceCliOptions & { to: string; from: string },
): { packet: Packet; targets: string[] } {
  const protocol = opts.proto.toLowerCase() as Protocol;
  if (protocol !== "tcp" && protocol !== "udp")
    throw new UsageError(`Cannot use protocol "${opts.proto}" with --to: expected tcp or udp`);
  const src = srcPort(opts.src === undefined ? undefined : parseEndpoint(opts.src, "--src", false));
  const pod = podTarget(cluster, opts.to, protocol);
  const client = cluster.pods.find((p) => objectKey(p.metadata) === opts.from);
  if (pod !== undefined) {
    const srcIp = client?.podIP ?? client?.podIPs?.[0] ?? "";
    return { packet: { protocol, srcIp, dstIp: pod.ip, dstPort: pod.port, ...src }, targets: [pod.ip] };
  }
  const q = resolveQuestion(cluster, new ExpectedPorts(cluster), { from: opts.from, to: opts.to });
  if (q.packet === undefined)
    throw new UsageError(`Cannot trace to "${opts.to}": ${q.noPacket ?? "no packet to trace"}`);
  const isService = q.service !== undefined;
  return {
    packet: { ...q.packet, ...(isService ? {} : { protocol }), ...src },
    targets: (q.targets ?? [q.packet.dstIp]).map((t) => t.replace(/:\d+$/, "")),
  };
}

function srcPort(src: { port?: number } | undefined): { srcPort?: number } {
  return src?.port === undefined ? {} : { srcPort: src.port };
}

/** Runs the multi-hop trace; returns the exit code as `traceExitCode` decides it. */
export async function runMultiHopTrace(
  opts: TraceCliOptions & { readonly to: string },
  exitCode: (r: ReturnType<typeof multiHopTrace>) => number,
): Promise<number> {
  const format = parseOutputFormat(opts.output);
  if (opts.bundle === undefined) throw new UsageError("Cannot use --to without --bundle DIR");
  if (opts.dump !== undefined || opts.node !== undefined || opts.dst !== undefined)
    throw new UsageError("Cannot use --to with --dump, --node or --dst: the bundle and --from decide them");
  if (!/^[^/\s]+\/[^/\s]+$/.test(opts.from))
    throw new UsageError(`Cannot use --to with --from "${opts.from}": give the client pod as NAMESPACE/POD`);
  const bundle = await readBundle(opts.bundle);
  const client = bundle.cluster.pods.find((p) => objectKey(p.metadata) === opts.from);
  if (client === undefined)
    throw new UsageError(`Cannot trace from pod ${opts.from}: not in cluster/pods.json`);
  if (client.nodeName === undefined)
    throw new UsageError(`Cannot trace from pod ${opts.from}: it is not scheduled on a node`);
  const { packet, targets } = packetOf(bundle.cluster, { ...opts, to: opts.to, from: opts.from });
  // The rules of the client's node and of the nodes the destination pods are on; other nodes'
  // dumps are not parsed (a path that reaches one stops undecided, asking for it).
  const lookup = podIpLookup(bundle.cluster);
  const rulesOf = [
    client.nodeName,
    ...targets.flatMap((ip) => {
      const node = lookup.lookup(ip)?.node;
      return node === undefined ? [] : [node];
    }),
  ];
  let input = await readHostEvidence(opts.bundle, {
    cluster: bundle.cluster,
    nodeDirs: bundle.nodeDirs,
    rulesOf,
    conntrackOf: [client.nodeName],
  });
  const question = {
    node: client.nodeName,
    ingress: client.hostNetwork === true ? ("host" as const) : ("pod" as const),
    packet,
  };
  let result = multiHopTrace(answerConnection(input, question), input);
  // A path may reach a node no pod lookup named (a stale conntrack entry's dead pod): read that
  // node's rules too and answer again (each round adds a node, so this ends).
  for (;;) {
    const onPath = result.traces.flatMap((t) =>
      t.hops.flatMap((h) => (h.node === undefined ? [] : [h.node])),
    );
    const more = await withRulesOf(opts.bundle, input, onPath);
    if (more === undefined) break;
    input = more;
    result = multiHopTrace(answerConnection(input, question), input);
  }
  const output = { bundle: opts.bundle, ...result };
  await writeStdout(formatOutput(format, output, (r) => renderTraceText(r)));
  return exitCode(result);
}
