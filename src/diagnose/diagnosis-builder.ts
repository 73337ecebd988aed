/**
 * Assembles `netdoctor diagnose`: the `--from/--to` walk (dns, service, endpoints, client node,
 * node data plane, node health, config) or, without a question, every Service on every node.
 * Nodes are fed one at a time (their dumps can be huge), so memory stays bounded by one node.
 */

import { nodeKindOf } from "../findings/kube-proxy-restart.ts";
import type { IpsetSave } from "../ipset/ipset-model.ts";
import type { NodeEvidence } from "../known-bugs/node-evidence.ts";
import { nodeHealthFindings } from "../known-bugs/node-health.ts";
import { ExpectedPorts } from "../kube-proxy/expected-ports.ts";
import type { KubeProxyNodeFiles } from "../kube-proxy/kube-proxy-files.ts";
import type { KubeProxyIndex } from "../kube-proxy/kube-proxy-index.ts";
import { type ReconcileResult, reconcileNode } from "../kube-proxy/reconcile-node.ts";
import { type ClusterState, describeEndpointSource } from "../model/cluster.ts";
import {
  type CheckName,
  type CheckStep,
  type Diagnosis,
  type NodeSummary,
  verdictOf,
} from "../model/diagnosis.ts";
import type { Finding } from "../model/finding.ts";
import type { Ruleset } from "../model/ruleset.ts";
import type { TraceResult } from "../model/trace.ts";
import { type PodIpLookup, podIpLookup } from "../net/pod-ip-lookup.ts";
import { outlierFindings } from "../scan/scan-findings.ts";
import type { NodeScan } from "../scan/scan-node.ts";
import type { HostPathInput } from "../trace/host-path-input.ts";
import type { NodeHostEvidence } from "../trace/trace-host.ts";
import { configPodIpFindings } from "./config-pod-ip.ts";
import { fullCheck } from "./full-check.ts";
import type { HostFacts } from "./host-facts.ts";
import { ipOwner, untracedHost, withNftMode } from "./host-node.ts";
import type { ClientNodeFacts, DumpState } from "./link.ts";
import { type NetpolEvidence, policyNodes } from "./netpol-evidence.ts";
import { type DataplaneFacts, dataplaneFacts } from "./node-dataplane-facts.ts";
import { nodeSummary } from "./node-summary.ts";
import { type Question, resolveQuestion } from "./question.ts";
import { questionTrace } from "./question-trace.ts";
import { bundleLink, walkQuestion } from "./walk.ts";

/** A diagnose question: `--from NS/POD --to HOST:PORT` (`-n` for a bare pod name). */
export interface DiagnoseQuestion {
  readonly from: string;
  readonly to: string;
  readonly namespace?: string;
  /** The app-config check of `--jar` (collect/config-diagnosis.ts), merged into the config link. */
  readonly appConfig?: { readonly step: CheckStep; readonly findings: readonly Finding[] };
}

/** One node directory as read from the bundle. */
export interface NodeInput {
  readonly evidence: NodeEvidence;
  readonly index?: KubeProxyIndex;
  /** kube-proxy's metrics and mode files (proxy mode and sync-health evidence). */
  readonly kubeProxy?: KubeProxyNodeFiles;
  readonly problems: readonly Finding[];
  /** The parsed dump, only for the client node of a question (for the trace). */
  readonly ruleset?: Ruleset;
  /** The client node's nft ruleset, legacy tables and interfaces (whole-host trace, issue 15). */
  readonly host?: NodeHostEvidence;
  /** The node's `ipset save`, for `-m set` rules on the traced path (client node only). */
  readonly ipsets?: IpsetSave;
}

export interface DiagnoseContext {
  readonly cluster: ClusterState;
  readonly clusterName?: string;
  /** bundle.json's `collectedAt` (ISO-8601): the "now" of kube-proxy's last-sync age. */
  readonly collectedAt?: string;
  readonly problems: readonly Finding[];
  readonly hostPath?: HostPathInput; // host files: the route, overlay and endpoint-node links
  /** nft evidence of the path's nodes past the client's (the host-firewall link; link.ts). */
  readonly pathHosts?: ReadonlyMap<string, NodeHostEvidence>;
}

/**
 * Reconciliation reports `undecided` (with the reason) for a proxy mode netdoctor does not analyse;
 * read it as optional so this side works with and without it.
 */
type Reconciled = ReconcileResult & { readonly undecided?: string };

const SEVERITY_ORDER = { error: 0, warning: 1, info: 2 } as const;
const CHECK_ORDER: readonly CheckName[] = [
  "bundle",
  "dns",
  "service",
  "endpoints",
  "client-node",
  "host-firewall",
  "network-policy",
  "node-dataplane",
  "route",
  "overlay",
  "endpoint-node",
  "node-health",
  "config",
];

