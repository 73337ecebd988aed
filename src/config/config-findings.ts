/**
 * `config-pod-ip`, the one implementation: a configured value (an env var, a ConfigMap key, an
 * endpoint of the app's Spring configuration) that holds a pod's IP, or an address in a node's pod
 * range that no pod has any more. A pod IP changes when the pod restarts; the Service in front of it
 * does not. Both the env/ConfigMap check of `diagnose` and the `--jar` check feed it.
 */
import { makeFinding } from "../findings/make-finding.ts";
import type { ClusterState, Pod, Service } from "../model/cluster.ts";
import { objectKey } from "../model/cluster.ts";
import type { Evidence, Finding } from "../model/finding.ts";
import { ipInCidr } from "../net/cidr.ts";
import { ipv4Literals, type PodIpLookup, type PodIpOwner, podIpLookup } from "../net/pod-ip-lookup.ts";
import type { ConfigEndpoint, OriginPart, ResolvedProperty } from "./config-types.ts";

/** A configured value and where it is written. */
export interface PinnedValue {
  /** `env NACOS_HOST of container gw of pod eopx/gw-1`, `spring.datasource.url of the app's configuration`. */
  readonly where: string;
  readonly value: string;
  /** The lines that configure it (file, env var). */
  readonly evidence: readonly Evidence[];
  /** The environment variable that put the address there, and the default it overrides. */
  readonly env?: { readonly name: string; readonly overrides?: string };
  /** The addresses to check; every IPv4 literal of `value` when absent. */
  readonly ips?: readonly string[];
}

export interface PinnedIpOptions {
  readonly cluster: ClusterState;
  /** `namespace/name` of the pod whose configuration this is (its own IPs are ignored). */
  readonly client?: string;
  /** Reuse a lookup built once for the cluster. */
  readonly lookup?: PodIpLookup;
}

function selects(s: Service, p: Pod): boolean {
  if (!s.selector || Object.keys(s.selector).length === 0) return false;
  if ((s.metadata.namespace ?? "default") !== (p.metadata.namespace ?? "default")) return false;
  return Object.entries(s.selector).every(([k, v]) => p.metadata.labels?.[k] === v);
}

/** The Service a host name means from the client's namespace (`name`, `name.ns`, `name.ns.svc...`). */
function serviceNamed(host: string, services: readonly Service[], clientNs: string): Service | undefined {
  const [name, ns = clientNs] = host.split(":")[0]!.split(".");
  return services.find((s) => s.metadata.name === name && (s.metadata.namespace ?? "default") === ns);
}

/** `svc` from the client's namespace, `svc.ns` from another. */
function nameFrom(service: string, clientNs: string): string {
  const [ns, name] = service.split("/");
  return ns === clientNs ? name! : `${name}.${ns}`;
}

interface PinContext {
  readonly cluster: ClusterState;
  readonly lookup: PodIpLookup;
  readonly client?: string;
  readonly clientNs: string;
}

/** The Service in front of a pod: from the EndpointSlices, else by selector. */
function frontingService(owner: PodIpOwner, cluster: ClusterState): string | undefined {
  if (owner.services[0] !== undefined) return owner.services[0].service;
  const pod = cluster.pods.find((p) => objectKey(p.metadata) === owner.pod);
  const svc = pod === undefined ? undefined : cluster.services.find((s) => selects(s, pod));
  return svc === undefined ? undefined : objectKey(svc.metadata);
}

