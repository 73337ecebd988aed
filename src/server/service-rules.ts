import { KubeConfig } from "@kubernetes/client-node";
import { KubeApi } from "../collect/kube-api.ts";
import { convertList, type KindTypes, type ObjectKind } from "../collect/kube-objects.ts";
import { expectedServicePorts } from "../kube-proxy/expected-state.ts";
import type { KubeProxyIndex } from "../kube-proxy/kube-proxy-index.ts";
import { reconcileNode } from "../kube-proxy/reconcile-node.ts";
import type { ExporterMetrics } from "./exporter-metrics.ts";
import { type ServiceRuleCounts, serviceRuleCounts } from "./node-metrics.ts";

/** Page size of list calls, as kubectl's `--chunk-size` default. */
const PAGE = 500;

/** Options of {@linkcode ServiceRulesChecker}. */
export interface ServiceRulesOptions {
  readonly api: KubeApi;
  readonly node: string;
  /** Least time between two API comparisons (each lists every Service and EndpointSlice). */
  readonly everyMs: number;
  /** Each list call is aborted after this long. */
  readonly timeoutMs: number;
  readonly metrics: ExporterMetrics;
  readonly log: (line: string) => void;
  /** Milliseconds clock (injectable for tests). */
  readonly now?: () => number;
}

/**
 * Compares the node's kube-proxy rules with the Services and EndpointSlices of the API and
 * publishes how many Service ports are stale or missing on the node. Runs at most once per
 * `everyMs`, on the rules of the sample that was just taken, so the API sees a bounded load
 * (one set of list calls per node per period) and the index of the rules exists only then.
 */
export class ServiceRulesChecker {
  readonly #o: ServiceRulesOptions;
  readonly #now: () => number;
  #last = Number.NEGATIVE_INFINITY;
  #failing = false;
  #warnedNode = false;

  constructor(options: ServiceRulesOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** Loads API access: the pod's service account (`inCluster`) or a kubeconfig file. */
  static connect(target: { readonly inCluster: true } | { readonly kubeconfig: string }): KubeApi {
    if ("kubeconfig" in target) return KubeApi.load({ kubeconfig: target.kubeconfig });
    const kc = new KubeConfig();
    kc.loadFromCluster();
    return new KubeApi(kc);
  }

  /** Whether the next sample should index kube-proxy's rules for a comparison. */
  due(): boolean {
    return this.#now() - this.#last >= this.#o.everyMs;
  }

  /** Lists the API objects, reconciles them with the index and publishes the counts. */
  async check(index: KubeProxyIndex): Promise<ServiceRuleCounts | undefined> {
    this.#last = this.#now();
    const { node, metrics, log } = this.#o;
    try {
      const [services, endpointSlices, nodes] = await Promise.all([
        this.#list("Service", "/api/v1/services"),
        this.#list("EndpointSlice", "/apis/discovery.k8s.io/v1/endpointslices"),
        this.#list("Node", "/api/v1/nodes"),
      ]);
      if (!this.#warnedNode && !nodes.some((n) => n.metadata.name === node)) {
        this.#warnedNode = true;
        log(
          `netdoctor exporter: no Node named "${node}" in the API; set --node (or NODE_NAME) to spec.nodeName`,
        );
      }
      const ports = expectedServicePorts({ services, endpointSlices, nodes, pods: [], configMaps: [] });
      const result = reconcileNode(ports, index, { node, file: "iptables-save" });
      const counts = serviceRuleCounts(result.checks.values());
      metrics.setServiceRules(counts);
      if (this.#failing) log("netdoctor exporter: the Kubernetes API answers again");
      this.#failing = false;
      return counts;
    } catch (error) {
      metrics.countApiError();
      if (!this.#failing) {
        log(
          `netdoctor exporter: ${error instanceof Error ? error.message : String(error)}; keeping the last Service-rule counts`,
        );
      }
      this.#failing = true;
      return undefined;
    }
  }

  async #list<K extends ObjectKind>(kind: K, path: string): Promise<KindTypes[K][]> {
    const items: unknown[] = [];
    let token: string | undefined;
    do {
      const query = `?limit=${PAGE}${token === undefined ? "" : `&continue=${encodeURIComponent(token)}`}`;
      const page = (await this.#o.api.getJson(path + query, {
        action: `list ${kind}s`,
        signal: AbortSignal.timeout(this.#o.timeoutMs),
      })) as { items?: unknown[]; metadata?: { continue?: string } };
      items.push(...(page.items ?? []));
      token = page.metadata?.continue || undefined;
    } while (token !== undefined);
    return convertList(kind, { kind: `${kind}List`, items }, { file: path }).items;
  }
}
