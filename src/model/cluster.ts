/**
 * The API side of a cluster bundle, as plain data: the subset of Kubernetes objects netdoctor
 * reasons about (Pods, Services, EndpointSlices discovery.k8s.io/v1 and v1beta1 or, on clusters
 * without slices, v1 Endpoints, Nodes, ConfigMaps). Field names follow the Kubernetes API so a
 * `kubectl get -o json` item maps one to one.
 */

/** Where an object came from, for evidence: bundle-relative file and 1-indexed line of its uid (or name). */
export interface ObjectSource {
  readonly file: string;
  readonly line?: number;
}

export interface ObjectMeta {
  readonly name: string;
  /** Absent for cluster-scoped objects (Nodes). */
  readonly namespace?: string;
  readonly uid?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  /** `valueFrom.configMapKeyRef`, when the value comes from a ConfigMap. */
  readonly configMapKeyRef?: { readonly name: string; readonly key: string };
}

export interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol?: string;
  readonly hostPort?: number;
}

export interface Container {
  readonly name: string;
  readonly image?: string;
  readonly env?: readonly EnvVar[];
  /** `envFrom[].configMapRef.name`: every key of the ConfigMap becomes an env var. */
  readonly envFromConfigMaps?: readonly string[];
  readonly ports?: readonly ContainerPort[];
}

export interface Pod {
  readonly metadata: ObjectMeta;
  readonly nodeName?: string;
  readonly hostNetwork?: boolean;
  readonly dnsPolicy?: string;
  readonly containers: readonly Container[];
  /** ConfigMaps mounted as volumes. */
  readonly volumeConfigMaps?: readonly string[];
  readonly phase?: string;
  readonly podIP?: string;
  readonly podIPs?: readonly string[];
  readonly ready?: boolean;
  readonly source?: ObjectSource;
}

export interface ServicePort {
  readonly name?: string;
  readonly protocol: string;
  readonly port: number;
  /** A number, or the name of a container port. */
  readonly targetPort?: number | string;
  readonly nodePort?: number;
}

export interface Service {
  readonly metadata: ObjectMeta;
  readonly type: "ClusterIP" | "NodePort" | "LoadBalancer" | "ExternalName";
  /** `None` for headless Services. */
  readonly clusterIP?: string;
  readonly clusterIPs?: readonly string[];
  readonly externalIPs?: readonly string[];
  readonly externalName?: string;
  readonly ports: readonly ServicePort[];
  readonly selector?: Readonly<Record<string, string>>;
  readonly externalTrafficPolicy?: "Cluster" | "Local";
  readonly internalTrafficPolicy?: "Cluster" | "Local";
  readonly sessionAffinity?: string;
  readonly loadBalancerSourceRanges?: readonly string[];
  /** `status.loadBalancer.ingress[].ip` (entries without an IP produce no rules). */
  readonly loadBalancerIPs?: readonly string[];
  readonly healthCheckNodePort?: number;
  readonly source?: ObjectSource;
}

export interface EndpointConditions {
  readonly ready?: boolean;
  readonly serving?: boolean;
  readonly terminating?: boolean;
}

/** Topology-aware routing hints of an endpoint (`hints.forZones[].name`, `hints.forNodes[].name`). */
export interface EndpointHints {
  readonly forZones: readonly string[];
  readonly forNodes: readonly string[];
}

export interface Endpoint {
  readonly addresses: readonly string[];
  readonly conditions: EndpointConditions;
  /** `nodeName` (v1), or `topology["kubernetes.io/hostname"]` of a v1beta1 slice. */
  readonly nodeName?: string;
  /** `zone` (v1), or `topology["topology.kubernetes.io/zone"]` of a v1beta1 slice. */
  readonly zone?: string;
  readonly hints?: EndpointHints;
  /** `targetRef` when it names a Pod: `namespace/name`. */
  readonly targetPod?: string;
}

export interface EndpointPort {
  readonly name?: string;
  readonly port?: number;
  readonly protocol?: string;
}