function pinFinding(pin: PinnedValue, ip: string, ctx: PinContext): Finding | undefined {
  const { cluster } = ctx;
  const owner = ctx.lookup.lookup(ip);
  const range =
    owner === undefined
      ? cluster.nodes.find((n) => n.podCIDR !== undefined && ipInCidr(ip, n.podCIDR))
      : undefined;
  if (owner === undefined && range === undefined) return undefined;
  const fronting = owner === undefined ? undefined : frontingService(owner, cluster);
  const overridden =
    pin.env?.overrides === undefined
      ? undefined
      : serviceNamed(pin.env.overrides, cluster.services, ctx.clientNs);
  const overridesService = overridden === undefined ? undefined : objectKey(overridden.metadata);
  const service = overridesService ?? fronting;
  const podPorts = owner?.services.find((s) => s.service === fronting)?.ports;
  const podEvidence: Evidence[] =
    owner?.podSource === undefined
      ? []
      : [
          {
            file: owner.podSource.file,
            ...(owner.podSource.line === undefined ? {} : { line: owner.podSource.line }),
            text: `pod ${owner.pod} podIP ${ip}`,
          },
        ];
  return makeFinding(
    "config-pod-ip",
    {
      where: pin.where,
      value: pin.value,
      ip,
      owner:
        owner === undefined
          ? { kind: "stale", node: range!.metadata.name, podCIDR: range!.podCIDR! }
          : {
              kind: "pod",
              pod: owner.pod,
              ...(owner.node === undefined ? {} : { node: owner.node }),
              ...(fronting === undefined ? {} : { service: fronting }),
            },
      ...(pin.env === undefined
        ? {}
        : { env: { ...pin.env, ...(overridesService === undefined ? {} : { overridesService }) } }),
      ...(service === undefined ? {} : { useInstead: nameFrom(service, ctx.clientNs) }),
      ...(podPorts === undefined ? {} : { podPorts }),
    },
    {
      ...(ctx.client === undefined ? {} : { pod: ctx.client }),
      ...(service === undefined ? {} : { service }),
      evidence: [...pin.evidence, ...podEvidence],
    },
  );
}

/**
 * `config-pod-ip` findings for configured values that pin a pod IP, or an address in a node's pod
 * range that no pod has any more. The client's own IPs are ignored.
 */
export function pinnedIpFindings(pins: readonly PinnedValue[], options: PinnedIpOptions): Finding[] {
  const { cluster } = options;
  const ctx: PinContext = {
    cluster,
    lookup: options.lookup ?? podIpLookup(cluster),
    clientNs: options.client?.split("/")[0] ?? "default",
    ...(options.client === undefined ? {} : { client: options.client }),
  };
  const clientPod = cluster.pods.find((p) => objectKey(p.metadata) === options.client);
  const self = new Set([clientPod?.podIP, ...(clientPod?.podIPs ?? [])]);
  return pins.flatMap((pin) =>
    [...new Set(pin.ips ?? ipv4Literals(pin.value))].flatMap((ip) => {
      if (self.has(ip)) return [];
      const f = pinFinding(pin, ip, ctx);
      return f === undefined ? [] : [f];
    }),
  );
}

function envEvidence(o: OriginPart): Evidence | undefined {
  if (o.from !== "env" || o.env === undefined) return undefined;
  const m = /(cluster\/[\w.-]+):(\d+)/.exec(o.envSource ?? "");
  return {
    file: m ? m[1]! : (o.envSource ?? "environment"),
    ...(m ? { line: Number(m[2]) } : {}),
    text: `${o.env}=${o.part}`,
  };
}

export interface ConfigFindingsOptions extends PinnedIpOptions {
  /** Prefix for config file evidence, e.g. `app.jar!/`. */
  readonly filePrefix?: string;
  /** Resolved properties, to quote the configured text in the evidence. */
  readonly properties?: readonly ResolvedProperty[];
}

/**
 * `config-pod-ip` findings for the endpoints of an app's configuration: the origin chain says which
 * environment variable pinned the address and which default (often the Service name) it overrode.
 */
export function configFindings(
  endpoints: readonly ConfigEndpoint[],
  options: ConfigFindingsOptions,
): Finding[] {
  const pins = endpoints.flatMap((ep): PinnedValue[] => {
    const ips = ipv4Literals(ep.host);
    if (ips.length === 0) return [];
    const hostPart = ep.origin.find((o) => o.part.includes(ep.host)) ?? ep.origin[0];
    const prop = options.properties?.find((p) => p.key === ep.property);
    const written = ep.origin.find((o) => o.file !== undefined);
    const evidence: Evidence[] = [];
    if (written?.file !== undefined) {
      evidence.push({
        file: `${options.filePrefix ?? ""}${written.file}`,
        ...(written.line === undefined ? {} : { line: written.line }),
        text: prop ? `${ep.property}: ${prop.raw}` : ep.property,
      });
    }
    for (const o of ep.origin) {
      const e = envEvidence(o);
      if (e) evidence.push(e);
    }
    const env =
      hostPart?.from === "env" && hostPart.env !== undefined
        ? {
            name: hostPart.env,
            ...(hostPart.overrides === undefined ? {} : { overrides: hostPart.overrides }),
          }
        : undefined;
    return [
      {
        where: `${ep.property} of the app's configuration`,
        value: ep.value,
        ips,
        evidence,
        ...(env === undefined ? {} : { env }),
      },
    ];
  });
  return pinnedIpFindings(pins, options);
}
