import { stat } from "node:fs/promises";
import type { Command } from "commander";
import { readDump } from "../../collect/read-dump.ts";
import type { Ingress, Packet, Protocol, TraceResult } from "../../model/trace.ts";
import { parseIpv4 } from "../../net/ipv4.ts";
import { renderTraceText } from "../../report/render-trace-text.ts";
import { tracePacket } from "../../trace/trace-packet.ts";
import { EXIT_OK, EXIT_PROBLEMS, UsageError } from "../exit-codes.ts";
import { formatOutput, parseOutputFormat, writeStdout } from "../output.ts";
import { runAction } from "../run-action.ts";

interface TraceOptions {
  dump: string;
  src: string;
  dst: string;
  proto: string;
  from: string;
  localIp: string[];
  inInterface?: string;
  outInterface?: string;
  output: string;
}

const PROTOCOLS: readonly Protocol[] = ["tcp", "udp", "sctp", "icmp"];

/** Dumps larger than this (about 300,000 rules) are parsed lazily. */
const LAZY_PARSE_BYTES = 40 * 2 ** 20;

/** Parses `IP` or `IP:PORT`; `what` names the option in messages. */
export function parseEndpoint(
  text: string,
  what: string,
  portRequired: boolean,
): { ip: string; port?: number } {
  const m = /^([^:]+)(?::(.*))?$/.exec(text);
  const ip = m?.[1] ?? "";
  if (parseIpv4(ip) === undefined)
    throw new UsageError(`Cannot use ${what} "${text}": "${ip}" is not an IPv4 address`);
  const portText = m?.[2];
  if (portText === undefined) {
    if (portRequired) throw new UsageError(`Cannot use ${what} "${text}": expected IP:PORT`);
    return { ip };
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    throw new UsageError(`Cannot use ${what} "${text}": port "${portText}" is not between 1 and 65535`);
  }
  return { ip, port };
}

/** Turns the command line into a packet and request, with one clear error per mistake. */
export function traceRequestFromOptions(opts: TraceOptions): {
  packet: Packet;
  from: Ingress;
  localIps: string[];
} {
  const protocol = opts.proto.toLowerCase() as Protocol;
  if (!PROTOCOLS.includes(protocol)) {
    throw new UsageError(`Cannot use protocol "${opts.proto}": expected one of ${PROTOCOLS.join(", ")}`);
  }
  if (opts.from !== "pod" && opts.from !== "host") {
    throw new UsageError(`Cannot use --from "${opts.from}": expected pod or host`);
  }
  const src = parseEndpoint(opts.src, "--src", false);
  const dst = parseEndpoint(opts.dst, "--dst", protocol !== "icmp");
  for (const ip of opts.localIp) {
    if (parseIpv4(ip) === undefined)
      throw new UsageError(`Cannot use --local-ip "${ip}": not an IPv4 address`);
  }
  const packet: Packet = {
    protocol,
    srcIp: src.ip,
    dstIp: dst.ip,
    ...(src.port === undefined || protocol === "icmp" ? {} : { srcPort: src.port }),
    ...(dst.port === undefined || protocol === "icmp" ? {} : { dstPort: dst.port }),
  };
  return { packet, from: opts.from, localIps: opts.localIp };
}

export function registerTrace(program: Command): void {
  program
    .command("trace")
    .description(
      "the packet's path through a node's iptables rules, hop by hop with dump lines, as the kernel would take it",
    )
    .requiredOption("--dump <file>", "iptables-save output of the node (- for stdin)")
    .requiredOption("--src <ip[:port]>", "source address (and port) of the packet")
    .requiredOption("--dst <ip:port>", "destination address and port (a ClusterIP, NodePort, pod IP, ...)")
    .option("-p, --proto <protocol>", "tcp, udp, sctp or icmp", "tcp")
    .option(
      "--from <where>",
      "pod: arrives from a pod interface; host: sent by a hostNetwork process on the node",
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
    .option("-o, --output <format>", "text, json or yaml", "text")
    .addHelpText(
      "after",
      `
Examples:
  netdoctor trace --dump node1.txt --src 10.42.0.15 --dst 10.43.0.10:53 --proto udp
  netdoctor trace --dump node1.txt --src 203.0.113.7 --dst 192.168.1.10:30080 --local-ip 192.168.1.10
  ssh node1 iptables-save | netdoctor trace --dump - --from host --src 192.168.1.10 --dst 10.43.0.1:443 -o json

Each path is one way the kernel may take the packet (kube-proxy balances endpoints at random).
Exit codes: 0 every path delivers the packet, 1 some path drops, rejects or cannot be decided,
2 usage or input error`,
    )
    .action(
      runAction(async (opts: TraceOptions) => {
        const format = parseOutputFormat(opts.output);
        const request = traceRequestFromOptions(opts);
        // Big dumps are parsed lazily: only the rules on the packet's path are parsed (a malformed one
        // there makes its path unknown, with the parse error as the reason); smaller dumps are checked
        // whole, so any malformed rule is reported (exit 2).
        const size =
          opts.dump === "-"
            ? 0
            : await stat(opts.dump).then(
                (s) => s.size,
                () => 0,
              );
        const ruleset = await readDump(opts.dump, { lazy: size > LAZY_PARSE_BYTES });
        const result: TraceResult = tracePacket(ruleset, {
          packet: request.packet,
          from: request.from,
          ...(request.localIps.length === 0 ? {} : { localIps: request.localIps }),
          ...(opts.inInterface === undefined ? {} : { inInterface: opts.inInterface }),
          ...(opts.outInterface === undefined ? {} : { outInterface: opts.outInterface }),
        });
        const output = { dump: opts.dump, localIps: request.localIps, ...result };
        await writeStdout(formatOutput(format, output, (r) => renderTraceText(r, { file: opts.dump })));
        return result.paths.every((p) => p.disposition === "forward" || p.disposition === "local")
          ? EXIT_OK
          : EXIT_PROBLEMS;
      }),
    );
}
