/**
 * Hand-written schema checks and conversion of `kubectl get -o json` lists into the plain
 * {@linkcode ClusterState} types. Pure (no I/O) so the demo generator and tests use it too.
 * Each problem names the file, the item and the field.
 */
import type {
  ConfigMap,
  Container,
  EndpointSlice,
  EndpointsObject,
  EnvVar,
  Node,
  ObjectMeta,
  Pod,
  Service,
  ServicePort,
} from "../model/cluster.ts";
import { toEndpointSlice, toEndpoints } from "./endpoint-objects.ts";
import {
  arr,
  describe,
  ItemError,
  isObj,
  type Json,
  obj,
  optBool,
  optObj,
  optPort,
  optStr,
  port,
  str,
  strList,
  strMap,
} from "./json-checks.ts";

/** The object kinds of a bundle's `cluster/` files. */
export type ObjectKind = "Pod" | "Service" | "EndpointSlice" | "Endpoints" | "Node" | "ConfigMap";

/** A problem with one item (the item is skipped) or with the whole file (thrown by the reader). */
export interface ObjectProblem {
  readonly file: string;
  readonly line?: number;
  readonly message: string;
}

/** Thrown for a whole-file problem: not a list of the expected kind. */
export class BundleSchemaError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = "BundleSchemaError";
  }
}

function meta(item: Json, namespaced: boolean): ObjectMeta {
  const m = obj(item.metadata, "metadata");
  const name = str(m.name, "metadata.name");
  const namespace = optStr(m.namespace, "metadata.namespace");
  if (namespaced && namespace === undefined) throw new ItemError("metadata.namespace: missing");
  const uid = optStr(m.uid, "metadata.uid");
  const labels = strMap(m.labels, "metadata.labels");
  const annotations = strMap(m.annotations, "metadata.annotations");
  return {
    name,
    ...(namespace === undefined ? {} : { namespace }),
    ...(uid === undefined ? {} : { uid }),
    ...(labels === undefined ? {} : { labels }),
    ...(annotations === undefined ? {} : { annotations }),
  };
}

function env(v: unknown, path: string): EnvVar {
  const e = obj(v, path);
  const name = str(e.name, `${path}.name`);
  const value = optStr(e.value, `${path}.value`);
  const from = optObj(e.valueFrom, `${path}.valueFrom`);
  const ref =
    from === undefined ? undefined : optObj(from.configMapKeyRef, `${path}.valueFrom.configMapKeyRef`);
  return {
    name,
    ...(value === undefined ? {} : { value }),
    ...(ref === undefined
      ? {}
      : {
          configMapKeyRef: {
            name: str(ref.name, `${path}.valueFrom.configMapKeyRef.name`),
            key: str(ref.key, `${path}.valueFrom.configMapKeyRef.key`),
          },
        }),
  };
}

function container(v: unknown, path: string): Container {
  const c = obj(v, path);
  const envFrom = arr(c.envFrom, `${path}.envFrom`)
    .map((x, i) => optObj(obj(x, `${path}.envFrom[${i}]`).configMapRef, `${path}.envFrom[${i}].configMapRef`))
    .filter((x): x is Json => x !== undefined)
    .map((x, i) => str(x.name, `${path}.envFrom[${i}].configMapRef.name`));
  const image = optStr(c.image, `${path}.image`);
  return {
    name: str(c.name, `${path}.name`),
    ...(image === undefined ? {} : { image }),
    env: arr(c.env, `${path}.env`).map((e, i) => env(e, `${path}.env[${i}]`)),
    envFromConfigMaps: envFrom,
    ports: arr(c.ports, `${path}.ports`).map((x, i) => {
      const p = obj(x, `${path}.ports[${i}]`);
      const name = optStr(p.name, `${path}.ports[${i}].name`);
      const protocol = optStr(p.protocol, `${path}.ports[${i}].protocol`);
      const hostPort = optPort(p.hostPort, `${path}.ports[${i}].hostPort`);
      return {
        containerPort: port(p.containerPort, `${path}.ports[${i}].containerPort`),
        ...(name === undefined ? {} : { name }),
        ...(protocol === undefined ? {} : { protocol }),
        ...(hostPort === undefined ? {} : { hostPort }),
      };
    }),
  };
}

