/**
 * A `--from/--to` question resolved up front from the API objects alone: the client pod, what the
 * host is (a Service, a pod, a node, an outside destination), the Service port, and the packet the
 * client's node must carry. The links of the walk read this data; nothing here decides a verdict.
 */
import type { ExpectedPorts } from "../kube-proxy/expected-ports.ts";
import type { ExpectedServicePort } from "../kube-proxy/expected-state.ts";
import type { ClusterState, Node, Pod, Service, ServicePort } from "../model/cluster.ts";
import { nodeInternalIp, objectKey } from "../model/cluster.ts";
import type { Diagnosis } from "../model/diagnosis.ts";
import type { Packet, Protocol } from "../model/trace.ts";
import { type ClusterRanges, clusterRanges } from "./cluster-ranges.ts";
import { type ParsedTo, parseTo } from "./parse-to.ts";
import { type Resolution, resolveHost } from "./resolve-host.ts";
import { clusterDomain, findPod, findServicePort } from "./resolve-target.ts";

export interface Question {
  readonly client: Pod;
  readonly clientKey: string;
  readonly to: string;
  readonly target: ParsedTo;
  readonly domain: { readonly domain: string; readonly from?: string };
  readonly ranges: ClusterRanges;
  readonly resolution: Resolution;
  /** True when the client looks the host up through the cluster DNS (a name, not a literal). */
  readonly usesClusterDns: boolean;
  /** The cluster DNS Service's UDP port (kube-system/kube-dns, or the Service labelled k8s-app=kube-dns). */
  readonly dnsPort?: ExpectedServicePort;
  readonly service?: Service;
  readonly servicePort?: ServicePort;
  readonly expected?: ExpectedServicePort;
  readonly packet?: Packet;
  /** Why there is no packet to trace, when there is none. */
  readonly noPacket?: string;
  /** `ip:port` the packet must reach; absent for an outside destination (the node only forwards it). */
  readonly targets?: readonly string[];
  readonly node?: Node;
  readonly nodeIp?: string;
  /** Service ports to reconcile on the client node. */
  readonly reconcileOnly: ReadonlySet<string>;
  readonly summaryQuestion: NonNullable<Diagnosis["question"]>;
}

function clusterDnsPort(cluster: ClusterState, ports: ExpectedPorts): ExpectedServicePort | undefined {
  const svc =
    cluster.services.find((s) => s.metadata.namespace === "kube-system" && s.metadata.name === "kube-dns") ??
    cluster.services.find(
      (s) => s.metadata.namespace === "kube-system" && s.metadata.labels?.["k8s-app"] === "kube-dns",
    );
  if (svc === undefined) return undefined;
  const key = objectKey(svc.metadata);
  return ports.of(svc).find((p) => p.service === key && p.protocol === "udp" && p.port === 53);
}

function protocolOf(p: ServicePort | undefined): Protocol {
  const proto = (p?.protocol ?? "TCP").toLowerCase();
  return proto === "udp" ? "udp" : proto === "sctp" ? "sctp" : "tcp";
}

/** The destination port on a pod: a number, or a named container port. */
function podPort(pod: Pod, port: number | string): number | undefined {
  return typeof port === "number"
    ? port
    : pod.containers.flatMap((c) => c.ports ?? []).find((p) => p.name === port)?.containerPort;
}

interface Destination {
  readonly ip?: string;
  readonly port?: number;
  readonly targets?: readonly string[];
  readonly noPacket?: string;
}

function destinationOf(
  r: Resolution,
  target: ParsedTo,
  svc: { port?: ServicePort; expected?: ExpectedServicePort },
): Destination {
  const numeric = typeof target.port === "number" ? target.port : undefined;
  switch (r.kind) {
    case "service": {
      if (svc.port === undefined)
        return { noPacket: `Service ${objectKey(r.service.metadata)} has no such port` };
      if (r.service.clusterIP === undefined || r.service.clusterIP === "None")
        return {
          noPacket: "a headless Service has no ClusterIP: the client connects to the pod IPs DNS returns",
        };
      const targets = (svc.expected?.clusterEndpoints ?? []).map((e) => `${e.ip}:${e.port}`);
      return { ip: r.service.clusterIP, port: svc.port.port, targets };
    }
    case "pod": {
      const port = podPort(r.pod, target.port);
      if (port === undefined)
        return { noPacket: `pod ${objectKey(r.pod.metadata)} has no port named ${target.port}` };
      return { ip: target.host, port, targets: [`${target.host}:${port}`] };
    }
    case "node":
      return numeric === undefined
        ? { noPacket: `a port name (${target.port}) means nothing on a node address` }
        : { ip: target.host, port: numeric, targets: [`${target.host}:${numeric}`] };
    case "outside-ip":
    case "unassigned":
    case "assumed-range":
      return numeric === undefined
        ? { noPacket: `a port name (${target.port}) needs a Service` }
        : { ip: target.host, port: numeric };
    case "external-name":
    case "outside-name":
      return {
        noPacket: `the address of "${target.host}" comes from outside the cluster's DNS, so it is not in the bundle`,
      };
    case "no-service":
      return { noPacket: `"${target.host}" does not resolve` };
    default: {
      const never: never = r;
      throw new TypeError(`Unknown resolution ${JSON.stringify(never)}`);
    }
  }
}

