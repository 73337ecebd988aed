import { stat } from "node:fs/promises";
import type { Command } from "commander";
import { readDump } from "../../collect/read-dump.ts";
import type { TraceNode } from "../../collect/read-trace-node.ts";
import type { Ruleset } from "../../model/ruleset.ts";
import { isDelivered, type TraceResult } from "../../model/trace.ts";
import { renderTraceText } from "../../report/render-trace-text.ts";
import { rulesetFamily, tracePacket } from "../../trace/trace-packet.ts";
import { EXIT_OK, EXIT_PROBLEMS, EXIT_UNDECIDED, UsageError } from "../exit-codes.ts";
import { formatOutput, parseOutputFormat, writeStdout } from "../output.ts";
import { runAction } from "../run-action.ts";
import { ipvsOf, ipvsOption } from "./trace-ipvs-cli.ts";
import { bridgedOf, ingressOf, type TraceCliOptions, traceRequestFromOptions } from "./trace-options.ts";

export { parseEndpoint, traceRequestFromOptions } from "./trace-options.ts";

/**
 * Dumps larger than this (about 28,000 rules, a cluster of a few thousand Services) are parsed
 * lazily. Checking every rule costs about 3 µs a rule: past this size it would cost more than
 * reading the dump and tracing the packet, and a trace's time would not grow with the dump's size.
 */
const LAZY_PARSE_BYTES = 4 * 2 ** 20;

/** Where the dump comes from: a file (or stdin), or a node of a bundle. */
async function sourceOf(opts: TraceCliOptions): Promise<{ path: string; file: string; node?: TraceNode }> {
  if (opts.bundle !== undefined) {
    if (opts.dump !== undefined) throw new UsageError("Cannot use --dump with --bundle: give one of them");
    const where = ingressOf(opts.from);
    // What only a bundle needs is loaded only for a bundle: `trace --dump` starts faster.
    const { readTraceNode } = await import("../../collect/read-trace-node.ts");
    const node = await readTraceNode(opts.bundle, {
      ...(opts.node === undefined ? {} : { node: opts.node }),
      ...("pod" in where ? { fromPod: where.pod } : {}),
    });
    return { path: node.path, file: node.file, node };
  }
  if (opts.node !== undefined) throw new UsageError("Cannot use --node without --bundle DIR");
  if (opts.dump === undefined)
    throw new UsageError("Cannot trace without rules: give --dump FILE or --bundle DIR");
  return { path: opts.dump, file: opts.dump };
}

/**
 * Reads the dump: big dumps are parsed lazily (only the rules on the packet's path are parsed; a
 * malformed one there makes its path undecided, with the parse error as the reason); smaller dumps
 * are checked whole, so any malformed rule is reported (exit 2). An ip6tables dump is refused.
 */
async function rulesOf(path: string, file: string): Promise<Ruleset> {
  const size =
    path === "-"
      ? 0
      : await stat(path).then(
          (s) => s.size,
          () => 0,
        );
  const ruleset = await readDump(path, { lazy: size > LAZY_PARSE_BYTES });
  const family = rulesetFamily(ruleset);
  if (family.family === "ipv6") {
    throw new UsageError(
      `Cannot trace ${file}: it is an ip6tables (IPv6) dump (line ${family.line ?? "?"}: ${family.why}); netdoctor traces IPv4 only for now, give the node's iptables-save output`,
    );
  }
  return ruleset;
}

/** 0: every path gets where it was sent; 1: some path is proven dropped, rejected or unreachable; 3: otherwise undecided. */
export function traceExitCode(result: TraceResult): number {
  const ds = result.traces.map((t) => t.disposition);
  if (ds.every(isDelivered)) return EXIT_OK;
  return ds.some((d) => d.kind !== "undecided" && !isDelivered(d)) ? EXIT_PROBLEMS : EXIT_UNDECIDED;
}

/** The node's ipsets: from --ipsets FILE, or from the bundle's node. */
async function ipsetsOf(opts: TraceCliOptions, node: TraceNode | undefined) {
  if (opts.ipsets === undefined && (opts.bundle === undefined || node === undefined)) return undefined;
  const { readIpsetFile, readNodeIpsets } = await import("../../collect/read-node-ipsets.ts");
  if (opts.ipsets !== undefined) {
    const ipsets = await readIpsetFile(opts.ipsets, opts.ipsets);
    if (ipsets === undefined) throw new UsageError(`Cannot read --ipsets ${opts.ipsets}: no such file`);
    return ipsets;
  }
  return readNodeIpsets(opts.bundle!, node!.node);
}

