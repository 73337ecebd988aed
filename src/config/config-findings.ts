import type { ClusterState, Pod, Service } from "../model/cluster.ts";
import type { Evidence, Finding } from "../model/finding.ts";
import type { ConfigEndpoint, OriginPart, ResolvedProperty } from "./config-types.ts";

export interface ConfigFindingsOptions {
  readonly cluster: ClusterState;
  /** `namespace/name` of the pod whose configuration this is. */
  readonly client?: string;
  /** Prefix for config file evidence, e.g. `app.jar!/`. */
  readonly filePrefix?: string;
  /** Resolved properties, to quote the configured text in the evidence. */
  readonly properties?: readonly ResolvedProperty[];
}

function ipv4ToInt(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function inCidr(ip: string, cidr: string): boolean {
  const [net, bits] = cidr.split("/");
  const a = ipv4ToInt(ip);
  const b = net === undefined ? undefined : ipv4ToInt(net);
  const n = Number(bits);
  if (a === undefined || b === undefined || !(n >= 0 && n <= 32)) return false;
  const mask = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
  return (a & mask) === (b & mask);
}

function isIp(host: string): boolean {
  return ipv4ToInt(host) !== undefined || host.includes(":");
}

function podKey(p: Pod): string {
  return `${p.metadata.namespace ?? "default"}/${p.metadata.name}`;
}

function selects(s: Service, p: Pod): boolean {
  if (!s.selector || Object.keys(s.selector).length === 0) return false;
  if ((s.metadata.namespace ?? "default") !== (p.metadata.namespace ?? "default")) return false;
  return Object.entries(s.selector).every(([k, v]) => p.metadata.labels?.[k] === v);
}

/** The Service a host name means from the client's namespace (`name`, `name.ns`, `name.ns.svc...`). */
function serviceNamed(host: string, services: readonly Service[], clientNs: string): Service | undefined {
  const [name, ns = clientNs] = host.split(".");
  return services.find((s) => s.metadata.name === name && (s.metadata.namespace ?? "default") === ns);
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

/**
 * `config-pod-ip` findings: an endpoint of the app's configuration whose host is a pod's IP (or
 * an address in a node's pod range that no pod has any more). A pod IP changes when the pod
 * restarts; the Service in front of it does not. The origin chain says which environment variable
 * pinned it and which default (often the Service name) it overrode.
 */
export function configFindings(
  endpoints: readonly ConfigEndpoint[],
  options: ConfigFindingsOptions,
): Finding[] {
  const { cluster } = options;
  const clientNs = options.client?.split("/")[0] ?? "default";
  const findings: Finding[] = [];
  for (const ep of endpoints) {
    if (!isIp(ep.host)) continue;
    const owner = cluster.pods.find(
      (p) => !p.hostNetwork && (p.podIP === ep.host || (p.podIPs ?? []).includes(ep.host)),
    );
    const range = owner
      ? undefined
      : cluster.nodes.find((n) => n.podCIDR !== undefined && inCidr(ep.host, n.podCIDR));
    if (!owner && !range) continue;
    const hostPart = ep.origin.find((o) => o.part.includes(ep.host)) ?? ep.origin[0];
    const overridden = hostPart?.overrides;
    const overriddenHost = overridden?.split(":")[0];
    const defaultService =
      overriddenHost === undefined ? undefined : serviceNamed(overriddenHost, cluster.services, clientNs);
    const ownerService = owner ? cluster.services.find((s) => selects(s, owner)) : undefined;
    const svc = defaultService ?? ownerService;
    const svcName = svc ? `${svc.metadata.namespace ?? "default"}/${svc.metadata.name}` : undefined;
    const via =
      hostPart?.from === "env"
        ? ` It comes from environment variable ${hostPart.env}${overridden === undefined ? "" : `, which overrides the default "${overridden}"${defaultService ? ` (the Service ${svcName})` : ""}`}.`
        : hostPart?.file !== undefined
          ? ` It is written in ${hostPart.file}:${hostPart.line}.`
          : "";
    const what = owner
      ? `the IP of pod ${podKey(owner)}${ownerService ? ` behind Service ${ownerService.metadata.namespace}/${ownerService.metadata.name}` : ""}; it breaks when that pod restarts`
      : `in node ${range!.metadata.name}'s pod range ${range!.podCIDR} but no pod has it now: a stale pod IP`;
    const evidence: Evidence[] = [];
    const prop = options.properties?.find((p) => p.key === ep.property);
    const written = ep.origin.find((o) => o.file !== undefined);
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
    if (owner?.source) {
      evidence.push({
        file: owner.source.file,
        ...(owner.source.line === undefined ? {} : { line: owner.source.line }),
        text: `pod ${podKey(owner)} podIP ${ep.host}`,
      });
    }
    const fixTarget = svc
      ? `${svc.metadata.name}${svc.metadata.namespace === clientNs ? "" : `.${svc.metadata.namespace}`}`
      : "the Service name";
    findings.push({
      code: "config-pod-ip",
      severity: "warning",
      message: `${ep.property} dials ${ep.value}: ${ep.host} is ${what}.${via}`,
      evidence,
      ...(options.client === undefined ? {} : { pod: options.client }),
      ...(svcName === undefined ? {} : { service: svcName }),
      fix:
        hostPart?.from === "env" && hostPart.env !== undefined
          ? `Remove ${hostPart.env} from the workload's env${overridden !== undefined ? ` so the default "${overridden}" applies` : ` or set it to ${fixTarget}`}: dial the Service, not a pod`
          : `Use ${fixTarget} instead of a pod IP in ${ep.property}`,
    });
  }
  return findings;
}
