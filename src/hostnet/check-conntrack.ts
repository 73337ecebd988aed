/**
 * Conntrack entries that keep a flow going to a pod that is gone. A UDP client that keeps its
 * source port (DNS resolvers, syslog, statsd) refreshes the entry with every packet, so it never
 * expires and never sees the new endpoint: kube-proxy must delete such entries, and when it does
 * not, DNS breaks after a CoreDNS pod is replaced (kubernetes/kubernetes#125467, #129617).
 * The reply direction of an entry says where the flow really goes: its source is the endpoint the
 * original destination (a ClusterIP) was DNATed to.
 */
import { makeFinding } from "../findings/make-finding.ts";
import type { ClusterState, Service } from "../model/cluster.ts";
import { objectKey } from "../model/cluster.ts";
import type { Finding } from "../model/finding.ts";
import { inCidr, parseIpv4 } from "../net/ipv4.ts";
import type { ConntrackEntry } from "./conntrack.ts";
import type { FlannelNode } from "./flannel-node.ts";
import type { HostEvidence } from "./host-evidence.ts";
import { fileEvidence } from "./hostnet-finding.ts";
import type { PodPlacement } from "./pod-placement.ts";

/** Lines of evidence per finding: a node can hold thousands of entries for one dead pod. */
const MAX_LINES = 3;

function serviceFor(services: readonly Service[], e: ConntrackEntry): Service | undefined {
  const ip = e.original.dst;
  return services.find(
    (s) =>
      (s.clusterIP === ip || (s.clusterIPs ?? []).includes(ip)) &&
      (e.original.dport === undefined ||
        s.ports.some((p) => p.port === e.original.dport && p.protocol.toLowerCase() === e.protocol)),
  );
}

/**
 * Finds, on every node with a conntrack listing, entries whose reply source lies in a node's pod
 * CIDR but belongs to no live pod and to no node, grouped by (node, protocol, dead IP, Service).
 */
export function checkConntrack(
  hosts: ReadonlyMap<string, HostEvidence>,
  context: {
    readonly nodes: readonly FlannelNode[];
    readonly pods: readonly PodPlacement[];
    readonly cluster: Pick<ClusterState, "services">;
    readonly servicesFile: string;
  },
): Finding[] {
  const out: Finding[] = [];
  const cidrs = context.nodes.flatMap((n) => (n.podCidrNet === undefined ? [] : [n.podCidrNet]));
  if (cidrs.length === 0) return out;
  const live = new Set(context.pods.map((p) => p.ip));
  const nodeIps = new Set<string>();
  for (const h of hosts.values())
    for (const i of h.addr?.interfaces ?? []) for (const a of i.addresses) nodeIps.add(a.local);
  for (const [node, h] of hosts) {
    const table = h.conntrack;
    if (table === undefined) continue;
    if (table.truncated !== undefined) {
      const t = table.truncated;
      out.push(
        makeFinding(
          "conntrack-truncated",
          { node, limit: t.limit, omitted: t.omitted },
          { node, evidence: [t.evidence] },
        ),
      );
    }
    const groups = new Map<string, { entries: ConntrackEntry[]; service: Service | undefined }>();
    for (const e of table.entries) {
      const ip = e.reply.src;
      const n = parseIpv4(ip);
      if (n === undefined || live.has(ip) || nodeIps.has(ip) || !cidrs.some((c) => inCidr(n, c))) continue;
      const service = serviceFor(context.cluster.services, e);
      const key = `${e.protocol} ${ip} ${service === undefined ? "" : objectKey(service.metadata)}`;
      const g = groups.get(key) ?? { entries: [], service };
      g.entries.push(e);
      groups.set(key, g);
    }
    for (const { entries, service } of groups.values()) {
      const e = entries[0]!;
      const svc = service === undefined ? undefined : objectKey(service.metadata);
      const target = `${e.original.dst}${e.original.dport === undefined ? "" : `:${e.original.dport}`}`;
      const serviceEvidence =
        service === undefined
          ? []
          : [
              service.source === undefined
                ? fileEvidence(context.servicesFile, `Service ${svc} clusterIP ${service.clusterIP ?? "?"}`)
                : {
                    file: service.source.file,
                    ...(service.source.line === undefined ? {} : { line: service.source.line }),
                    text: `Service ${svc} clusterIP ${service.clusterIP ?? "?"}`,
                  },
            ];
      const values = {
        node,
        protocol: e.protocol,
        count: entries.length,
        target,
        deadIp: e.reply.src,
        ...(svc === undefined ? {} : { service: svc }),
      };
      const evidence = [...entries.slice(0, MAX_LINES).map((x) => x.evidence), ...serviceEvidence];
      out.push(
        makeFinding("conntrack-stale-endpoint", values, {
          node,
          evidence,
          ...(svc === undefined ? {} : { service: svc }),
        }),
      );
    }
  }
  return out;
}
