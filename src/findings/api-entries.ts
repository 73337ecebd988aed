/** Catalogue entries of the API side of a question: name resolution, the destination, the Service, endpoints. */
import { type FindingEntry, REF } from "./finding-entry.ts";

export type DnsNoServiceValues =
  | {
      /** A name in the cluster domain that no Service has: CoreDNS answers NXDOMAIN. */
      readonly kind: "no-service";
      readonly host: string;
      readonly domain: string;
      readonly tried: readonly string[];
      /** `namespace/name` of Services with a similar name. */
      readonly suggestions: readonly string[];
    }
  | {
      /** A hostNetwork pod without ClusterFirstWithHostNet resolves with the node's resolv.conf. */
      readonly kind: "host-network";
      readonly pod: string;
      readonly dnsPolicy: string;
    };

export interface DestinationOutsideValues {
  readonly host: string;
  readonly port: number | string;
  /** `name`: resolved by the upstream resolver; `ip`: outside the Service and pod ranges; `node`: a node's address. */
  readonly kind: "name" | "ip" | "node";
  readonly namespace: string;
  readonly domain: string;
  /** The cluster's ranges as the bundle shows them, e.g. `Service range 10.43.0.0/16, pod range 10.42.0.0/22`. */
  readonly ranges: string;
  /** `namespace/name` of a Service whose name is close to the host's (likely a typo). */
  readonly suggestion?: string;
  /** For `node`: the node whose address it is. */
  readonly nodeName?: string;
}

export interface DestinationUnassignedValues {
  readonly ip: string;
  readonly range: string;
  /** Whose range the address lies in. */
  readonly within: "node-pod-cidr" | "pod-range" | "service-range";
  readonly node?: string;
}

export interface ServicePortMissingValues {
  readonly service: string;
  readonly port: number | string;
  /** The Service's ports as `name port/PROTO`. */
  readonly have: readonly string[];
  readonly ports: readonly number[];
}

export interface EndpointsNoneValues {
  /** `question`: the asked Service; `full-check`: any Service; `cluster-dns`: CoreDNS behind a name lookup. */
  readonly context: "question" | "full-check" | "cluster-dns";
  readonly service: string;
  readonly svcPortName: string;
  /** Not-ready endpoints as `ip:port (namespace/pod)`. */
  readonly notReady?: readonly string[];
  readonly portName?: number | string;
  /** For `cluster-dns`: the client pod. */
  readonly client?: string;
}

function serviceName(key: string, fromNamespace?: string): string {
  const [ns, name] = key.split("/");
  return ns === fromNamespace ? name! : `${name}.${ns}`;
}

export const DNS_NO_SERVICE: FindingEntry<DnsNoServiceValues> = {
  code: "dns-no-service",
  severity: "error",
  title: "The name does not resolve to a Service",
  explanation:
    "The --to host is in the cluster domain (CoreDNS is authoritative for it) but no Service answers to it, or the client pod cannot use the cluster DNS at all (hostNetwork without dnsPolicy ClusterFirstWithHostNet).",
  message: (v) =>
    v.kind === "host-network"
      ? `Pod ${v.pod} uses hostNetwork with dnsPolicy ${v.dnsPolicy}, so it resolves names with the node's /etc/resolv.conf, where Service names do not exist`
      : `"${v.host}" is in the cluster domain ${v.domain}, where no Service has that name (tried ${v.tried.join(", ")}): CoreDNS answers NXDOMAIN` +
        (v.suggestions.length > 0 ? `; did you mean ${v.suggestions.join(", ")}?` : ""),
  fix: (v) =>
    v.kind === "host-network"
      ? "Set dnsPolicy: ClusterFirstWithHostNet on the pod (or connect to the ClusterIP)"
      : v.suggestions[0] !== undefined
        ? `Use the Service's name, e.g. ${serviceName(v.suggestions[0])}`
        : "Create the Service, or fix the host name in the client's configuration",
  references: (v) => [v.kind === "host-network" ? REF.dnsPolicy : REF.dns],
};

