/**
 * The list endpoints of {@linkcode FakeKubeApi}: nodes, pods, services, endpoints, EndpointSlices
 * of the discovery versions served (with API discovery), ConfigMaps, NetworkPolicies, namespaces,
 * and RBAC refusals of the paths a test forbids.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { sendJson, sendList, sendStatus } from "./fake-kube-responses.ts";

/** The objects the fake server lists, and the list paths it refuses. */
export interface FakeListSources {
  readonly nodes: readonly { name: string; labels?: Record<string, string> }[];
  readonly pods?: readonly object[];
  readonly services?: readonly object[];
  readonly endpointslices?: readonly object[];
  /** v1 Endpoints objects (`/api/v1/endpoints`). */
  readonly endpoints?: readonly object[];
  /**
   * Versions of discovery.k8s.io the server serves (API discovery and the list paths), default
   * `["v1"]`; `[]` answers 404 like a cluster before v1.17.
   */
  readonly discoveryVersions?: readonly string[];
  readonly configmaps?: readonly object[];
  readonly networkpolicies?: readonly object[];
  readonly namespaces?: readonly object[];
  /** List paths that answer 403 as RBAC would (e.g. `/apis/discovery.k8s.io/v1/endpointslices`). */
  readonly forbid?: readonly string[];
}

/** The Node objects of `o.nodes`, each with its hostname label, kubelet version and InternalIP. */
function nodeObjects(o: FakeListSources): object[] {
  return o.nodes.map((n) => ({
    metadata: { name: n.name, labels: { "kubernetes.io/hostname": n.name, ...(n.labels ?? {}) } },
    status: {
      nodeInfo: { kubeletVersion: "v1.27.4+k3s1" },
      addresses: [{ type: "InternalIP", address: "198.18.0.1" }],
    },
  }));
}

/** Answers the discovery.k8s.io API group and its EndpointSlice lists; false for other paths. */
function serveDiscovery(res: ServerResponse, url: URL, o: FakeListSources): boolean {
  const path = url.pathname;
  const versions = o.discoveryVersions ?? ["v1"];
  if (path === "/apis/discovery.k8s.io" && versions.length > 0) {
    const gv = (v: string) => ({ groupVersion: `discovery.k8s.io/${v}`, version: v });
    sendJson(res, {
      kind: "APIGroup",
      apiVersion: "v1",
      name: "discovery.k8s.io",
      versions: versions.map(gv),
      preferredVersion: gv(versions[0]!),
    });
    return true;
  }
  const slices = /^\/apis\/discovery\.k8s\.io\/(v1|v1beta1)\/endpointslices$/.exec(path);
  if (slices === null || !versions.includes(slices[1]!)) return false;
  const apiVersion = `discovery.k8s.io/${slices[1]}`;
  sendList(res, url, { kind: "EndpointSlice", items: o.endpointslices ?? [], apiVersion });
  return true;
}

/**
 * Answers `req` when it is a GET of a cluster-wide list (or of a forbidden path); false when it is
 * not, for the pod routes to try.
 */
export function serveList(
  req: IncomingMessage,
  res: ServerResponse,
  options: { url: URL; sources: FakeListSources },
): boolean {
  const { url, sources: o } = options;
  if (req.method !== "GET") return false;
  const path = url.pathname;
  if (o.forbid?.includes(path)) {
    const resource = path.split("/").at(-1);
    sendStatus(
      res,
      403,
      `${resource} is forbidden: User "tester" cannot list resource "${resource}" at the cluster scope`,
      "Forbidden",
    );
    return true;
  }
  const lists: Readonly<Record<string, { kind: string; items: () => readonly object[] }>> = {
    "/api/v1/nodes": { kind: "Node", items: () => nodeObjects(o) },
    "/api/v1/pods": { kind: "Pod", items: () => o.pods ?? [] },
    "/api/v1/services": { kind: "Service", items: () => o.services ?? [] },
    "/api/v1/endpoints": { kind: "Endpoints", items: () => o.endpoints ?? [] },
    "/api/v1/configmaps": { kind: "ConfigMap", items: () => o.configmaps ?? [] },
    "/apis/networking.k8s.io/v1/networkpolicies": {
      kind: "NetworkPolicy",
      items: () => o.networkpolicies ?? [],
    },
    "/api/v1/namespaces": { kind: "Namespace", items: () => o.namespaces ?? [] },
  };
  const list = Object.hasOwn(lists, path) ? lists[path] : undefined;
  if (list !== undefined) {
    sendList(res, url, { kind: list.kind, items: list.items() });
    return true;
  }
  return serveDiscovery(res, url, o);
}