async function runTrace(opts: TraceCliOptions): Promise<number> {
  if (opts.to !== undefined) {
    const { runMultiHopTrace } = await import("./trace-multihop.ts");
    return runMultiHopTrace({ ...opts, to: opts.to }, traceExitCode);
  }
  if (opts.dst === undefined)
    throw new UsageError(
      "Cannot trace without a destination: give --dst IP:PORT (or --bundle DIR --from NS/POD --to TARGET)",
    );
  const format = parseOutputFormat(opts.output);
  const source = await sourceOf(opts);
  const request = traceRequestFromOptions({ ...opts, dst: opts.dst }, source.node?.pod);
  // An IPVS-mode node: its virtual servers (ipvsadm.txt, --ipvsadm) and the addresses kube-ipvs0 binds.
  const ipvs = await ipvsOf(opts, source.node);
  const localIps = [
    ...(source.node?.addresses ?? []),
    ...(ipvs?.addresses ?? []),
    ...request.localIps.map((address) => ({ address, source: "--local-ip" })),
  ];
  const bridged = bridgedOf(opts.bridged);
  const ruleset = await rulesOf(source.path, source.file);
  const ipsets = await ipsetsOf(opts, source.node);
  const traced = tracePacket(
    ruleset,
    {
      packet: request.packet,
      from: request.from,
      ...(localIps.length === 0 ? {} : { localIps: [...new Set(localIps.map((a) => a.address))] }),
      ...(opts.inInterface === undefined ? {} : { inInterface: opts.inInterface }),
      ...(opts.outInterface === undefined ? {} : { outInterface: opts.outInterface }),
      ...(source.node === undefined ? {} : { node: source.node.node }),
    },
    {
      file: source.file,
      ...(ipsets === undefined ? {} : { ipsets }),
      ...(bridged === undefined ? {} : { bridged }),
      ...ipvsOption(ipvs?.table, ruleset, source.file),
    },
  );
  if (source.node === undefined) {
    const output = { dump: source.file, localIps, ...traced };
    await writeStdout(formatOutput(format, output, (r) => renderTraceText(r, { file: source.file })));
    return traceExitCode(traced);
  }
  const [{ hostFields, hostText, wholeHostOf, withoutIpvsWalk }, { refineTrace }] = await Promise.all([
    import("./trace-host-cli.ts"),
    import("../../diagnose/trace-verdict.ts"),
  ]);
  // A bundle node with nft-ruleset.json is traced through every table of the host (issue 15); the
  // nft walk does not simulate IPVS, so an IPVS node keeps the iptables + IPVS trace.
  const whole = await wholeHostOf(opts, source, traced, {
    ruleset,
    file: source.file,
    extras: { ...(ipsets === undefined ? {} : { ipsets }), ...(bridged === undefined ? {} : { bridged }) },
  });
  const host = ipvs === undefined ? whole : withoutIpvsWalk(whole);
  // With a bundle, the cluster says more: a path to an address of the node's pod CIDR that no pod has
  // ends neighbor-unreachable.
  const result = refineTrace(host?.result ?? traced, {
    cluster: source.node.cluster,
    node: source.node.node,
  });
  const output = { dump: source.file, localIps, ...result, ...hostFields(host) };
  await writeStdout(
    formatOutput(
      format,
      output,
      (r) => renderTraceText(r, { file: source.file }) + hostText(host, ipvs !== undefined),
    ),
  );
  return traceExitCode(result);
}

export function registerTrace(program: Command): void {
  program
    .command("trace")
    .description(
      "the packet's path through a node's iptables rules, hop by hop with dump lines, as the kernel would take it",
    )
    .option("--dump <file>", "iptables-save output of the node (- for stdin)")
    .option(
      "--bundle <dir>",
      "a netdoctor bundle: the node's dump and addresses come from it (with --node); with its nft-ruleset.json every table of the host is traced",
    )
    .option("--node <name>", "the bundle's node to trace on (default: the node of --from NS/POD)")
    .option(
      "--src <ip[:port]>",
      "source address (and port) of the packet (default with --from NS/POD: the pod's)",
    )
    .option("--dst <ip:port>", "destination address and port (a ClusterIP, NodePort, pod IP, ...)")
    .option(
      "--to <target>",
      "with --bundle and --from NS/POD: NS/POD[:PORT], SERVICE:PORT or IP:PORT, traced across nodes (routes, overlay, the endpoint node)",
    )
    .option("-p, --proto <protocol>", "tcp, udp, sctp or icmp", "tcp")
    .option(
      "--from <where>",
      "pod: arrives from a pod interface; host: sent by a hostNetwork process; NS/POD (with --bundle): that pod",
      "pod",
    )
    .option(
      "--local-ip <ip>",
      "an address of the node itself (repeat); decides local delivery and addrtype LOCAL (NodePorts)",
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option("--in-interface <name>", "interface the packet arrives on (for -i matches), e.g. cni0")
    .option("--out-interface <name>", "interface the packet leaves by (for -o matches), e.g. flannel.1")
    .option(
      "--ipsets <file>",
      "`ipset save` output of the node, to decide -m set rules (with --bundle: nodes/NODE/ipset-save.txt)",
    )
    .option(
      "--ipvsadm <file>",
      "`ipvsadm -Sn` output of an IPVS-mode node: Service packets are scheduled to its real servers (with --bundle: nodes/NODE/ipvsadm.txt)",
    )
    .option(
      "--bridged <yes|no>",
      "whether the packet crossed a Linux bridge (decides -m physdev, e.g. kube-router's pod-to-pod rules)",
    )
    .option("-o, --output <format>", "text, json or yaml", "text")
    .addHelpText(
      "after",
      `
Examples:
  netdoctor trace --dump node1.txt --src 10.42.0.15 --dst 10.43.0.10:53 --proto udp --local-ip 192.168.1.10
  netdoctor trace --bundle b --node node1 --src 203.0.113.7 --dst 192.168.1.10:30080
  netdoctor trace --bundle b --from eopx/eopx-gateway-7d9c6b8f5-x4kq2 --dst 10.43.0.1:443
  netdoctor trace --bundle b --from default/client --to kube-system/kube-dns:53   (across nodes)
  ssh node1 iptables-save | netdoctor trace --dump - --from host --src 192.168.1.10 --dst 10.43.0.1:443 -o json

Each path is one way the kernel may take the packet (kube-proxy balances endpoints at random).
Without the node's addresses (--local-ip, or --bundle), whether a packet is for the node itself
cannot be decided: such a path is undecided, never guessed.
Exit codes: 0 every path delivers the packet, 1 some path is dropped, rejected or unreachable,
2 usage or input error, 3 some path cannot be decided (the output says what is missing)`,
    )
    .action(runAction(runTrace));
}
