/**
 * The kernel suite for NetworkPolicy on the node: kube-router-style chains and ipsets (as k3s's
 * embedded controller writes them, src/testing/netpol-kube-router.ts) are loaded with the real
 * `ipset restore` and `iptables-restore` into a throw-away node namespace, real connections are
 * made between pod namespaces on 198.18.0.0/15, and for every connection:
 *
 * 1. the walk of the node's own `iptables-save` with `ipset save` (kubeRouterVerdict) must give the
 *    kernel's outcome (answer = allowed, ECONNREFUSED from the pod chain's REJECT = denied);
 * 2. the KUBE-NWPLCY-* MARK rules whose kernel packet counters moved must be exactly the rules the
 *    walk says matched: the policy named by the node answer is the one the kernel used;
 * 3. netdoctor's packet tracer (tracePacket with the node's ipsets) must give the kernel's outcome
 *    too (forwarded = allowed, rejected = denied), and name from the matching rule's comment the
 *    same policies as the node answer (tracer-checks.ts);
 * 4. the API verdict (networkPolicyVerdict) must agree, naming the same policies, except in the
 *    stale-ipset scenario, where the node must deny what the API allows.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseIpsetSave } from "../ipset/parse-ipset-save.ts";
import type { Ruleset } from "../model/ruleset.ts";
import { parseIpv4 } from "../net/ipv4.ts";
import { parseDump } from "../parse/parse-dump.ts";
import { skipBecause } from "../testing/capabilities.ts";
import { createLab, type Lab } from "../testing/netns-lab.ts";
import { ipsetNetnsUnavailable } from "../testing/netpol-ipset-netns.ts";
import { kubeRouterRules } from "../testing/netpol-kube-router.ts";
import {
  ALL_PODS,
  CLIENTS,
  NAMESPACES,
  NODE,
  NODE_IP,
  SCENARIOS,
  SERVERS,
  TARGETS,
} from "../testing/netpol-scenarios.ts";
import { tracerDisagreement } from "../testing/netpol-trace-check.ts";
import { kubeRouterVerdict } from "./kube-router-verdict.ts";
import { networkPolicyVerdict } from "./policy-verdict.ts";

const skip = skipBecause(ipsetNetnsUnavailable(), "kube-router NetworkPolicy kernel suite");

/** Packet counters of the MARK 0x10000 rules of KUBE-NWPLCY-* chains, by dump line. */
function markCounters(rs: Ruleset): Map<number, bigint> {
  const out = new Map<number, bigint>();
  for (const chain of rs.tables.get("filter")?.chains.values() ?? []) {
    if (!chain.name.startsWith("KUBE-NWPLCY-")) continue;
    for (const r of chain.rules) {
      if (r.spec.target?.name === "MARK") out.set(r.line, BigInt(r.counters?.packets ?? "0"));
    }
  }
  return out;
}

const counts = {
  connections: 0,
  denied: 0,
  allowed: 0,
  counterChecks: 0,
  policyNamed: 0,
  apiAgrees: 0,
  staleFound: 0,
  tracerAgrees: 0,
};

