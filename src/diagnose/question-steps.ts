/**
 * The `--from/--to` walk: each link of the chain a connection depends on, in order, with what
 * proves it. The first link that fails is `brokenAt`; later links still run when they can.
 */

import { joinHostPort } from "../kube-proxy/chain-names.ts";
import type { ExpectedServicePort } from "../kube-proxy/expected-state.ts";
import type { ClusterState, Pod } from "../model/cluster.ts";
import { nodeInternalIp, objectKey } from "../model/cluster.ts";
import type { CheckStep, Diagnosis } from "../model/diagnosis.ts";
import type { Finding } from "../model/finding.ts";
import type { Packet, TraceResult } from "../model/trace.ts";
import { clusterDomain, findPod, findServicePort, parseTo, resolveHost } from "./resolve-target.ts";
import { describeTrace } from "./trace-verdict.ts";
import { dnsServerProblem, healthShort, IPV4_LITERAL, svcEvidence, unknownPaths } from "./walk-findings.ts";

export interface WalkInput {
  readonly client:
    | {
        readonly readable: boolean;
        readonly file: string;
        readonly rules: number;
        readonly dataplane: readonly Finding[];
        readonly health: readonly Finding[];
      }
    | undefined;
  readonly trace: TraceResult | undefined;
  readonly traceError: string | undefined;
  readonly config: readonly Finding[];
}

export interface Question {
  readonly client: Pod;
  readonly packet?: Packet;
  /** Service ports to reconcile on the client node. */
  readonly reconcileOnly: ReadonlySet<string>;
  readonly summaryQuestion: NonNullable<Diagnosis["question"]>;
  walk(input: WalkInput): { steps: CheckStep[]; findings: Finding[] };
  summary(broken: CheckStep | undefined, steps: readonly CheckStep[]): string;
}