function toPod(item: Json): Pod {
  const spec = obj(item.spec, "spec");
  const status = optObj(item.status, "status") ?? {};
  const conditions = arr(status.conditions, "status.conditions").map((c, i) =>
    obj(c, `status.conditions[${i}]`),
  );
  const readyCond = conditions.find((c) => c.type === "Ready");
  const nodeName = optStr(spec.nodeName, "spec.nodeName");
  const podIP = optStr(status.podIP, "status.podIP");
  const phase = optStr(status.phase, "status.phase");
  const dnsPolicy = optStr(spec.dnsPolicy, "spec.dnsPolicy");
  return {
    metadata: meta(item, true),
    containers: arr(spec.containers, "spec.containers").map((c, i) => container(c, `spec.containers[${i}]`)),
    volumeConfigMaps: arr(spec.volumes, "spec.volumes")
      .map((v, i) => optObj(obj(v, `spec.volumes[${i}]`).configMap, `spec.volumes[${i}].configMap`))
      .filter((x): x is Json => x !== undefined)
      .map((x) => str(x.name, "spec.volumes[].configMap.name")),
    hostNetwork: optBool(spec.hostNetwork, "spec.hostNetwork") ?? false,
    podIPs: arr(status.podIPs, "status.podIPs").map((x, i) =>
      str(obj(x, `status.podIPs[${i}]`).ip, `status.podIPs[${i}].ip`),
    ),
    ...(readyCond === undefined ? {} : { ready: readyCond.status === "True" }),
    ...(nodeName === undefined ? {} : { nodeName }),
    ...(podIP === undefined ? {} : { podIP }),
    ...(phase === undefined ? {} : { phase }),
    ...(dnsPolicy === undefined ? {} : { dnsPolicy }),
  };
}

const SERVICE_TYPES = new Set(["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]);

function servicePort(v: unknown, path: string): ServicePort {
  const p = obj(v, path);
  const name = optStr(p.name, `${path}.name`);
  const tp = p.targetPort;
  let targetPort: number | string | undefined;
  if (typeof tp === "string") targetPort = /^\d+$/.test(tp) ? Number(tp) : tp;
  else if (tp !== undefined && tp !== null) targetPort = port(tp, `${path}.targetPort`);
  const nodePort = optPort(p.nodePort, `${path}.nodePort`);
  return {
    protocol: optStr(p.protocol, `${path}.protocol`) ?? "TCP",
    port: port(p.port, `${path}.port`),
    ...(name === undefined || name === "" ? {} : { name }),
    ...(targetPort === undefined ? {} : { targetPort }),
    ...(nodePort === undefined ? {} : { nodePort }),
  };
}

function policy(v: unknown, path: string): "Cluster" | "Local" | undefined {
  const s = optStr(v, path);
  if (s === undefined) return undefined;
  if (s === "Local" || s === "Cluster") return s;
  throw new ItemError(`${path}: expected "Cluster" or "Local", got ${describe(s)}`);
}

function toService(item: Json): Service {
  const spec = obj(item.spec, "spec");
  const type = optStr(spec.type, "spec.type") ?? "ClusterIP";
  if (!SERVICE_TYPES.has(type))
    throw new ItemError(
      `spec.type: expected ClusterIP, NodePort, LoadBalancer or ExternalName, got ${describe(type)}`,
    );
  const status = optObj(item.status, "status") ?? {};
  const lb = optObj(status.loadBalancer, "status.loadBalancer") ?? {};
  const lbIPs = arr(lb.ingress, "status.loadBalancer.ingress")
    .map((x, i) =>
      optStr(obj(x, `status.loadBalancer.ingress[${i}]`).ip, `status.loadBalancer.ingress[${i}].ip`),
    )
    .filter((x): x is string => x !== undefined);
  const clusterIP = optStr(spec.clusterIP, "spec.clusterIP");
  const selector = strMap(spec.selector, "spec.selector");
  const etp = policy(spec.externalTrafficPolicy, "spec.externalTrafficPolicy");
  const itp = policy(spec.internalTrafficPolicy, "spec.internalTrafficPolicy");
  const affinity = optStr(spec.sessionAffinity, "spec.sessionAffinity");
  const externalName = optStr(spec.externalName, "spec.externalName");
  const hc = optPort(spec.healthCheckNodePort, "spec.healthCheckNodePort");
  return {
    metadata: meta(item, true),
    type: type as Service["type"],
    ports: arr(spec.ports, "spec.ports").map((p, i) => servicePort(p, `spec.ports[${i}]`)),
    clusterIPs: strList(spec.clusterIPs, "spec.clusterIPs"),
    externalIPs: strList(spec.externalIPs, "spec.externalIPs"),
    loadBalancerSourceRanges: strList(spec.loadBalancerSourceRanges, "spec.loadBalancerSourceRanges"),
    loadBalancerIPs: lbIPs,
    ...(clusterIP === undefined ? {} : { clusterIP }),
    ...(selector === undefined ? {} : { selector }),
    ...(etp === undefined ? {} : { externalTrafficPolicy: etp }),
    ...(itp === undefined ? {} : { internalTrafficPolicy: itp }),
    ...(affinity === undefined ? {} : { sessionAffinity: affinity }),
    ...(externalName === undefined ? {} : { externalName }),
    ...(hc === undefined ? {} : { healthCheckNodePort: hc }),
  };
}

function toNode(item: Json): Node {
  const spec = optObj(item.spec, "spec") ?? {};
  const status = optObj(item.status, "status") ?? {};
  const info = optObj(status.nodeInfo, "status.nodeInfo") ?? {};
  const conditions = arr(status.conditions, "status.conditions").map((c, i) =>
    obj(c, `status.conditions[${i}]`),
  );
  const readyCond = conditions.find((c) => c.type === "Ready");
  const podCIDR = optStr(spec.podCIDR, "spec.podCIDR");
  const kubelet = optStr(info.kubeletVersion, "status.nodeInfo.kubeletVersion");
  const proxy = optStr(info.kubeProxyVersion, "status.nodeInfo.kubeProxyVersion");
  const os = optStr(info.osImage, "status.nodeInfo.osImage");
  return {
    metadata: meta(item, false),
    addresses: arr(status.addresses, "status.addresses").map((x, i) => {
      const a = obj(x, `status.addresses[${i}]`);
      return {
        type: str(a.type, `status.addresses[${i}].type`),
        address: str(a.address, `status.addresses[${i}].address`),
      };
    }),
    ...(podCIDR === undefined ? {} : { podCIDR }),
    ...(kubelet === undefined ? {} : { kubeletVersion: kubelet }),
    ...(proxy === undefined ? {} : { kubeProxyVersion: proxy }),
    ...(os === undefined ? {} : { osImage: os }),
    ...(readyCond === undefined ? {} : { ready: readyCond.status === "True" }),
  };
}

function toConfigMap(item: Json): ConfigMap {
  return { metadata: meta(item, true), data: strMap(item.data, "data") ?? {} };
}

const CONVERT = {
  Pod: toPod,
  Service: toService,
  EndpointSlice: (item: Json) => toEndpointSlice(item, meta(item, true)),
  Endpoints: (item: Json) => toEndpoints(item, meta(item, true)),
  Node: toNode,
  ConfigMap: toConfigMap,
} as const;

/** Kind → object type. */
export interface KindTypes {
  Pod: Pod;
  Service: Service;
  EndpointSlice: EndpointSlice;
  Endpoints: EndpointsObject;
  Node: Node;
  ConfigMap: ConfigMap;
}

/** 1-indexed line of each `"uid": "…"` in the text, for evidence pointing into JSON files. */
export function uidLines(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const re = /"uid"\s*:\s*"([^"\\]+)"/g;
  let line = 1;
  let pos = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    for (let i = text.indexOf("\n", pos); i !== -1 && i < m.index; i = text.indexOf("\n", i + 1)) line++;
    pos = m.index;
    if (!out.has(m[1]!)) out.set(m[1]!, line);
  }
  return out;
}