describe.skipIf(skip)("kube-router chains: node walk, kernel and API agree", () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await createLab({
      area: "netpol",
      nodeIps: [NODE_IP],
      pods: Object.values(CLIENTS).map((p) => ({ name: p.metadata.name, ip: p.podIP! })),
      servers: [
        { name: "web", ip: SERVERS.web!.podIP!, tcpPorts: [8080, 9090], udpPorts: [5353] },
        { name: "db", ip: SERVERS.db!.podIP!, tcpPorts: [5432] },
      ],
      world: false,
    });
  });
  afterAll(async () => {
    console.log(
      `kube-router kernel suite: ${SCENARIOS.length} scenarios, ${counts.connections} connections (${counts.allowed} allowed, ${counts.denied} denied), ` +
        `${counts.counterChecks} whose marking rules match the kernel counters (${counts.policyNamed} allowed by a named policy's rule), ${counts.tracerAgrees} tracer verdicts agreeing (policy named), ${counts.apiAgrees} API verdicts agreeing, ${counts.staleFound} stale-ipset disagreement(s) found, 0 skipped`,
    );
    await lab?.destroy();
  });

  for (const scenario of SCENARIOS) {
    it(scenario.name, async () => {
      const rules = kubeRouterRules({
        policies: scenario.policies,
        namespaces: NAMESPACES,
        pods: ALL_PODS,
        node: NODE,
      });
      const ipsets =
        scenario.stale === undefined
          ? rules.ipsets
          : rules.ipsets
              .split("\n")
              .filter((l) => l !== `add ${scenario.stale!.set} ${scenario.stale!.ip} timeout 0`)
              .join("\n");
      expect(ipsets.length).toBeLessThanOrEqual(rules.ipsets.length);
      await lab.load("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n");
      await lab.loadIpsets(ipsets);
      await lab.load(rules.filter);
      const sets = parseIpsetSave(lab.saveIpsets(), { file: `nodes/${NODE}/ipset-save.txt` });
      expect(sets.warnings).toEqual([]);
      const wrong: string[] = [];
      for (const client of Object.values(CLIENTS)) {
        for (const t of TARGETS) {
          const server = SERVERS[t.server]!;
          const before = markCounters(parseDump(lab.save(true)));
          const probe = await lab.probe({
            from: client.metadata.name,
            protocol: t.protocol === "UDP" ? "udp" : "tcp",
            dstIp: server.podIP!,
            dstPort: t.port,
            timeoutMs: 3000,
          });
          const dump = parseDump(lab.save(true));
          const after = markCounters(dump);
          const moved = [...after]
            .filter(([line, n]) => n > (before.get(line) ?? 0n))
            .map(([line]) => line)
            .sort();
          const kernel =
            probe.outcome === "answer"
              ? "allowed"
              : probe.errno === "ECONNREFUSED"
                ? "denied"
                : `?${probe.outcome}`;
          const node = kubeRouterVerdict(
            dump,
            {
              src: parseIpv4(client.podIP!)!,
              dst: parseIpv4(server.podIP!)!,
              proto: t.protocol.toLowerCase(),
              sport: -1,
              dport: t.port,
            },
            {
              node: NODE,
              file: `nodes/${NODE}/iptables-save.txt`,
              sets,
              localIps: [parseIpv4(NODE_IP)!],
              bridged: false,
            },
          );
          const traced = tracerDisagreement(dump, {
            client: client.podIP!,
            server: server.podIP!,
            protocol: t.protocol,
            port: t.port,
            sets,
            kernel,
            nodeAllowedBy: node.allowedBy.map((a) => a.name),
          });
          if (traced !== undefined)
            wrong.push(
              `${client.metadata.namespace}/${client.metadata.name} -> ${t.server}:${t.port}/${t.protocol}: ${traced}`,
            );
          else counts.tracerAgrees++;
          const api = networkPolicyVerdict(
            { state: { policies: scenario.policies, namespaces: NAMESPACES } },
            { client, server, port: t.port, protocol: t.protocol },
          );
          const what = `${client.metadata.namespace}/${client.metadata.name} -> ${t.server}:${t.port}/${t.protocol}`;
          counts.connections++;
          counts[kernel === "allowed" ? "allowed" : "denied"]++;
          if (node.decision !== kernel)
            wrong.push(`${what}: node walk ${node.decision} (${node.reason}), kernel ${kernel}`);
          const walked = [
            ...new Set([
              ...node.allowedBy.map((a) => a.line),
              ...(node.walk?.steps ?? [])
                .filter((s) => s.chain === "KUBE-NWPLCY-DEFAULT" && s.action.startsWith("MARK"))
                .map((s) => s.line),
            ]),
          ].sort();
          if (JSON.stringify(walked) !== JSON.stringify(moved))
            wrong.push(`${what}: walk marked at lines ${walked}, kernel counters moved at ${moved}`);
          else {
            counts.counterChecks++;
            if (node.allowedBy.length > 0) counts.policyNamed++;
          }
          const apiNames = [...api.ingress.allowedBy, ...api.egress.allowedBy]
            .map((a) => a.policy.name)
            .sort();
          const nodeNames = [...new Set(node.allowedBy.map((a) => a.name))].sort();
          if (scenario.stale === undefined) {
            if (api.decision !== kernel)
              wrong.push(
                `${what}: API ${api.decision} (${api.ingress.reason}; ${api.egress.reason}), kernel ${kernel}`,
              );
            else if (
              kernel === "allowed" &&
              JSON.stringify([...new Set(apiNames)]) !== JSON.stringify(nodeNames)
            ) {
              wrong.push(`${what}: API allowed by ${apiNames}, node by ${nodeNames}`);
            } else counts.apiAgrees++;
          } else if (api.decision === "allowed" && kernel === "denied") counts.staleFound++;
        }
      }
      expect(wrong).toEqual([]);
    });
  }

  it("found the stale ipset: the API allows what the node denies", () => {
    expect(counts.staleFound).toBeGreaterThan(0);
  });
});
