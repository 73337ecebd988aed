/**
 * Builders of Kubernetes objects in the shape `kubectl get -o json` prints (the subset netdoctor
 * reads, plus the usual metadata), with deterministic uids so generated bundles are reproducible.
 */
import { sha256 } from "../text/sha256.ts";

type Json = Record<string, unknown>;

/** A uid derived from the object's identity (UUID-shaped, stable across runs). */
export function uidOf(seed: string): string {
  const h = [...sha256(seed)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** `kubectl get … -A -o json` wraps items in a `List`. */
export function list(items: readonly Json[]): Json {
  return { apiVersion: "v1", items, kind: "List", metadata: { resourceVersion: "" } };
}

/** A Namespace with the label the API server sets on every namespace. */
export function namespace(name: string): Json {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name, uid: uidOf(`namespace/${name}`), labels: { "kubernetes.io/metadata.name": name } },
  };
}

export interface PodSpec {
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
  readonly ip: string;
  readonly hostIP: string;
  readonly labels: Record<string, string>;
  readonly image: string;
  readonly ports?: readonly { name?: string; containerPort: number; protocol?: string; hostPort?: number }[];
  readonly env?: readonly { name: string; value?: string; configMapKeyRef?: { name: string; key: string } }[];
  readonly configMapVolumes?: readonly string[];
  readonly ready?: boolean;
  readonly hostNetwork?: boolean;
  readonly owner?: { kind: string; name: string };
}

export function pod(p: PodSpec): Json {
  const ready = p.ready ?? true;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      labels: p.labels,
      name: p.name,
      namespace: p.namespace,
      ...(p.owner === undefined
        ? {}
        : {
            ownerReferences: [
              {
                apiVersion: "apps/v1",
                controller: true,
                kind: p.owner.kind,
                name: p.owner.name,
                uid: uidOf(`${p.owner.kind}/${p.namespace}/${p.owner.name}`),
              },
            ],
          }),
      uid: uidOf(`Pod/${p.namespace}/${p.name}`),
    },
    spec: {
      containers: [
        {
          ...(p.env === undefined
            ? {}
            : {
                env: p.env.map((e) =>
                  e.configMapKeyRef === undefined
                    ? { name: e.name, value: e.value ?? "" }
                    : { name: e.name, valueFrom: { configMapKeyRef: e.configMapKeyRef } },
                ),
              }),
          image: p.image,
          imagePullPolicy: "IfNotPresent",
          name: p.labels.app ?? p.name,
          ...(p.ports === undefined ? {} : { ports: p.ports.map((x) => ({ protocol: "TCP", ...x })) }),
        },
      ],
      dnsPolicy: p.hostNetwork ? "ClusterFirstWithHostNet" : "ClusterFirst",
      ...(p.hostNetwork ? { hostNetwork: true } : {}),
      nodeName: p.node,
      restartPolicy: "Always",
      schedulerName: "default-scheduler",
      ...(p.configMapVolumes === undefined
        ? {}
        : {
            volumes: p.configMapVolumes.map((name) => ({
              configMap: { defaultMode: 420, name },
              name: `${name}-volume`,
            })),
          }),
    },
    status: {
      conditions: [
        { status: "True", type: "Initialized" },
        { status: ready ? "True" : "False", type: "Ready" },
        { status: ready ? "True" : "False", type: "ContainersReady" },
        { status: "True", type: "PodScheduled" },
      ],
      hostIP: p.hostIP,
      phase: "Running",
      podIP: p.ip,
      podIPs: [{ ip: p.ip }],
      qosClass: "BestEffort",
    },
  };
}

export interface ServiceSpecInput {
  readonly namespace: string;
  readonly name: string;
  readonly type?: "ClusterIP" | "NodePort" | "LoadBalancer";
  readonly clusterIP: string;
  readonly ports: readonly {
    name?: string;
    port: number;
    targetPort: number | string;
    protocol?: string;
    nodePort?: number;
  }[];
  readonly selector?: Record<string, string>;
  readonly labels?: Record<string, string>;
  readonly loadBalancerIPs?: readonly string[];
  readonly externalTrafficPolicy?: "Cluster" | "Local";
}