/** Resolves the question (DNS, Service, port, endpoints need only the API objects). */
export function resolveQuestion(
  cluster: ClusterState,
  ports: ExpectedPorts,
  q: { readonly from: string; readonly to: string; readonly namespace?: string },
): Question {
  const client = findPod(cluster, q.from, q.namespace);
  const clientKey = objectKey(client.metadata);
  const target = parseTo(q.to);
  const domain = clusterDomain(cluster);
  const ranges = clusterRanges(cluster);
  const resolution = resolveHost(cluster, client, { host: target.host, domain: domain.domain, ranges });
  const usesClusterDns =
    resolution.kind === "service"
      ? resolution.viaDns
      : !["pod", "node", "outside-ip", "unassigned", "assumed-range"].includes(resolution.kind);
  const dnsPort = clusterDnsPort(cluster, ports);
  const service =
    resolution.kind === "service" || resolution.kind === "external-name" ? resolution.service : undefined;
  const servicePort = service === undefined ? undefined : findServicePort(service, target.port);
  const svcKey = service === undefined ? undefined : objectKey(service.metadata);
  const expected =
    service === undefined || servicePort === undefined
      ? undefined
      : ports
          .of(service)
          .find(
            (p) =>
              p.service === svcKey &&
              p.port === servicePort.port &&
              p.protocol === servicePort.protocol.toLowerCase(),
          );
  const dest = destinationOf(resolution, target, {
    ...(servicePort === undefined ? {} : { port: servicePort }),
    ...(expected === undefined ? {} : { expected }),
  });
  const node = cluster.nodes.find((n) => n.metadata.name === client.nodeName);
  const nodeIp = node === undefined ? undefined : nodeInternalIp(node);
  const srcIp = client.hostNetwork ? nodeIp : client.podIP;
  const packet: Packet | undefined =
    dest.ip === undefined || dest.port === undefined || srcIp === undefined
      ? undefined
      : { protocol: protocolOf(servicePort), srcIp, dstIp: dest.ip, dstPort: dest.port };
  const noPacket =
    packet !== undefined
      ? undefined
      : (dest.noPacket ??
        `pod ${clientKey} has no ${client.hostNetwork ? "node address" : "IP"} in the bundle`);
  const destination = destinationKind(resolution);
  const reconcileOnly = new Set<string>([
    ...(expected === undefined ? [] : [expected.svcPortName]),
    ...(dnsPort === undefined || !usesClusterDns ? [] : [dnsPort.svcPortName]),
  ]);
  return {
    client,
    clientKey,
    to: q.to,
    target,
    domain,
    ranges,
    resolution,
    usesClusterDns,
    ...(dnsPort === undefined ? {} : { dnsPort }),
    ...(service === undefined ? {} : { service }),
    ...(servicePort === undefined ? {} : { servicePort }),
    ...(expected === undefined ? {} : { expected }),
    ...(packet === undefined ? {} : { packet }),
    ...(noPacket === undefined ? {} : { noPacket }),
    ...(dest.targets === undefined ? {} : { targets: dest.targets }),
    ...(node === undefined ? {} : { node }),
    ...(nodeIp === undefined ? {} : { nodeIp }),
    reconcileOnly,
    summaryQuestion: {
      from: clientKey,
      to: q.to,
      ...(client.nodeName === undefined ? {} : { clientNode: client.nodeName }),
      ...(destination === undefined ? {} : { destination }),
      ...(packet === undefined ? {} : { clusterIp: packet.dstIp, port: packet.dstPort }),
    },
  };
}

function destinationKind(r: Resolution): NonNullable<Diagnosis["question"]>["destination"] {
  switch (r.kind) {
    case "service":
    case "no-service":
      return "service";
    case "pod":
      return "pod";
    case "node":
      return "node";
    case "unassigned":
      return "unassigned";
    case "assumed-range":
      return undefined;
    default:
      return "outside";
  }
}
