import { createWriteStream, type WriteStream } from "node:fs";
import { chmod, rm } from "node:fs/promises";
import { join } from "node:path";
import { FILE_MODE } from "./bundle-writer.ts";
import type { KubeApi } from "./kube-api.ts";
import { KubeApiError } from "./kube-api-error.ts";

/** One `cluster/*.json` file: what `kubectl get RESOURCE -A -o json` would print. */
export interface ClusterList {
  /** File name under `cluster/`. */
  readonly file: string;
  /** Collection path on the API server. */
  readonly path: string;
  readonly kind: string;
  readonly apiVersion: string;
}

/** The lists every bundle holds. Secrets are never listed. */
export const CLUSTER_LISTS: readonly ClusterList[] = [
  { file: "nodes.json", path: "/api/v1/nodes", kind: "Node", apiVersion: "v1" },
  { file: "pods.json", path: "/api/v1/pods", kind: "Pod", apiVersion: "v1" },
  { file: "services.json", path: "/api/v1/services", kind: "Service", apiVersion: "v1" },
  {
    file: "endpointslices.json",
    path: "/apis/discovery.k8s.io/v1/endpointslices",
    kind: "EndpointSlice",
    apiVersion: "discovery.k8s.io/v1",
  },
  {
    file: "networkpolicies.json",
    path: "/apis/networking.k8s.io/v1/networkpolicies",
    kind: "NetworkPolicy",
    apiVersion: "networking.k8s.io/v1",
  },
  { file: "namespaces.json", path: "/api/v1/namespaces", kind: "Namespace", apiVersion: "v1" },
];

/** The v1 Endpoints list: what kube-proxy reads on clusters without (or before) EndpointSlices. */
export const ENDPOINTS_LIST: ClusterList = {
  file: "endpoints.json",
  path: "/api/v1/endpoints",
  kind: "Endpoints",
  apiVersion: "v1",
};

/** What the server serves for endpoints and which lists `collect` takes (recorded in bundle.json). */
export interface EndpointApis {
  /** Versions of `discovery.k8s.io` the server serves, e.g. `["discovery.k8s.io/v1beta1"]`; empty when none. */
  readonly served: readonly string[];
  /** The EndpointSlice version listed, when any. */
  readonly endpointSlices?: string;
  /** Whether v1 Endpoints are listed too (no slices, or only v1beta1: clusters older than v1.21). */
  readonly endpoints: boolean;
}

interface ApiGroup {
  versions?: { groupVersion?: string }[];
}

/**
 * Asks the server which `discovery.k8s.io` versions it serves (API discovery) and picks the lists:
 * EndpointSlices v1 (v1.21+) or v1beta1 (v1.17-v1.24), plus v1 Endpoints when there is no v1
 * (before v1.19 kube-proxy read Endpoints; without the group they are all there is).
 */
export async function discoverEndpointApis(
  api: KubeApi,
  signal?: AbortSignal,
): Promise<{ lists: ClusterList[]; apis: EndpointApis }> {
  let served: string[] = [];
  try {
    const group = (await api.getJson("/apis/discovery.k8s.io", {
      action: "discover the API group discovery.k8s.io",
      ...(signal ? { signal } : {}),
    })) as ApiGroup;
    served = (group.versions ?? [])
      .map((v) => v.groupVersion)
      .filter((v): v is string => typeof v === "string");
  } catch (error) {
    // 404: the group is not served (Kubernetes before v1.17, or disabled). Anything else is real.
    if (!(error instanceof KubeApiError) || error.status !== 404) throw error;
  }
  const version = ["discovery.k8s.io/v1", "discovery.k8s.io/v1beta1"].find((v) => served.includes(v));
  const lists: ClusterList[] = CLUSTER_LISTS.filter((l) => l.kind !== "EndpointSlice");
  if (version !== undefined) {
    lists.push({
      file: "endpointslices.json",
      path: `/apis/${version}/endpointslices`,
      kind: "EndpointSlice",
      apiVersion: version,
    });
  }
  const endpoints = version !== "discovery.k8s.io/v1";
  if (endpoints) lists.push(ENDPOINTS_LIST);
  return {
    lists,
    apis: { served, ...(version === undefined ? {} : { endpointSlices: version }), endpoints },
  };
}

/** Only with `--configmaps`: they can hold pinned pod IPs, but also things the user may not want to share. */
export const CONFIGMAP_LIST: ClusterList = {
  file: "configmaps.json",
  path: "/api/v1/configmaps",
  kind: "ConfigMap",
  apiVersion: "v1",
};

/** Page size, as kubectl's `--chunk-size` default. */
const PAGE = 500;

function write(stream: WriteStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (err) => (err ? reject(err) : resolve()));
  });
}

interface ListPage {
  items?: Record<string, unknown>[];
  metadata?: { continue?: string };
}

/**
 * Writes one list as a `kind: List` document (kubectl's `-o json` shape, each item with its
 * apiVersion and kind), page by page so a 50,000-pod cluster never sits in memory at once.
 * Returns the number of items; `onItem` sees each item (used to keep the node list).
 */
export async function writeClusterList(
  api: KubeApi,
  list: ClusterList,
  options: { out: string; signal?: AbortSignal; onItem?: (item: Record<string, unknown>) => void },
): Promise<number> {
  const path = join(options.out, "cluster", list.file);
  const stream = createWriteStream(path, { mode: FILE_MODE });
  const closed = new Promise<void>((resolve, reject) => {
    stream.on("close", resolve);
    stream.on("error", reject);
  });
  let count = 0;
  try {
    await write(
      stream,
      '{\n  "apiVersion": "v1",\n  "kind": "List",\n  "metadata": {\n    "resourceVersion": ""\n  },\n  "items": [',
    );
    let next: string | undefined;
    do {
      const query = new URLSearchParams({ limit: String(PAGE) });
      if (next !== undefined) query.set("continue", next);
      const page = (await api.getJson(`${list.path}?${query}`, {
        action: `list ${list.kind}s (${list.path})`,
        ...(options.signal ? { signal: options.signal } : {}),
      })) as ListPage;
      const parts: string[] = [];
      for (const item of page.items ?? []) {
        const full = { apiVersion: list.apiVersion, kind: list.kind, ...item };
        options.onItem?.(full);
        const text = JSON.stringify(full, null, 2).replaceAll("\n", "\n    ");
        parts.push(`${count++ === 0 ? "" : ","}\n    ${text}`);
      }
      if (parts.length > 0) await write(stream, parts.join(""));
      next = page.metadata?.continue || undefined;
    } while (next !== undefined);
    await write(stream, `${count === 0 ? "" : "\n  "}]\n}\n`);
  } catch (error) {
    // A half-written list would read as malformed JSON; a missing one says what it is.
    stream.end();
    await closed;
    await rm(path, { force: true });
    throw error;
  }
  stream.end();
  await closed;
  await chmod(path, FILE_MODE);
  return count;
}
