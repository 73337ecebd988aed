/**
 * Reconciles a node's IPVS table (`ipvsadm -Sn`/`-Ln`) with what kube-proxy's IPVS proxier must
 * have programmed for the API's Services (expected-ipvs.ts). Findings:
 *
 * - `ipvs-virtual-server-missing` (error): a Service address:port without its virtual server;
 * - `ipvs-virtual-server-stale` (warning): a virtual server on a Service or node address that no
 *   current Service port explains (a deleted Service kube-proxy did not clean up);
 * - `ipvs-real-server-missing` (error): a ready endpoint that is not a real server, or is one of
 *   weight 0 (it gets no new connections);
 * - `ipvs-real-server-stale` (error): a real server of weight > 0 that is no endpoint kube-proxy
 *   should balance to; or of weight 0 with no connections left that is no endpoint at all (graceful
 *   termination should have removed it: kubernetes#81775 class);
 * - `ipvs-real-server-draining` (info): weight 0 while its connections drain after the endpoint
 *   went away or started terminating: graceful termination, normal.
 *
 * A healthy node gets no findings at warning or error level.
 */

import { makeFinding } from "../../findings/make-finding.ts";
import type { IpvsTable, RealServer, VirtualService } from "../../ipvs/ipvs-model.ts";
import { keyOf } from "../../ipvs/ipvs-model.ts";
import type { ClusterState } from "../../model/cluster.ts";
import type { Evidence, Finding } from "../../model/finding.ts";
import { inCidr, parseCidr, parseIpv4 } from "../../net/ipv4.ts";
import { type ExpectedVirtualServer, expectedVirtualServers } from "./expected-ipvs.ts";

export interface ReconcileIpvsOptions {
  readonly node: string;
  /** The node's addresses (node-port virtual servers); default: its InternalIP from the API. */
  readonly nodeIps: readonly string[];
  /** The Service CIDR (e.g. 10.43.0.0/16): virtual servers in it are kube-proxy's even when no Service explains them. */
  readonly serviceCidr?: string;
}

const rsKey = (r: RealServer) => `${r.address.includes(":") ? `[${r.address}]` : r.address}:${r.port}`;

function ev(table: IpvsTable, line: number, text: string): Evidence {
  return { file: table.file, line, text };
}

function serviceEvidence(exp: ExpectedVirtualServer): Evidence[] {
  const s = exp.servicePort.source;
  return s === undefined
    ? []
    : [
        {
          file: s.file,
          ...(s.line === undefined ? {} : { line: s.line }),
          text: `Service ${exp.servicePort.service}`,
        },
      ];
}

function realServerFindings(
  table: IpvsTable,
  vs: VirtualService,
  exp: ExpectedVirtualServer,
  node: string,
): Finding[] {
  const out: Finding[] = [];
  const sp = exp.servicePort;
  const on = { node, svcPortName: sp.svcPortName, key: exp.key };
  const present = new Map(vs.realServers.map((r) => [rsKey(r), r]));
  for (const [key, ep] of exp.realServers) {
    const r = present.get(key);
    if (r !== undefined && r.weight > 0) continue;
    const evidence =
      r === undefined ? [ev(table, vs.line, vs.text), ...serviceEvidence(exp)] : [ev(table, r.line, r.text)];
    out.push(
      makeFinding(
        "ipvs-real-server-missing",
        { ...on, realServer: key, weightZero: r !== undefined },
        { evidence, node, service: sp.service, ...(ep.pod === undefined ? {} : { pod: ep.pod }) },
      ),
    );
  }
  for (const r of vs.realServers) {
    const key = rsKey(r);
    if (exp.realServers.has(key)) continue;
    const known = sp.endpoints.find((e) => `${e.ip}:${e.port}` === key);
    const counts = r.activeConn === undefined ? undefined : r.activeConn + (r.inactConn ?? 0);
    const scope = { evidence: [ev(table, r.line, r.text)], node, service: sp.service };
    if (r.weight > 0 || (known === undefined && counts === 0)) {
      const endpoint = known === undefined ? ("none" as const) : ("not-ready" as const);
      out.push(
        makeFinding("ipvs-real-server-stale", { ...on, realServer: key, weight: r.weight, endpoint }, scope),
      );
    } else {
      const why = known?.terminating === true ? ("terminating" as const) : ("removed" as const);
      const values = {
        ...on,
        realServer: key,
        why,
        ...(counts === undefined ? {} : { connections: counts }),
      };
      out.push(makeFinding("ipvs-real-server-draining", values, scope));
    }
  }
  return out;
}

/**
 * The findings for one node's IPVS table.
 *
 * @example
 * ```ts
 * reconcileIpvs(cluster, parseIpvsadm(text, { file: "nodes/n1/ipvsadm.txt" }), { node: "n1", nodeIps: ["192.168.1.10"] });
 * ```
 */
export function reconcileIpvs(
  cluster: ClusterState,
  table: IpvsTable,
  options: ReconcileIpvsOptions,
): Finding[] {
  const expected = expectedVirtualServers(cluster, options);
  const byKey = new Map(table.services.map((s) => [keyOf(s), s]));
  const out: Finding[] = [];
  const expectedKeys = new Set(expected.map((e) => e.key));
  for (const exp of expected) {
    const vs = byKey.get(exp.key);
    if (vs === undefined) {
      const values = {
        node: options.node,
        svcPortName: exp.servicePort.svcPortName,
        key: exp.key,
        kind: exp.kind,
        file: table.file,
      };
      out.push(
        makeFinding("ipvs-virtual-server-missing", values, {
          evidence: serviceEvidence(exp),
          node: options.node,
          service: exp.servicePort.service,
        }),
      );
      continue;
    }
    out.push(...realServerFindings(table, vs, exp, options.node));
  }
  // Only addresses kube-proxy owns: Service IPs and the node's own; other IPVS users are left alone.
  const owned = new Set([...expected.map((e) => e.address), ...options.nodeIps]);
  const cidr = options.serviceCidr === undefined ? undefined : parseCidr(options.serviceCidr);
  const isOwned = (a: string) => {
    if (owned.has(a)) return true;
    const ip = parseIpv4(a);
    return cidr !== undefined && ip !== undefined && inCidr(ip, cidr);
  };
  for (const vs of table.services) {
    if (vs.address === undefined || !isOwned(vs.address) || expectedKeys.has(keyOf(vs))) continue;
    out.push(
      makeFinding(
        "ipvs-virtual-server-stale",
        { node: options.node, key: keyOf(vs) },
        { evidence: [ev(table, vs.line, vs.text)], node: options.node },
      ),
    );
  }
  return out;
}