interface NodeResult extends DataplaneFacts {
  readonly node: string;
  readonly file: string;
  readonly dump: DumpState;
  readonly scan?: NodeScan;
  readonly health: readonly Finding[];
  readonly problems: readonly Finding[];
  readonly summary: NodeSummary;
  readonly trace?: TraceResult;
  readonly traceError?: string;
  readonly host?: HostFacts | undefined;
}

function dumpState(ev: NodeEvidence, file: string, problems: readonly Finding[]): DumpState {
  if (ev.scan !== undefined) return "read";
  if (ev.saveError !== undefined && ev.saveError.exitCode !== 0) return "failed";
  return problems.some((p) => p.evidence[0]?.file === file) ? "unparsable" : "missing";
}

/** Feed with {@linkcode addNode} for every node directory, then {@linkcode finish}. */
export class DiagnosisBuilder {
  readonly #ctx: DiagnoseContext;
  readonly #ports: ExpectedPorts;
  #lookup: PodIpLookup | undefined; // built once, when asked: it walks every EndpointSlice
  readonly #question: Question | undefined;
  readonly #appConfig: DiagnoseQuestion["appConfig"];
  readonly #nodes: NodeResult[] = [];
  #netpol: NetpolEvidence | undefined;

  constructor(ctx: DiagnoseContext, question?: DiagnoseQuestion) {
    this.#ctx = ctx;
    this.#ports = new ExpectedPorts(ctx.cluster);
    this.#question = question === undefined ? undefined : resolveQuestion(ctx.cluster, this.#ports, question);
    this.#appConfig = question?.appConfig;
  }

  /** The node whose full ruleset the trace needs (pass it to {@linkcode addNode} as `ruleset`). */
  get clientNode(): string | undefined {
    return this.#question?.client.nodeName;
  }

  /** The nodes whose NetworkPolicy rules the question's connection meets (for {@linkcode finish}). */
  get policyNodes(): string[] {
    return this.#question === undefined ? [] : policyNodes(this.#question, this.#ctx.cluster);
  }

