/**
 * Resolves `--from NS/POD --to HOST:PORT` the way the client pod would: its namespace's DNS search
 * path and the cluster domain (from CoreDNS's Corefile), a ClusterIP literal or a pod IP literal.
 */
import type { ClusterState, Pod, Service, ServicePort } from "../model/cluster.ts";
import { objectKey } from "../model/cluster.ts";

/** A usage problem with the question itself (exit 2), e.g. a pod that is not in the bundle. */
export class QuestionError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = "QuestionError";
  }
}

export interface ParsedTo {
  readonly host: string;
  /** A number, or a Service port name. */
  readonly port: number | string;
}

/** Splits `HOST:PORT`. */
export function parseTo(to: string): ParsedTo {
  const i = to.lastIndexOf(":");
  if (i <= 0 || i === to.length - 1)
    throw new QuestionError(`Cannot use --to "${to}": expected HOST:PORT, e.g. my-svc:8080`);
  const host = to.slice(0, i).replace(/\.$/, "");
  const p = to.slice(i + 1);
  if (/^\d+$/.test(p)) {
    const n = Number(p);
    if (n < 1 || n > 65535) throw new QuestionError(`Cannot use --to "${to}": port ${p} is not in 1-65535`);
    return { host, port: n };
  }
  return { host, port: p };
}

/** Finds the client pod from `NS/POD` (or `POD` in `namespace`). */
export function findPod(cluster: ClusterState, from: string, namespace = "default"): Pod {
  const [ns, name] = from.includes("/") ? from.split("/", 2) : [namespace, from];
  const pod = cluster.pods.find((p) => p.metadata.namespace === ns && p.metadata.name === name);
  if (pod !== undefined) return pod;
  const near = cluster.pods
    .filter((p) =>
      p.metadata.name.startsWith(name!.replace(/-[a-z0-9]{5}$/, "").replace(/-[a-z0-9]{8,10}$/, "")),
    )
    .slice(0, 3)
    .map((p) => objectKey(p.metadata));
  throw new QuestionError(
    `Cannot find pod ${ns}/${name} in cluster/pods.json${near.length > 0 ? `: did you mean ${near.join(", ")}?` : ""}`,
  );
}

/** The cluster domain from CoreDNS's Corefile (`kubernetes cluster.local …`), default cluster.local. */
export function clusterDomain(cluster: ClusterState): { domain: string; from?: string } {
  const cm = cluster.configMaps.find(
    (c) => c.metadata.namespace === "kube-system" && c.metadata.name === "coredns",
  );
  const m = cm === undefined ? null : /^\s*kubernetes\s+(\S+)/m.exec(cm.data.Corefile ?? "");
  return m === null
    ? { domain: "cluster.local" }
    : { domain: m[1]!, from: "ConfigMap kube-system/coredns (Corefile)" };
}

/** How the host resolved. */
export type Resolution =
  | { readonly kind: "service"; readonly service: Service; readonly name: string; readonly how: string }
  | { readonly kind: "pod"; readonly pod: Pod; readonly how: string }
  | {
      readonly kind: "none";
      readonly tried: readonly string[];
      readonly how: string;
      readonly suggestions: readonly string[];
    };

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * Resolves `host` as `client` would: IP literals first, then the search path
 * `NS.svc.DOMAIN svc.DOMAIN DOMAIN`, or the name itself when it is fully qualified.
 */
export function resolveHost(cluster: ClusterState, client: Pod, host: string): Resolution {
  if (IPV4.test(host)) {
    const svc = cluster.services.find((s) => s.clusterIP === host || s.clusterIPs?.includes(host));
    if (svc !== undefined)
      return {
        kind: "service",
        service: svc,
        name: host,
        how: `${host} is the ClusterIP of Service ${objectKey(svc.metadata)} (no DNS lookup)`,
      };
    const pod = cluster.pods.find((p) => !p.hostNetwork && (p.podIP === host || p.podIPs?.includes(host)));
    if (pod !== undefined)
      return {
        kind: "pod",
        pod,
        how: `${host} is the IP of pod ${objectKey(pod.metadata)} (no DNS lookup, no Service)`,
      };
    return {
      kind: "none",
      tried: [host],
      how: `${host} is neither a ClusterIP nor a pod IP in this bundle`,
      suggestions: [],
    };
  }
  const { domain } = clusterDomain(cluster);
  const ns = client.metadata.namespace ?? "default";
  const fq = host.endsWith(`.${domain}`);
  const candidates = fq
    ? [host]
    : [`${host}.${ns}.svc.${domain}`, `${host}.svc.${domain}`, `${host}.${domain}`];
  for (const name of candidates) {
    const m = new RegExp(`^([a-z0-9-]+)\\.([a-z0-9-]+)\\.svc\\.${domain.replace(/\./g, "\\.")}$`).exec(name);
    if (m === null) continue;
    const svc = cluster.services.find((s) => s.metadata.name === m[1] && s.metadata.namespace === m[2]);
    if (svc !== undefined) {
      const how = fq
        ? `${host} is fully qualified`
        : `"${host}" from namespace ${ns} resolves through the search path to ${name}`;
      return { kind: "service", service: svc, name, how };
    }
  }
  const base = host.split(".")[0]!;
  const suggestions = cluster.services
    .filter(
      (s) =>
        s.metadata.name.includes(base) ||
        base.includes(s.metadata.name) ||
        editDistance(s.metadata.name, base) <= 2,
    )
    .slice(0, 3)
    .map((s) => objectKey(s.metadata));
  return {
    kind: "none",
    tried: candidates,
    how: `"${host}" from namespace ${ns} matches no Service`,
    suggestions,
  };
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(
        d[i - 1]![j]! + 1,
        d[i]![j - 1]! + 1,
        d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
  }
  return d[a.length]![b.length]!;
}

/** The Service port the client addresses: by number, or by port name. */
export function findServicePort(svc: Service, port: number | string): ServicePort | undefined {
  return svc.ports.find((p) => (typeof port === "number" ? p.port === port : p.name === port));
}