/** Resolves the question up front (DNS, Service, port, endpoints need only the API objects). */
export function resolveQuestion(
  cluster: ClusterState,
  ports: readonly ExpectedServicePort[],
  q: { from: string; to: string; namespace?: string },
): Question {
  const client = findPod(cluster, q.from, q.namespace);
  const clientKey = objectKey(client.metadata);
  const to = parseTo(q.to);
  const steps: CheckStep[] = [];
  const findings: Finding[] = [];
  const res = resolveHost(cluster, client, to.host);
  const domain = clusterDomain(cluster);
  const dnsSp = ports.find((p) => p.service === "kube-system/kube-dns" && p.protocol === "udp");
  let sp: ExpectedServicePort | undefined;
  let packet: Packet | undefined;
  const srcIp = client.podIP;
  const dnsNote = ` (cluster domain ${domain.domain}${domain.from === undefined ? ", the default" : ` from ${domain.from}`})`;

  if (res.kind === "none") {
    steps.push({ check: "dns", ok: false, detail: `${res.how}; tried ${res.tried.join(", ")}` });
    findings.push({
      code: "dns-no-service",
      severity: "error",
      pod: clientKey,
      message: `${res.how}${res.suggestions.length > 0 ? `; similar Services: ${res.suggestions.join(", ")}` : ""}`,
      evidence: [{ file: "cluster/services.json", text: `no Service for: ${res.tried.join(", ")}` }],
      fix:
        res.suggestions.length > 0
          ? `Use the Service's name, e.g. ${res.suggestions[0]!.split("/")[1]}.${res.suggestions[0]!.split("/")[0]}`
          : "Create the Service, or fix the host name in the client's configuration",
      references: ["https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/"],
    });
  } else if (res.kind === "pod") {
    steps.push({ check: "dns", ok: true, detail: res.how });
    steps.push({
      check: "service",
      ok: undefined,
      detail:
        "no Service on the path: the client addresses a pod directly, which breaks when the pod is rescheduled",
    });
    const port =
      typeof to.port === "number"
        ? to.port
        : res.pod.containers.flatMap((c) => c.ports ?? []).find((p) => p.name === to.port)?.containerPort;
    const ok = res.pod.ready !== false && res.pod.phase !== "Failed";
    steps.push({
      check: "endpoints",
      ok,
      detail: `pod ${objectKey(res.pod.metadata)} on ${res.pod.nodeName ?? "no node"} is ${ok ? "ready" : "not ready"}`,
    });
    if (srcIp !== undefined && port !== undefined)
      packet = { protocol: "tcp", srcIp, dstIp: to.host, dstPort: port };
  } else {
    const svc = res.service;
    const svcKey = objectKey(svc.metadata);
    const dnsDetail = `${res.how} → Service ${svcKey}, ClusterIP ${svc.clusterIP ?? "none"}`;
    const viaDns = !IPV4_LITERAL.test(to.host);
    const problem = viaDns ? dnsServerProblem(client, clientKey, dnsSp) : undefined;
    steps.push({
      check: "dns",
      ok: problem === undefined,
      detail:
        problem === undefined
          ? `${dnsDetail}${viaDns ? dnsNote : ""}`
          : `${problem.message} (${dnsDetail} if DNS worked)`,
    });
    if (problem !== undefined) findings.push(problem);
    const port = findServicePort(svc, to.port);
    if (port === undefined) {
      const have = svc.ports.map((p) => `${p.name ?? "(unnamed)"} ${p.port}/${p.protocol}`).join(", ");
      steps.push({
        check: "service",
        ok: false,
        detail: `Service ${svcKey} has no port ${to.port} (it has ${have})`,
      });
      findings.push({
        code: "service-port-missing",
        severity: "error",
        service: svcKey,
        pod: clientKey,
        message: `Service ${svcKey} has no port ${to.port}; its ports are ${have}`,
        evidence: [svcEvidence(svc, `service ${svcKey} ports: ${have}`)],
        fix: `Connect to one of the Service's ports (${svc.ports.map((p) => p.port).join(", ")}) or add port ${to.port} to the Service`,
        references: ["https://kubernetes.io/docs/concepts/services-networking/service/#defining-a-service"],
      });
    } else {
      sp = ports.find(
        (p) => p.service === svcKey && p.port === port.port && p.protocol === port.protocol.toLowerCase(),
      );
      const target = port.targetPort ?? port.port;
      const eps = sp?.clusterEndpoints ?? [];
      const targetNums = [...new Set(eps.map((e) => e.port))];
      steps.push({
        check: "service",
        ok: true,
        detail: `port ${port.name ?? "(unnamed)"} ${port.port}/${port.protocol} → targetPort ${typeof target === "string" ? `"${target}"` : target}${typeof target === "string" && targetNums.length > 0 ? ` (${targetNums.join(", ")} on the endpoints)` : ""}`,
      });
      if (svc.clusterIP === "None") {
        steps.push({
          check: "endpoints",
          ok: undefined,
          detail: "headless Service: DNS returns pod IPs and kube-proxy has no rules for it",
        });
      } else if (eps.length === 0) {
        const notReady = sp?.endpoints ?? [];
        steps.push({
          check: "endpoints",
          ok: false,
          detail: `no ready endpoints${notReady.length > 0 ? ` (${notReady.length} not ready)` : ""}: clients get "Connection refused"`,
        });
        findings.push({
          code: "endpoints-none",
          severity: "error",
          service: svcKey,
          pod: clientKey,
          message: `Service port ${sp?.svcPortName ?? svcKey} has no ready endpoints${notReady.length > 0 ? `: ${notReady.map((e) => `${joinHostPort(e.ip, e.port)}${e.pod === undefined ? "" : ` (${e.pod})`} not ready`).join(", ")}` : `; no EndpointSlice lists an endpoint for port ${port.name ?? port.port}`}`,
          evidence: [svcEvidence(svc, `service ${svcKey} selector ${JSON.stringify(svc.selector ?? {})}`)],
          fix: "Check that the Service's selector matches the pods' labels, that the pods are Ready, and that the port names match the containers' ports",
          references: ["iptables-known-bugs KB-13"],
        });
      } else {
        steps.push({
          check: "endpoints",
          ok: true,
          detail: `${eps.length} ready endpoint${eps.length > 1 ? "s" : ""}: ${eps.map((e) => `${joinHostPort(e.ip, e.port)}${e.pod === undefined ? "" : ` (pod ${e.pod}${e.nodeName === undefined ? "" : ` on ${e.nodeName}`})`}`).join(", ")}`,
        });
      }
      if (srcIp !== undefined && svc.clusterIP !== undefined && svc.clusterIP !== "None") {
        const proto = port.protocol.toLowerCase();
        packet = {
          protocol: proto === "udp" ? "udp" : proto === "sctp" ? "sctp" : "tcp",
          srcIp,
          dstIp: svc.clusterIP,
          dstPort: port.port,
        };
      }
    }
  }
  const node = cluster.nodes.find((n) => n.metadata.name === client.nodeName);
  const nodeIp = node === undefined ? undefined : nodeInternalIp(node);
  if (client.hostNetwork && packet !== undefined && nodeIp !== undefined)
    packet = { ...packet, srcIp: nodeIp };
  const reconcileOnly = new Set<string>([
    ...(sp === undefined ? [] : [sp.svcPortName]),
    ...(dnsSp === undefined ? [] : [dnsSp.svcPortName]),
  ]);
  const question: Question["summaryQuestion"] = {
    from: clientKey,
    to: q.to,
    ...(client.nodeName === undefined ? {} : { clientNode: client.nodeName }),
    ...(packet === undefined ? {} : { clusterIp: packet.dstIp, port: packet.dstPort }),
  };

  return {
    client,
    ...(packet === undefined ? {} : { packet }),
    reconcileOnly,
    summaryQuestion: question,
    walk(input) {
      const out = [...steps];
      const fs = [...findings];
      const nodeName = client.nodeName;
      if (nodeName === undefined || input.client === undefined) {
        out.push({
          check: "client-node",
          ok: undefined,
          detail:
            nodeName === undefined
              ? `pod ${clientKey} is not scheduled on a node`
              : `the bundle has no readable directory for node ${nodeName}`,
        });
      } else {
        out.push({
          check: "client-node",
          ok: true,
          detail: `pod ${clientKey} (${client.podIP ?? "no IP"}${client.hostNetwork ? ", hostNetwork" : ""}) runs on ${nodeName}${nodeIp === undefined ? "" : ` (${nodeIp})`}; its rules: ${input.client.file}${input.client.readable ? ` (${input.client.rules} rules)` : " (unreadable)"}`,
        });
        const dp = input.client.dataplane.filter(
          (f) => f.service === undefined || f.service === sp?.service || f.service === "kube-system/kube-dns",
        );
        const asked = dp.filter((f) => f.service === sp?.service);
        const errs = dp.filter((f) => f.severity !== "info");
        const traceText =
          input.trace === undefined
            ? input.traceError === undefined
              ? ""
              : `; trace failed: ${input.traceError}`
            : `; ${describeTrace(input.trace, sp, cluster, nodeName)}`;
        if (!input.client.readable) {
          out.push({
            check: "node-dataplane",
            ok: undefined,
            detail: `cannot check: ${nodeName}'s iptables-save could not be read`,
          });
        } else if (errs.length > 0) {
          const first = asked[0] ?? errs[0]!;
          out.push({ check: "node-dataplane", ok: false, detail: `${first.message}${traceText}` });
        } else {
          out.push({
            check: "node-dataplane",
            ok: sp === undefined && packet === undefined ? undefined : true,
            detail: `${nodeName}'s kube-proxy rules for ${sp?.svcPortName ?? to.host} match the API${traceText}`,
          });
        }
        fs.push(...dp);
        fs.push(...unknownPaths(input.trace, input.client.file, nodeName));
        const health = input.client.health;
        const hb = health.filter((f) => f.severity !== "info");
        out.push({
          check: "node-health",
          ok: hb.length === 0,
          detail:
            hb.length === 0
              ? `${nodeName}: no duplicate rules, outliers or known iptables bugs`
              : `${nodeName}: ${hb.map(healthShort).join(", ")}`,
        });
        fs.push(...health);
      }
      out.push({
        check: "config",
        ok: input.config.length === 0,
        detail:
          input.config.length === 0
            ? `no pod IPs pinned in ${clientKey}'s env vars or ConfigMaps`
            : input.config.map((f) => f.message).join("; "),
      });
      fs.push(...input.config);
      return { steps: out, findings: fs };
    },
    summary(broken, all) {
      if (broken === undefined) {
        return `${clientKey} can reach ${q.to}: every link from DNS to ${client.nodeName ?? "its node"}'s rules checks out`;
      }
      const where =
        broken.check.startsWith("node") && client.nodeName !== undefined ? ` on ${client.nodeName}` : "";
      const first = broken.detail.split("; trace on ")[0]!;
      const errno = /client gets (E[A-Z]+ \("[^"]+"\))/.exec(broken.detail)?.[1];
      const health =
        broken.check !== "node-health"
          ? all.find((s) => s.check === "node-health" && s.ok === false)
          : undefined;
      return (
        `${clientKey} → ${q.to} breaks at ${broken.check}${where}: ${first}` +
        (errno === undefined ? "" : `; the client gets ${errno}`) +
        (health === undefined
          ? ""
          : `. The node's iptables is unhealthy too: ${health.detail.replace(/^[^:]+: /, "")}`)
      );
    },
  };
}