  addNode(input: NodeInput): void {
    const ev = input.evidence;
    const node = ev.node;
    const file = ev.scan?.file ?? `nodes/${node}/iptables-save.txt`;
    const q = this.#question;
    const isClient = q !== undefined && q.client.nodeName === node;
    let reconciled: Reconciled | undefined;
    const nodeObj = this.#ctx.cluster.nodes.find((n) => n.metadata.name === node);
    const nodeKind = nodeKindOf(nodeObj);
    if (input.index !== undefined && (q === undefined || isClient)) {
      const zone = nodeObj?.metadata.labels?.["topology.kubernetes.io/zone"];
      const collectedAt =
        this.#ctx.collectedAt === undefined ? Number.NaN : Date.parse(this.#ctx.collectedAt);
      const ownerOfIp = ipOwner((this.#lookup ??= podIpLookup(this.#ctx.cluster)));
      // A question reconciles its Service's and DNS's ports only: only those need expected state.
      const ports = q === undefined ? this.#ports.all() : this.#ports.inClusterOrder([q.expected, q.dnsPort]);
      const iptables = reconcileNode(ports, input.index, {
        node,
        file,
        nodeKind,
        ...(zone === undefined ? {} : { zone }),
        ...(input.kubeProxy === undefined ? {} : { evidence: input.kubeProxy }),
        ...(Number.isNaN(collectedAt) ? {} : { collectedAt }),
        ownerOfIp,
        ...(q === undefined ? {} : { only: q.reconcileOnly }),
      });
      reconciled = withNftMode(iptables, input.host, { ports: () => this.#ports.all(), node, ownerOfIp });
    }
    const plane = dataplaneFacts(reconciled, this.#ctx.cluster, { node, input, question: q });
    const rules = input.ruleset !== undefined || input.host?.nft !== undefined;
    const traced =
      isClient && rules && reconciled?.undecided === undefined
        ? questionTrace(input, { node, file, ipsets: input.ipsets, question: q, cluster: this.#ctx.cluster })
        : {};
    this.#nodes.push({
      node,
      file,
      dump: dumpState(ev, file, input.problems),
      ...(ev.scan === undefined ? {} : { scan: ev.scan }),
      ...plane,
      health: nodeHealthFindings(ev, { nodeKind }),
      problems: input.problems,
      summary: nodeSummary(ev, {
        file,
        ...(reconciled === undefined ? {} : { reconciled }),
        ...(input.index === undefined ? {} : { index: input.index }),
        ...(input.kubeProxy === undefined ? {} : { kubeProxyFiles: input.kubeProxy }),
        ...(this.#ctx.collectedAt === undefined ? {} : { collectedAt: this.#ctx.collectedAt }),
      }),
      ...traced,
      host: traced.host ?? untracedHost(input.host, input.ruleset, node),
    });
  }

  /** The diagnosis; `netpol`: the bundle's NetworkPolicy evidence for the network-policy link. */
  finish(netpol?: NetpolEvidence): Diagnosis {
    this.#netpol = netpol;
    const scans = this.#nodes.flatMap((n) => (n.scan === undefined ? [] : [n.scan]));
    const outliers = outlierFindings(scans);
    const nodes = this.#nodes.map((n) => n.summary).sort((a, b) => (a.node < b.node ? -1 : 1));
    const q = this.#question;
    const problems = [...this.#ctx.problems, ...this.#nodes.flatMap((n) => n.problems)];
    const bundle = bundleLink(
      {
        services: this.#ctx.cluster.services.length,
        pods: this.#ctx.cluster.pods.length,
        nodeDumps: this.#nodes.filter((n) => n.dump === "read").length,
        ...endpointSourceFact(this.#ctx.cluster),
        problems: problems.filter((p) => p.evidence[0]?.file !== "bundle.json"),
      },
      q === undefined ? "everything" : { clientNode: q.client.nodeName ?? "\0" },
    );
    const result =
      q === undefined
        ? fullCheck(this.#nodes, { ports: this.#ports.all(), outliers, bundle: bundle.step })
        : this.#walk(q, outliers, bundle);
    const findings = [...problems, ...result.findings].sort(
      (a, b) =>
        SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || (a.node ?? "").localeCompare(b.node ?? ""),
    );
    const steps = [...result.steps].sort(
      (a, b) => CHECK_ORDER.indexOf(a.check) - CHECK_ORDER.indexOf(b.check),
    );
    const v = verdictOf(steps);
    const client = q === undefined ? undefined : this.#nodes.find((n) => n.node === q.client.nodeName);
    return {
      ok: v.verdict === "reachable",
      verdict: v.verdict,
      ...(v.verdict === "broken" && v.at !== undefined ? { brokenAt: v.at } : {}),
      ...(v.verdict === "undecided" && v.at !== undefined ? { undecidedAt: v.at } : {}),
      atRisk: v.atRisk,
      summary: result.summary,
      ...(this.#ctx.clusterName === undefined ? {} : { cluster: this.#ctx.clusterName }),
      ...(q === undefined ? {} : { question: q.summaryQuestion }),
      steps,
      findings,
      ...(client?.trace === undefined ? {} : { trace: client.trace }),
      ...("pathTrace" in result ? { pathTrace: result.pathTrace as TraceResult } : {}),
      nodes,
    };
  }

  #walk(q: Question, outliers: readonly Finding[], bundle: ReturnType<typeof bundleLink>) {
    const cluster = this.#ctx.cluster;
    const n = this.#nodes.find((x) => x.node === q.client.nodeName);
    const node: ClientNodeFacts | undefined =
      n === undefined
        ? undefined
        : {
            ...n,
            health: [...n.health, ...outliers.filter((f) => f.node === n.node)],
          };
    const gaps = new Set(
      this.#ctx.problems.map((p) => p.evidence[0]?.file ?? "").filter((f) => f.startsWith("cluster/")),
    );
    return walkQuestion(
      {
        question: q,
        cluster,
        gaps,
        ...(node === undefined ? {} : { node }),
        config: configPodIpFindings(q.client, cluster, (this.#lookup ??= podIpLookup(cluster))),
        ...(this.#ctx.hostPath === undefined ? {} : { hostPathInput: this.#ctx.hostPath }),
        ...(this.#ctx.pathHosts === undefined ? {} : { pathHosts: this.#ctx.pathHosts }),
        ...(this.#netpol === undefined ? {} : { netpol: this.#netpol }),
        ...(this.#appConfig === undefined ? {} : { appConfig: this.#appConfig }),
      },
      { bundle, sickElsewhere: sickNodes(this.#nodes, q.client.nodeName, outliers) },
    );
  }
}

/** Where the endpoints came from, when not plain discovery.k8s.io/v1 EndpointSlices (v1beta1, v1 Endpoints). */
function endpointSourceFact(cluster: ClusterState): { endpointSource?: string } {
  const src = cluster.endpointSource;
  if (src === undefined) return {};
  const plain = src.kind === "EndpointSlice" && src.apiVersions.every((v) => v === "discovery.k8s.io/v1");
  return plain ? {} : { endpointSource: describeEndpointSource(src) };
}

function sickNodes(
  nodes: readonly NodeResult[],
  except: string | undefined,
  outliers: readonly Finding[],
): string[] {
  return nodes
    .filter((n) => n.node !== except)
    .flatMap((n) => {
      const codes = [...n.health, ...outliers.filter((f) => f.node === n.node)]
        .filter((f) => f.severity === "error")
        .map((f) => f.code);
      return codes.length === 0 ? [] : [`${n.node} (${[...new Set(codes)].join(", ")})`];
    });
}
