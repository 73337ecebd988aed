/**
 * Turns a workload manifest's container (the DaemonSet of deploy/exporter/daemonset.yaml, the
 * collector pod of src/collect/collector-pod.ts) into `podman run` options, so tests run the image
 * the way the kubelet would: the same arguments, environment, user, capabilities, read-only root,
 * mounts and limits. Fields this does not know how to translate are refused rather than ignored, so
 * a manifest change that the tests do not reproduce fails them.
 */
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

/** The parts of a pod spec the translation reads (Kubernetes field names). */
export interface PodSpecLike {
  readonly hostNetwork?: boolean;
  readonly hostPID?: boolean;
  readonly containers: readonly ContainerLike[];
  readonly volumes?: readonly { readonly name: string; readonly hostPath?: { readonly path: string } }[];
  readonly [field: string]: unknown;
}

interface ContainerLike {
  readonly name: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly env?: readonly {
    readonly name: string;
    readonly value?: string;
    readonly valueFrom?: { readonly fieldRef?: { readonly fieldPath: string } };
  }[];
  readonly resources?: { readonly limits?: { readonly memory?: string; readonly cpu?: string } };
  readonly securityContext?: {
    readonly runAsUser?: number;
    readonly runAsGroup?: number;
    readonly privileged?: boolean;
    readonly allowPrivilegeEscalation?: boolean;
    readonly readOnlyRootFilesystem?: boolean;
    readonly capabilities?: { readonly drop?: readonly string[]; readonly add?: readonly string[] };
    readonly seccompProfile?: { readonly type: string };
    readonly runAsNonRoot?: boolean;
  };
  readonly volumeMounts?: readonly {
    readonly name: string;
    readonly mountPath: string;
    readonly readOnly?: boolean;
    readonly mountPropagation?: string;
  }[];
  readonly [field: string]: unknown;
}

/** The pod template of the DaemonSet in a manifest file. */
export function daemonSetPodSpec(manifestFile: string): PodSpecLike {
  const docs = parseAllDocuments(readFileSync(manifestFile, "utf8")).map((d) => d.toJS());
  const ds = docs.find((d) => d?.kind === "DaemonSet");
  if (ds === undefined) throw new Error(`Cannot find a DaemonSet in ${manifestFile}`);
  return ds.spec.template.spec as PodSpecLike;
}

/** What the test supplies in place of the node and the kubelet. */
export interface PodmanRunContext {
  readonly image: string;
  /** The network namespace that stands in for the node's (`hostNetwork: true`). */
  readonly netns?: string;
  /** Host paths of hostPath volumes → the directories that stand in for them. */
  readonly hostPaths: Readonly<Record<string, string>>;
  /** Values of `valueFrom.fieldRef` (e.g. `spec.nodeName`). */
  readonly fields: Readonly<Record<string, string>>;
  /** What the kubelet adds: KUBERNETES_SERVICE_HOST/PORT, the service account token mount. */
  readonly extraEnv?: Readonly<Record<string, string>>;
  readonly extraMounts?: readonly string[];
  readonly name?: string;
}

/** Kubernetes memory quantity (`1Gi`, `512Mi`, `96M`) → bytes. */
export function memoryBytes(quantity: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity);
  if (m === null) throw new RangeError(`Cannot read memory quantity "${quantity}"`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Math.round(Number(m[1]) * (m[2] === undefined ? 1 : unit[m[2] as keyof typeof unit]));
}

function cpus(quantity: string): string {
  return quantity.endsWith("m") ? String(Number(quantity.slice(0, -1)) / 1000) : quantity;
}

const KNOWN_CONTAINER_FIELDS = new Set([
  "name",
  "image",
  "imagePullPolicy",
  "command",
  "args",
  "env",
  "ports",
  "livenessProbe",
  "resources",
  "securityContext",
  "volumeMounts",
]);

/**
 * `podman run` options, the image and its arguments for the pod's first container. Probes and
 * ports are not run by podman (the test checks /healthz itself; with the node's network namespace
 * the port is simply the process's).
 */
export function podmanRunArgs(pod: PodSpecLike, context: PodmanRunContext): string[] {
  const [c] = pod.containers;
  if (c === undefined || pod.containers.length !== 1)
    throw new Error("Cannot translate a pod without exactly one container");
  for (const field of Object.keys(c)) {
    if (!KNOWN_CONTAINER_FIELDS.has(field))
      throw new Error(`Cannot translate container field "${field}" to podman`);
  }
  const out: string[] = [];
  if (context.name !== undefined) out.push("--name", context.name);
  if (pod.hostNetwork === true) {
    if (context.netns === undefined)
      throw new Error("Cannot run hostNetwork: true without a stand-in network namespace");
    out.push("--network", `ns:/run/netns/${context.netns}`);
  } else out.push("--network", "none");
  if (pod.hostPID === true) out.push("--pid", "host");
  const sc = c.securityContext ?? {};
  if (sc.runAsUser !== undefined) out.push("--user", `${sc.runAsUser}:${sc.runAsGroup ?? sc.runAsUser}`);
  if (sc.privileged === true) out.push("--privileged");
  if (sc.allowPrivilegeEscalation === false) out.push("--security-opt", "no-new-privileges");
  // Kubernetes mounts no tmpfs on a read-only root; podman would, unless told not to.
  if (sc.readOnlyRootFilesystem === true) out.push("--read-only", "--read-only-tmpfs=false");
  for (const cap of sc.capabilities?.drop ?? []) out.push("--cap-drop", cap);
  for (const cap of sc.capabilities?.add ?? []) out.push("--cap-add", cap);
  if (sc.seccompProfile !== undefined && sc.seccompProfile.type !== "RuntimeDefault") {
    throw new Error(`Cannot translate seccompProfile ${sc.seccompProfile.type}`);
  }
  const limits = c.resources?.limits ?? {};
  if (limits.memory !== undefined)
    out.push(
      "--memory",
      String(memoryBytes(limits.memory)),
      "--memory-swap",
      String(memoryBytes(limits.memory)),
    );
  if (limits.cpu !== undefined) out.push("--cpus", cpus(limits.cpu));
  for (const e of c.env ?? []) {
    const field = e.valueFrom?.fieldRef?.fieldPath;
    const value = e.value ?? (field === undefined ? undefined : context.fields[field]);
    if (value === undefined)
      throw new Error(`Cannot give env ${e.name} a value (valueFrom ${JSON.stringify(e.valueFrom)})`);
    out.push("--env", `${e.name}=${value}`);
  }
  for (const [k, v] of Object.entries(context.extraEnv ?? {})) out.push("--env", `${k}=${v}`);
  for (const m of c.volumeMounts ?? []) {
    const volume = pod.volumes?.find((v) => v.name === m.name);
    const hostPath = volume?.hostPath?.path;
    const dir = hostPath === undefined ? undefined : context.hostPaths[hostPath];
    if (dir === undefined) throw new Error(`Cannot mount volume ${m.name}: no stand-in for it`);
    const propagation = m.mountPropagation === "HostToContainer" ? ",rslave" : "";
    out.push("--volume", `${dir}:${m.mountPath}:${m.readOnly === true ? "ro" : "rw"}${propagation}`);
  }
  for (const m of context.extraMounts ?? []) out.push("--volume", m);
  if (c.command !== undefined) out.push("--entrypoint", JSON.stringify(c.command));
  out.push(context.image, ...(c.args ?? []));
  return out;
}
