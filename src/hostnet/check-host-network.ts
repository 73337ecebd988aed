/**
 * All cross-node checks over one bundle: the overlay entries flannel should have installed, each
 * node's VTEP, MTUs, kernel settings, stale conntrack entries and the checksum-offload known bug.
 * A check whose evidence file is missing reports `hostnet-undecided` (info) with the file it needs:
 * absence is never read as "OK".
 */
import { makeFinding } from "../findings/make-finding.ts";
import type { ClusterState } from "../model/cluster.ts";
import type { Finding } from "../model/finding.ts";
import { checkConntrack } from "./check-conntrack.ts";
import { checkKernel } from "./check-kernel.ts";
import { checkMtu } from "./check-mtu.ts";
import { checkOffload } from "./check-offload.ts";
import { checkPeerEntries } from "./check-peer-entries.ts";
import { checkVteps } from "./check-vtep.ts";
import type { FlannelNode } from "./flannel-node.ts";
import type { HostEvidence, HostPart } from "./host-evidence.ts";
import { fileEvidence } from "./hostnet-finding.ts";
import { type OverlayNode, overlayNodes } from "./overlay-view.ts";
import type { PodPlacement } from "./pod-placement.ts";

/** Which checks need which parts. */
const NEEDS: ReadonlyArray<readonly [string, readonly HostPart[]]> = [
  ["peer routes", ["route", "link"]],
  ["peer neighbour entries", ["neigh", "link"]],
  ["peer FDB entries", ["fdb", "link"]],
  ["VXLAN device and binding", ["link", "addr"]],
  ["MTU", ["link", "addr"]],
  ["forwarding, br_netfilter and rp_filter", ["sysctl", "route", "rule", "addr"]],
  ["stale conntrack entries", ["conntrack"]],
  ["checksum offload", ["ethtool"]],
];

function undecided(n: OverlayNode, out: Finding[]): void {
  const host = n.host;
  const node = n.api.name;
  if (host === undefined) {
    out.push(
      makeFinding(
        "hostnet-undecided",
        { kind: "no-directory", node },
        { node, evidence: [fileEvidence(`nodes/${node}/`, "missing"), n.api.evidence] },
      ),
    );
    return;
  }
  const lacking = NEEDS.filter(([, parts]) => parts.some((p) => host.missing.includes(p)));
  if (lacking.length === 0) return;
  const files = [
    ...new Set(
      lacking.flatMap(([, parts]) => parts.filter((p) => host.missing.includes(p)).map((p) => host.files[p])),
    ),
  ];
  const values = { kind: "missing-files" as const, node, checks: lacking.map(([what]) => what), files };
  out.push(
    makeFinding("hostnet-undecided", values, {
      node,
      evidence: files.map((f) => fileEvidence(f, "missing or unreadable")),
    }),
  );
}

/** The input of {@linkcode checkHostNetwork}. */
export interface HostNetworkInput {
  readonly hosts: ReadonlyMap<string, HostEvidence>;
  readonly nodes: readonly FlannelNode[];
  readonly pods: readonly PodPlacement[];
  readonly cluster: Pick<ClusterState, "services">;
  /** Bundle path of the Services list, for evidence (default `cluster/services.json`). */
  readonly servicesFile?: string;
}

/**
 * Runs every cross-node check. Only nodes whose annotations say flannel VXLAN take part in the
 * overlay checks; conntrack is checked on every node with a listing.
 *
 * @example
 * ```ts
 * const findings = checkHostNetwork({ hosts, nodes, pods, cluster });
 * findings.filter((f) => f.severity === "error").map((f) => f.code); // ["overlay-fdb-stale", ...]
 * ```
 */
export function checkHostNetwork(input: HostNetworkInput): Finding[] {
  const nodes = overlayNodes({ hosts: input.hosts, nodes: input.nodes });
  const podIps = new Map<string, string>();
  for (const p of input.pods) if (!podIps.has(p.node)) podIps.set(p.node, p.ip);
  const out: Finding[] = [];
  for (const n of nodes) undecided(n, out);
  out.push(...checkVteps(nodes));
  out.push(...checkPeerEntries(nodes));
  out.push(...checkMtu(nodes));
  out.push(...checkKernel(nodes, podIps));
  out.push(
    ...checkConntrack(input.hosts, {
      nodes: input.nodes,
      pods: input.pods,
      cluster: input.cluster,
      servicesFile: input.servicesFile ?? "cluster/services.json",
    }),
  );
  out.push(...checkOffload(nodes));
  for (const n of input.nodes) {
    for (const problem of n.problems) {
      out.push(
        makeFinding(
          "hostnet-undecided",
          { kind: "annotation", node: n.name, problem },
          { node: n.name, evidence: [n.evidence] },
        ),
      );
    }
  }
  return out;
}