export function service(s: ServiceSpecInput): Json {
  const type = s.type ?? "ClusterIP";
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      ...(s.labels === undefined ? {} : { labels: s.labels }),
      name: s.name,
      namespace: s.namespace,
      uid: uidOf(`Service/${s.namespace}/${s.name}`),
    },
    spec: {
      clusterIP: s.clusterIP,
      clusterIPs: [s.clusterIP],
      ...(type === "ClusterIP" ? {} : { externalTrafficPolicy: s.externalTrafficPolicy ?? "Cluster" }),
      internalTrafficPolicy: "Cluster",
      ipFamilies: ["IPv4"],
      ipFamilyPolicy: "SingleStack",
      ports: s.ports.map((p) => ({
        ...(p.name === undefined ? {} : { name: p.name }),
        ...(p.nodePort === undefined ? {} : { nodePort: p.nodePort }),
        port: p.port,
        protocol: p.protocol ?? "TCP",
        targetPort: p.targetPort,
      })),
      ...(s.selector === undefined ? {} : { selector: s.selector }),
      sessionAffinity: "None",
      type,
    },
    status: {
      loadBalancer:
        s.loadBalancerIPs === undefined ? {} : { ingress: s.loadBalancerIPs.map((ip) => ({ ip })) },
    },
  };
}

export interface SliceInput {
  readonly namespace: string;
  readonly service: string;
  readonly suffix: string;
  readonly ports: readonly { name?: string; port: number; protocol?: string }[];
  readonly endpoints: readonly { ip: string; node?: string; pod?: string; ready?: boolean }[];
}

export function endpointSlice(e: SliceInput): Json {
  const name = `${e.service}-${e.suffix}`;
  return {
    addressType: "IPv4",
    apiVersion: "discovery.k8s.io/v1",
    endpoints: e.endpoints.map((ep) => ({
      addresses: [ep.ip],
      conditions: { ready: ep.ready ?? true, serving: ep.ready ?? true, terminating: false },
      ...(ep.node === undefined ? {} : { nodeName: ep.node }),
      ...(ep.pod === undefined
        ? {}
        : {
            targetRef: {
              kind: "Pod",
              name: ep.pod,
              namespace: e.namespace,
              uid: uidOf(`Pod/${e.namespace}/${ep.pod}`),
            },
          }),
    })),
    kind: "EndpointSlice",
    metadata: {
      labels: {
        "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
        "kubernetes.io/service-name": e.service,
      },
      name,
      namespace: e.namespace,
      uid: uidOf(`EndpointSlice/${e.namespace}/${name}`),
    },
    ports: e.ports.map((p) => ({
      ...(p.name === undefined ? {} : { name: p.name }),
      port: p.port,
      protocol: p.protocol ?? "TCP",
    })),
  };
}

export interface NodeInput {
  readonly name: string;
  readonly ip: string;
  readonly podCIDR: string;
  readonly roles: readonly string[];
  readonly version: string;
  readonly osImage: string;
  readonly kernel: string;
  /** flannel's node annotations (kube subnet manager, VXLAN backend) when it runs there. */
  readonly flannel?: { readonly publicIp: string; readonly vtepMac: string };
}

/** The annotations flannel's kube subnet manager writes on its node (VXLAN backend). */
function flannelAnnotations(f: NonNullable<NodeInput["flannel"]>): Record<string, string> {
  return {
    "flannel.alpha.coreos.com/backend-data": JSON.stringify({ VNI: 1, VtepMAC: f.vtepMac }),
    "flannel.alpha.coreos.com/backend-type": "vxlan",
    "flannel.alpha.coreos.com/kube-subnet-manager": "true",
    "flannel.alpha.coreos.com/public-ip": f.publicIp,
  };
}

export function node(n: NodeInput): Json {
  const labels: Record<string, string> = { "kubernetes.io/hostname": n.name, "kubernetes.io/os": "linux" };
  for (const r of n.roles) labels[`node-role.kubernetes.io/${r}`] = "true";
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      ...(n.flannel === undefined ? {} : { annotations: flannelAnnotations(n.flannel) }),
      labels,
      name: n.name,
      uid: uidOf(`Node/${n.name}`),
    },
    spec: { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR], providerID: `k3s://${n.name}` },
    status: {
      addresses: [
        { address: n.ip, type: "InternalIP" },
        { address: n.name, type: "Hostname" },
      ],
      conditions: [{ status: "True", type: "Ready", reason: "KubeletReady" }],
      nodeInfo: {
        architecture: "amd64",
        containerRuntimeVersion: "containerd://1.5.13-k3s1",
        kernelVersion: n.kernel,
        kubeProxyVersion: n.version,
        kubeletVersion: n.version,
        operatingSystem: "linux",
        osImage: n.osImage,
      },
    },
  };
}

export function configMap(namespace: string, name: string, data: Record<string, string>): Json {
  return {
    apiVersion: "v1",
    data,
    kind: "ConfigMap",
    metadata: { name, namespace, uid: uidOf(`ConfigMap/${namespace}/${name}`) },
  };
}