/**
 * Checks that `data` (already JSON-parsed from `file`) is a list of `kind` objects and converts
 * each valid item; invalid items are skipped and returned as problems.
 *
 * @throws {BundleSchemaError} When the file is not a list of that kind at all.
 */
export function convertList<K extends ObjectKind>(
  kind: K,
  data: unknown,
  options: { file: string; text?: string },
): { items: KindTypes[K][]; problems: ObjectProblem[] } {
  const { file } = options;
  if (!isObj(data))
    throw new BundleSchemaError(`Cannot read ${file}: expected a ${kind}List object, got ${describe(data)}`);
  const listKind = data.kind;
  if (listKind !== `${kind}List` && listKind !== "List") {
    throw new BundleSchemaError(
      `Cannot read ${file}: expected kind ${kind}List (kubectl get ${kind === "Endpoints" ? "endpoints" : `${kind.toLowerCase()}s`} -o json), got ${describe(listKind)}`,
    );
  }
  const rawItems = data.items;
  if (!Array.isArray(rawItems)) throw new BundleSchemaError(`Cannot read ${file}: "items" is not an array`);
  const lines = options.text === undefined ? new Map<string, number>() : uidLines(options.text);
  const items: KindTypes[K][] = [];
  const problems: ObjectProblem[] = [];
  rawItems.forEach((raw: unknown, i: number) => {
    const label =
      isObj(raw) && isObj(raw.metadata)
        ? ` (${[raw.metadata.namespace, raw.metadata.name].filter((x) => typeof x === "string").join("/")})`
        : "";
    const uid =
      isObj(raw) && isObj(raw.metadata) && typeof raw.metadata.uid === "string"
        ? raw.metadata.uid
        : undefined;
    const line = uid === undefined ? undefined : lines.get(uid);
    try {
      const item = obj(raw, "item");
      if (item.kind !== undefined && item.kind !== kind) {
        if (i === 0 && (rawItems as unknown[]).every((x) => isObj(x) && x.kind === item.kind)) {
          throw new BundleSchemaError(
            `Cannot read ${file}: expected ${kind} objects, got a list of ${describe(item.kind)}`,
          );
        }
        throw new ItemError(`kind: expected ${kind}, got ${describe(item.kind)}`);
      }
      const converted = (CONVERT[kind] as (j: Json) => KindTypes[K])(item);
      items.push({ ...converted, source: line === undefined ? { file } : { file, line } });
    } catch (error) {
      if (error instanceof ItemError) {
        problems.push({
          file,
          ...(line === undefined ? {} : { line }),
          message: `Cannot read ${file} items[${i}]${label}: ${error.message}`,
        });
      } else throw error;
    }
  });
  return { items, problems };
}
