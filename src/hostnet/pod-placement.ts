/** Which running pod owns an IP, and on which node: the API side of "does anything answer ARP". */
import type { ClusterState } from "../model/cluster.ts";
import { objectKey } from "../model/cluster.ts";
import type { Evidence } from "../model/finding.ts";

/** One pod IP on one node. */
export interface PodPlacement {
  readonly ip: string;
  readonly node: string;
  /** `namespace/name`. */
  readonly pod: string;
  readonly evidence: Evidence;
}

/**
 * The pod IPs that are live: pods with an IP, a node, not hostNetwork, and not finished
 * (`Succeeded`/`Failed` pods keep `status.podIP` in the API but their sandbox, and with it the
 * address, is gone).
 */
export function podPlacements(
  cluster: Pick<ClusterState, "pods">,
  options: { file: string },
): PodPlacement[] {
  const out: PodPlacement[] = [];
  for (const p of cluster.pods) {
    if (p.hostNetwork || p.nodeName === undefined) continue;
    if (p.phase === "Succeeded" || p.phase === "Failed") continue;
    const key = objectKey(p.metadata);
    const ips = new Set([p.podIP, ...(p.podIPs ?? [])].filter((ip): ip is string => !!ip));
    for (const ip of ips) {
      out.push({
        ip,
        node: p.nodeName,
        pod: key,
        evidence: {
          file: p.source?.file ?? options.file,
          ...(p.source?.line === undefined ? {} : { line: p.source.line }),
          text: `pod ${key} on ${p.nodeName}: podIP ${ip}${p.phase === undefined ? "" : `, phase ${p.phase}`}`,
        },
      });
    }
  }
  return out;
}
