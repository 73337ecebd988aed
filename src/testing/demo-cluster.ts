/**
 * Test helper: the demo generator's API lists (src/demo/) read the way a bundle's are, by the
 * collector's schema checks, into the {@linkcode ClusterState} the diagnosis code takes.
 */
import { convertList } from "../collect/kube-objects.ts";
import type { ApiLists } from "../demo/build-bundle.ts";
import type { ClusterState } from "../model/cluster.ts";

type Json = Record<string, unknown>;

/** The API lists as ClusterState (missing lists read as empty). */
export function clusterOf(
  api: Pick<ApiLists, "services" | "endpointslices"> & Partial<ApiLists>,
): ClusterState {
  const conv = <K extends "Pod" | "Service" | "EndpointSlice" | "Node" | "ConfigMap">(
    kind: K,
    data: Json | undefined,
  ) => (data === undefined ? [] : convertList(kind, data, { file: kind }).items);
  return {
    pods: conv("Pod", api.pods),
    services: conv("Service", api.services),
    endpointSlices: conv("EndpointSlice", api.endpointslices),
    nodes: conv("Node", api.nodes),
    configMaps: conv("ConfigMap", api.configmaps),
  };
}
