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
  const base = { node, service: sp.service };
  const present = new Map(vs.realServers.map((r) => [rsKey(r), r]));
  for (const [key, ep] of exp.realServers) {
    const r = present.get(key);
    if (r === undefined) {
      out.push({
        code: "ipvs-real-server-missing",
        severity: "error",
        message: `${sp.svcPortName}: endpoint ${key} is not a real server of ${exp.key}`,
        evidence: [ev(table, vs.line, vs.text), ...serviceEvidence(exp)],
        ...base,
        ...(ep.pod === undefined ? {} : { pod: ep.pod }),
        fix: "Check kube-proxy's log on the node for sync errors; restarting kube-proxy resyncs IPVS",
      });
    } else if (r.weight === 0) {
      out.push({
        code: "ipvs-real-server-missing",
        severity: "error",
        message: `${sp.svcPortName}: ready endpoint ${key} is a real server of ${exp.key} with weight 0: it gets no new connections`,
        evidence: [ev(table, r.line, r.text)],
        ...base,
      });
    }
  }
  for (const r of vs.realServers) {
    const key = rsKey(r);
    if (exp.realServers.has(key)) continue;
    const known = sp.endpoints.find((e) => `${e.ip}:${e.port}` === key);
    const counts = r.activeConn === undefined ? undefined : r.activeConn + (r.inactConn ?? 0);
    const evidence = [ev(table, r.line, r.text)];
    if (r.weight > 0) {
      out.push({
        code: "ipvs-real-server-stale",
        severity: "error",
        message: `${sp.svcPortName}: real server ${key} of ${exp.key} has weight ${r.weight} but is ${known === undefined ? "no endpoint of the Service" : "not a ready endpoint"}: new connections are sent to it`,
        evidence,
        ...base,
        fix: "Restart kube-proxy on the node so it resyncs IPVS; check its log for sync errors",
      });
    } else if (known === undefined && counts === 0) {
      out.push({
        code: "ipvs-real-server-stale",
        severity: "warning",
        message: `${sp.svcPortName}: real server ${key} of ${exp.key} has weight 0 and no connections, and is no endpoint any more: graceful termination should have removed it (kubernetes/kubernetes#81775)`,
        evidence,
        ...base,
        references: ["https://github.com/kubernetes/kubernetes/issues/81775"],
      });
    } else {
      const why = known?.terminating === true ? "its endpoint is terminating" : "its endpoint was removed";
      const drain =
        counts === undefined
          ? "normal while its connections last (`ipvsadm -Ln` shows how many)"
          : `normal while its ${counts} connection(s) drain`;
      out.push({
        code: "ipvs-real-server-draining",
        severity: "info",
        message: `${sp.svcPortName}: real server ${key} of ${exp.key} has weight 0 because ${why}: graceful termination, ${drain}`,
        evidence,
        ...base,
      });
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
      out.push({
        code: "ipvs-virtual-server-missing",
        severity: "error",
        message: `${exp.servicePort.svcPortName}: no IPVS virtual server for ${exp.kind} ${exp.key} in ${table.file}`,
        evidence: serviceEvidence(exp),
        node: options.node,
        service: exp.servicePort.service,
        fix: "Check kube-proxy's log on the node for sync errors; restarting kube-proxy resyncs IPVS",
      });
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
    out.push({
      code: "ipvs-virtual-server-stale",
      severity: "warning",
      message: `IPVS virtual server ${keyOf(vs)} matches no current Service port: left behind by a deleted Service or port`,
      evidence: [ev(table, vs.line, vs.text)],
      node: options.node,
      fix: "Restart kube-proxy on the node so it resyncs IPVS (it deletes virtual servers it no longer needs)",
    });
  }
  return out;
}
