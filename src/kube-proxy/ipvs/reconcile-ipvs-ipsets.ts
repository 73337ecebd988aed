/**
 * Reconciles the ipsets kube-proxy's IPVS proxier keeps (pkg/proxy/ipvs/ipset.go, proxier.go
 * ipsetInfo) with the Services: KUBE-CLUSTER-IP (hash:ip,port: every ClusterIP:port, which the
 * iptables glue `-m set --match-set KUBE-CLUSTER-IP dst,dst` relies on) and KUBE-NODE-PORT-TCP/UDP
 * plus their -LOCAL- variants (bitmap:port). Findings: `ipvs-ipset-entry-missing` (error: traffic to
 * that Service address is not recognised by the glue rules) and `ipvs-ipset-entry-stale` (warning:
 * an entry of a Service or node port that no longer exists).
 */

import { makeFinding } from "../../findings/make-finding.ts";
import type { IpsetSave, IpsetSet } from "../../ipset/ipset-model.ts";
import type { ClusterState } from "../../model/cluster.ts";
import type { Evidence, Finding } from "../../model/finding.ts";
import { type ExpectedServicePort, expectedServicePorts } from "../expected-state.ts";
import { expectedClusterIpEntries, expectedNodePortEntries } from "./expected-ipvs.ts";

function compare(
  sets: IpsetSave,
  name: string,
  want: ReadonlyMap<string, ExpectedServicePort>,
  node: string,
  what: string,
): Finding[] {
  const set: IpsetSet | undefined = sets.sets.get(name);
  if (set === undefined) {
    if (want.size === 0) return [];
    return [
      makeFinding(
        "ipvs-ipset-entry-missing",
        { node, set: name, what, count: want.size, file: sets.file },
        { evidence: [], node },
      ),
    ];
  }
  const out: Finding[] = [];
  const have = new Map(set.members.map((m) => [m.element, m]));
  const head: Evidence = { file: sets.file, line: set.line, text: set.text };
  for (const [entry, sp] of want) {
    if (have.has(entry)) continue;
    const source =
      sp.source === undefined
        ? []
        : [
            {
              file: sp.source.file,
              ...(sp.source.line === undefined ? {} : { line: sp.source.line }),
              text: `Service ${sp.service}`,
            },
          ];
    const values = { node, set: name, what, entry, svcPortName: sp.svcPortName, file: sets.file };
    out.push(
      makeFinding("ipvs-ipset-entry-missing", values, {
        evidence: [head, ...source],
        node,
        service: sp.service,
      }),
    );
  }
  for (const [entry, m] of have) {
    if (want.has(entry)) continue;
    out.push(
      makeFinding(
        "ipvs-ipset-entry-stale",
        { node, set: name, what, entry },
        { evidence: [head, { file: sets.file, line: m.line, text: m.text }], node },
      ),
    );
  }
  return out;
}

/**
 * The ipset findings for one IPVS-mode node.
 *
 * @example
 * ```ts
 * reconcileIpvsIpsets(cluster, parseIpsetSave(text, { file: "nodes/n1/ipset-save.txt" }), { node: "n1" });
 * ```
 */
export function reconcileIpvsIpsets(
  cluster: ClusterState,
  sets: IpsetSave,
  options: { readonly node: string },
): Finding[] {
  const ports = expectedServicePorts(cluster);
  const out = compare(
    sets,
    "KUBE-CLUSTER-IP",
    expectedClusterIpEntries(ports),
    options.node,
    "ClusterIP:port",
  );
  for (const [name, want] of Object.entries(expectedNodePortEntries(ports))) {
    out.push(...compare(sets, name, want, options.node, "node port"));
  }
  return out;
}