export interface EndpointSlice {
  readonly metadata: ObjectMeta;
  /**
   * The API version the object was read as: `discovery.k8s.io/v1`, `discovery.k8s.io/v1beta1`, or
   * `v1` for a slice made from a v1 Endpoints object (see {@linkcode EndpointsObject}).
   */
  readonly apiVersion?: string;
  readonly addressType: string;
  /** The Service this slice belongs to (label `kubernetes.io/service-name`). */
  readonly serviceName?: string;
  readonly endpoints: readonly Endpoint[];
  readonly ports: readonly EndpointPort[];
  readonly source?: ObjectSource;
}

/** One address of a v1 Endpoints subset. */
export interface EndpointAddress {
  readonly ip: string;
  readonly nodeName?: string;
  /** `targetRef` when it names a Pod: `namespace/name`. */
  readonly targetPod?: string;
}

/** One subset of a v1 Endpoints object: ready and not-ready addresses sharing a port list. */
export interface EndpointSubset {
  readonly addresses: readonly EndpointAddress[];
  readonly notReadyAddresses: readonly EndpointAddress[];
  readonly ports: readonly EndpointPort[];
}

/**
 * A core v1 Endpoints object, the only endpoint source of clusters without EndpointSlices
 * (before v1.17, or with the slice controller off). Named so it does not shadow `Endpoint`.
 */
export interface EndpointsObject {
  readonly metadata: ObjectMeta;
  readonly subsets: readonly EndpointSubset[];
  readonly source?: ObjectSource;
}

/** Where the endpoints of a bundle came from, for the output ("endpoints from EndpointSlices v1beta1"). */
export interface EndpointSource {
  readonly kind: "EndpointSlice" | "Endpoints";
  /** API versions of the objects read, e.g. `["discovery.k8s.io/v1beta1"]`. */
  readonly apiVersions: readonly string[];
  /** Bundle-relative file, e.g. `cluster/endpointslices.json`. */
  readonly file: string;
  /** Why this source and not the other, when both could have been used. */
  readonly reason?: string;
}

export interface NodeAddress {
  readonly type: string;
  readonly address: string;
}

export interface Node {
  readonly metadata: ObjectMeta;
  readonly podCIDR?: string;
  readonly addresses: readonly NodeAddress[];
  readonly kubeletVersion?: string;
  readonly kubeProxyVersion?: string;
  readonly osImage?: string;
  readonly ready?: boolean;
  readonly source?: ObjectSource;
}

export interface ConfigMap {
  readonly metadata: ObjectMeta;
  readonly data: Readonly<Record<string, string>>;
  readonly source?: ObjectSource;
}

/** Everything the API said, as read from the bundle's `cluster/` directory. */
export interface ClusterState {
  readonly pods: readonly Pod[];
  readonly services: readonly Service[];
  /** The endpoints kube-proxy works from: EndpointSlices, or slices made from v1 Endpoints. */
  readonly endpointSlices: readonly EndpointSlice[];
  readonly nodes: readonly Node[];
  readonly configMaps: readonly ConfigMap[];
  /** Which objects `endpointSlices` came from; absent for clusters built in code. */
  readonly endpointSource?: EndpointSource;
}

/**
 * The endpoint source in words, e.g. `endpoints from EndpointSlices discovery.k8s.io/v1beta1` or
 * `endpoints from v1 Endpoints (cluster/endpoints.json: no EndpointSlices in the bundle)`.
 */
export function describeEndpointSource(source: EndpointSource): string {
  const versions = source.apiVersions.length === 0 ? "" : ` ${source.apiVersions.join(", ")}`;
  const what = source.kind === "EndpointSlice" ? `EndpointSlices${versions}` : "v1 Endpoints";
  return `endpoints from ${what} (${source.file}${source.reason === undefined ? "" : `: ${source.reason}`})`;
}

/** `namespace/name` of a namespaced object. */
export function objectKey(meta: ObjectMeta): string {
  return meta.namespace === undefined ? meta.name : `${meta.namespace}/${meta.name}`;
}

/** The node's InternalIP (the address kube-proxy treats as the node's own), if any. */
export function nodeInternalIp(node: Node): string | undefined {
  return node.addresses.find((a) => a.type === "InternalIP")?.address;
}