export const DESTINATION_OUTSIDE: FindingEntry<DestinationOutsideValues> = {
  code: "destination-outside",
  severity: {
    rule: "info; warning when the name is close to a Service's (a likely typo)",
    of: (v) => (v.suggestion === undefined ? "info" : "warning"),
  },
  title: "The destination is outside the cluster",
  explanation:
    "The --to host is not a Service, pod or Service/pod-range address: a name the cluster DNS does not own (not in the cluster domain, no Service through the search path) or an IP outside the Service and pod ranges. netdoctor traces the packet through the client node's rules (masquerade, drops) but cannot decide from the bundle what the upstream resolver answers or whether the destination accepts the connection.",
  message: (v) => {
    const typo = v.suggestion === undefined ? "" : `; did you mean ${v.suggestion}?`;
    if (v.kind === "name")
      return `"${v.host}" is outside the cluster: no Service has that name through namespace ${v.namespace}'s search path and it is not in the cluster domain ${v.domain}, so the upstream resolver answers it, which the bundle cannot show${typo}`;
    if (v.kind === "node")
      return `${v.host} is an address of node ${v.nodeName ?? "?"}, not a Service or pod: what listens on port ${v.port} there is not in the bundle`;
    return `${v.host} is outside the cluster: not a ClusterIP or pod IP of the bundle, and outside its ${v.ranges}`;
  },
  fix: (v) =>
    (v.suggestion === undefined
      ? ""
      : `If you meant the Service, ask again with --to ${serviceName(v.suggestion, v.namespace)}:${v.port}. `) +
    `Beyond the client's node the bundle cannot decide: from the node, check the destination itself${v.kind === "name" ? ` (\`nslookup ${v.host}\`, then \`nc -vz ADDRESS ${v.port}\`)` : ` (\`nc -vz ${v.host} ${v.port}\`)`}`,
  references: [REF.dns],
};

export const DESTINATION_UNASSIGNED: FindingEntry<DestinationUnassignedValues> = {
  code: "destination-unassigned",
  severity: "error",
  title: "Nothing has the destination address",
  explanation:
    "The --to address lies in the cluster's Service range or pod range (as the bundle's ClusterIPs, pod IPs and node pod CIDRs prove) but no Service or pod has it: nothing answers. Typically a pod IP copied before the pod was rescheduled.",
  message: (v) =>
    v.within === "service-range"
      ? `No Service has ${v.ip}, which is in the cluster's Service range ${v.range}: kube-proxy has no rule for it and nothing answers`
      : v.within === "node-pod-cidr"
        ? `No pod has ${v.ip}, which is in node ${v.node ?? "?"}'s pod CIDR ${v.range}: nothing answers there`
        : `No pod has ${v.ip}, which is in the cluster's pod range ${v.range}, and no node's pod CIDR holds it`,
  fix: () =>
    "Connect to the Service's name instead of an address: pod IPs change when pods are rescheduled, and ClusterIPs when Services are re-created",
  references: [REF.service],
};

export const SERVICE_PORT_MISSING: FindingEntry<ServicePortMissingValues> = {
  code: "service-port-missing",
  severity: "error",
  title: "The Service has no such port",
  explanation:
    "The Service exists but has no port with that number (or name). netdoctor matches the Service's `port`, not its `targetPort`: connecting to the container port through the ClusterIP is a common mistake.",
  message: (v) => `Service ${v.service} has no port ${v.port}; its ports are ${v.have.join(", ")}`,
  fix: (v) =>
    `Connect to one of the Service's ports (${v.ports.join(", ")}) or add port ${v.port} to the Service`,
  references: ["https://kubernetes.io/docs/concepts/services-networking/service/#defining-a-service"],
};

export const ENDPOINTS_NONE: FindingEntry<EndpointsNoneValues> = {
  code: "endpoints-none",
  severity: {
    rule: "error in a question, info in the full check",
    of: (v) => (v.context === "full-check" ? "info" : "error"),
  },
  title: "The Service has no ready endpoints",
  explanation:
    'The Service port has no ready endpoint in its EndpointSlices: kube-proxy REJECTs connections to it, and clients get ECONNREFUSED ("Connection refused").',
  message: (v) => {
    if (v.context === "cluster-dns")
      return `The cluster DNS Service ${v.service} has no ready endpoints: no name lookup from ${v.client ?? "the client"} can succeed`;
    if (v.context === "full-check")
      return `Service port ${v.svcPortName} has no ready endpoints: clients get "Connection refused"`;
    const notReady = v.notReady ?? [];
    return notReady.length > 0
      ? `Service port ${v.svcPortName} has no ready endpoints: ${notReady.map((e) => `${e} not ready`).join(", ")}`
      : `Service port ${v.svcPortName} has no ready endpoints; no EndpointSlice lists an endpoint for port ${v.portName ?? "?"}`;
  },
  fix: (v) =>
    v.context === "cluster-dns"
      ? "Check the CoreDNS pods in kube-system (kubectl -n kube-system get pods -l k8s-app=kube-dns) and their logs"
      : "Check that the Service's selector matches the pods' labels, that the pods are Ready, and that the port names match the containers' ports",
  references: [REF.noEndpointsReject],
};
