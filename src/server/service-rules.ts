import { type ClusterList, discoverEndpointApis, type EndpointApis } from "../collect/cluster-lists.ts";
import { selectEndpointSource } from "../collect/endpoint-objects.ts";
import type { KubeApi } from "../collect/kube-api.ts";
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

/** The endpoint lists to read, as API discovery found them (the lists of kind EndpointSlice and Endpoints). */
interface EndpointLists {
  readonly apis: EndpointApis;
  readonly slices?: ClusterList;
  readonly endpoints?: ClusterList;
}

/**
 * Compares the node's kube-proxy rules with the Services and endpoints of the API and publishes
 * how many Service ports are stale or missing on the node. Runs at most once per `everyMs`, on the
 * rules of the sample that was just taken, so the API sees a bounded load (one set of list calls
 * per node per period) and the index of the rules exists only then.
 *
 * The endpoints are those the cluster serves, found by API discovery as `collect` does:
 * EndpointSlices discovery.k8s.io/v1 (v1.21+) or v1beta1 (v1.17-v1.24), plus v1 Endpoints where
 * there is no v1 (kube-proxy before v1.19 reads them). Discovery is repeated after a failed
 * comparison, so an upgraded API server is followed.
 */
export class ServiceRulesChecker {
  readonly #o: ServiceRulesOptions;
  readonly #now: () => number;
  #last = Number.NEGATIVE_INFINITY;
  #failing = false;
  #warnedNode = false;
  #lists: EndpointLists | undefined;
  #toldApis = false;

  constructor(options: ServiceRulesOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Loads API access: the pod's service account (`inCluster`) or a kubeconfig file. The Kubernetes
   * client is loaded here, only by an exporter that compares with the API.
   */
  static async connect(
    target: { readonly inCluster: true } | { readonly kubeconfig: string },
  ): Promise<KubeApi> {
    const { KubeApi } = await import("../collect/kube-api.ts");
    return "kubeconfig" in target ? KubeApi.load({ kubeconfig: target.kubeconfig }) : KubeApi.inCluster();
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
      const lists = await this.#endpointLists();
      const [services, nodes, slices, endpoints] = await Promise.all([
        this.#list("Service", "/api/v1/services"),
        this.#list("Node", "/api/v1/nodes"),
        lists.slices === undefined
          ? undefined
          : this.#list("EndpointSlice", lists.slices.path, lists.slices.apiVersion),
        lists.endpoints === undefined ? undefined : this.#list("Endpoints", lists.endpoints.path, "v1"),
      ]);
      if (!this.#warnedNode && !nodes.some((n) => n.metadata.name === node)) {
        this.#warnedNode = true;
        log(
          `netdoctor exporter: no Node named "${node}" in the API; set --node (or NODE_NAME) to spec.nodeName`,
        );
      }
      const chosen = selectEndpointSource({
        ...(slices === undefined ? {} : { slices: { file: lists.slices!.path, items: slices } }),
        ...(endpoints === undefined ? {} : { endpoints: { file: lists.endpoints!.path, items: endpoints } }),
        nodes,
      });
      const ports = expectedServicePorts({
        services,
        endpointSlices: chosen.slices,
        nodes,
        pods: [],
        configMaps: [],
        ...(chosen.source === undefined ? {} : { endpointSource: chosen.source }),
      });
      const result = reconcileNode(ports, index, { node, file: "iptables-save" });
      const counts = serviceRuleCounts(result.checks.values());
      metrics.setServiceRules(counts);
      if (this.#failing) log("netdoctor exporter: the Kubernetes API answers again");
      this.#failing = false;
      return counts;
    } catch (error) {
      metrics.countApiError();
      // The server may have been upgraded (v1beta1 slices gone): discover again next time.
      this.#lists = undefined;
      if (!this.#failing) {
        log(
          `netdoctor exporter: ${error instanceof Error ? error.message : String(error)}; keeping the last Service-rule counts`,
        );
      }
      this.#failing = true;
      return undefined;
    }
  }

  /** Which endpoint lists this server serves (API discovery, once until a comparison fails). */
  async #endpointLists(): Promise<EndpointLists> {
    if (this.#lists !== undefined) return this.#lists;
    const { lists, apis } = await discoverEndpointApis(this.#o.api, AbortSignal.timeout(this.#o.timeoutMs));
    const found: EndpointLists = {
      apis,
      ...spread(
        "slices",
        lists.find((l) => l.kind === "EndpointSlice"),
      ),
      ...spread(
        "endpoints",
        lists.find((l) => l.kind === "Endpoints"),
      ),
    };
    if (apis.endpointSlices !== "discovery.k8s.io/v1" && !this.#toldApis) {
      this.#toldApis = true;
      this.#o.log(
        apis.endpointSlices === undefined
          ? "netdoctor exporter: the API serves no EndpointSlices; comparing with v1 Endpoints"
          : `netdoctor exporter: the API serves EndpointSlices ${apis.endpointSlices} (no v1); comparing with them and v1 Endpoints (kube-proxy before v1.19 reads Endpoints)`,
      );
    }
    this.#lists = found;
    return found;
  }

  /**
   * Every item of a list, page by page. Items of a list response carry no apiVersion (the list
   * does); it is added, as `kubectl get -o json` shows it, so v1beta1 slices are read as such.
   */
  async #list<K extends ObjectKind>(kind: K, path: string, apiVersion = "v1"): Promise<KindTypes[K][]> {
    const items: unknown[] = [];
    let token: string | undefined;
    do {
      const query = `?limit=${PAGE}${token === undefined ? "" : `&continue=${encodeURIComponent(token)}`}`;
      const page = (await this.#o.api.getJson(path + query, {
        action: `list ${kind}s`,
        signal: AbortSignal.timeout(this.#o.timeoutMs),
      })) as { items?: unknown[]; metadata?: { continue?: string } };
      for (const item of page.items ?? []) items.push({ apiVersion, kind, ...(item as object) });
      token = page.metadata?.continue || undefined;
    } while (token !== undefined);
    return convertList(kind, { kind: `${kind}List`, items }, { file: path }).items;
  }
}

/** `{ [key]: value }`, or `{}` when value is undefined (exactOptionalPropertyTypes). */
function spread<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
