/**
 * Endpoint objects of every API version still in the field, converted to the one model kube-proxy
 * reasoning uses ({@linkcode EndpointSlice}): EndpointSlices `discovery.k8s.io/v1` (v1.21+) and
 * `discovery.k8s.io/v1beta1` (v1.17-v1.24; node in `topology["kubernetes.io/hostname"]`), and core
 * v1 Endpoints for clusters without slices. Pure: the reader and the tests use it alike.
 */
import type {
  Endpoint,
  EndpointAddress,
  EndpointConditions,
  EndpointHints,
  EndpointPort,
  EndpointSlice,
  EndpointSource,
  EndpointsObject,
  Node,
  ObjectMeta,
} from "../model/cluster.ts";
import {
  arr,
  describe,
  ItemError,
  type Json,
  obj,
  optBool,
  optObj,
  optPort,
  optStr,
  str,
  strList,
  strMap,
  type Writable,
} from "./json-checks.ts";
import { keyPart, SharedLists } from "./shared-lists.ts";

/** The EndpointSlice API versions netdoctor reads. */
export const SLICE_API_VERSIONS = ["discovery.k8s.io/v1", "discovery.k8s.io/v1beta1"] as const;

/** v1beta1's topology keys that v1 turned into fields (kubernetes/kubernetes#99662). */
const HOSTNAME_KEY = "kubernetes.io/hostname";
const ZONE_KEY = "topology.kubernetes.io/zone";

function hints(v: unknown, at: string): EndpointHints | undefined {
  if (v === undefined || v === null) return undefined;
  const path = `${at}.hints`;
  const h = obj(v, path);
  const names = (key: string): string[] =>
    arr(h[key], `${path}.${key}`).map((x, i) =>
      str(obj(x, `${path}.${key}[${i}]`).name, `${path}.${key}[${i}].name`),
    );
  return { forZones: names("forZones"), forNodes: names("forNodes") };
}

function targetPod(ref: Json | undefined, path: string, namespace: string | undefined): string | undefined {
  if (ref === undefined || ref.kind !== "Pod") return undefined;
  return `${optStr(ref.namespace, path, ".targetRef.namespace") ?? namespace}/${str(ref.name, path, ".targetRef.name")}`;
}

/** The 27 possible condition sets, each one shared object: 100,000 endpoints need not hold 100,000 copies. */
const CONDITIONS: (EndpointConditions | undefined)[] = [];

/** No conditions, no topology. */
const NONE: Readonly<Record<string, never>> = Object.freeze({});

const tri = (b: boolean | undefined): number => (b === undefined ? 0 : b ? 1 : 2);

function conditionsOf(ready?: boolean, serving?: boolean, terminating?: boolean): EndpointConditions {
  const key = tri(ready) * 9 + tri(serving) * 3 + tri(terminating);
  let c = CONDITIONS[key];
  if (c === undefined) {
    const o: Writable<EndpointConditions> = {};
    if (ready !== undefined) o.ready = ready;
    if (serving !== undefined) o.serving = serving;
    if (terminating !== undefined) o.terminating = terminating;
    c = Object.freeze(o);
    CONDITIONS[key] = c;
  }
  return c;
}

function sliceEndpoint(v: unknown, i: number, beta: boolean, namespace: string | undefined): Endpoint {
  const path = `endpoints[${i}]`;
  const e = obj(v, path);
  const c = optObj(e.conditions, path, ".conditions") ?? NONE;
  // v1beta1 carried the node and zone as topology labels; v1.20 added nodeName to v1beta1 too.
  const topology = beta ? (strMap(e.topology, path, ".topology") ?? NONE) : NONE;
  const nodeName = optStr(e.nodeName, path, ".nodeName") ?? topology[HOSTNAME_KEY];
  const zone = (beta ? undefined : optStr(e.zone, path, ".zone")) ?? topology[ZONE_KEY];
  const ready = optBool(c.ready, path, ".conditions.ready");
  const serving = optBool(c.serving, path, ".conditions.serving");
  const terminating = optBool(c.terminating, path, ".conditions.terminating");
  const pod = targetPod(optObj(e.targetRef, path, ".targetRef"), path, namespace);
  const h = hints(e.hints, path);
  const addresses = strList(e.addresses, path, ".addresses");
  if (addresses.length === 0) throw new ItemError(`${path}.addresses: expected at least one address`);
  // Assigned to {} (four in-object fields), not spread: a literal made only of spreads gets a
  // hidden class of its own, a one- or two-field literal grows a property array.
  const out = {} as Writable<Endpoint>;
  out.addresses = addresses;
  out.conditions = conditionsOf(ready, serving, terminating);
  if (nodeName !== undefined) out.nodeName = nodeName;
  if (zone !== undefined) out.zone = zone;
  if (h !== undefined) out.hints = h;
  if (pod !== undefined) out.targetPod = pod;
  return out;
}

function endpointPort(v: unknown, path: string): EndpointPort {
  const p = obj(v, path);
  const name = optStr(p.name, path, ".name");
  const protocol = optStr(p.protocol, path, ".protocol");
  const pn = optPort(p.port, path, ".port");
  const out: Writable<EndpointPort> = {};
  if (name !== undefined && name !== "") out.name = name;
  if (protocol !== undefined) out.protocol = protocol;
  if (pn !== undefined) out.port = pn;
  return out;
}

const PORT_LISTS = new SharedLists<EndpointPort>(
  (p) => `${keyPart(p.name)}\u0000${keyPart(p.protocol)}\u0000${keyPart(p.port)}`,
);

/**
 * One EndpointSlice item of `kubectl get endpointslices -A -o json`, of either served version.
 * A missing `apiVersion` (a hand-made list) is read as v1.
 *
 * @throws {ItemError} For another version or a field of the wrong type.
 */
export function toEndpointSlice(item: Json, meta: ObjectMeta): EndpointSlice {
  const apiVersion = optStr(item.apiVersion, "apiVersion");
  if (apiVersion !== undefined && !(SLICE_API_VERSIONS as readonly string[]).includes(apiVersion)) {
    throw new ItemError(
      `apiVersion: expected discovery.k8s.io/v1 or discovery.k8s.io/v1beta1, got ${describe(apiVersion)}`,
    );
  }
  const beta = apiVersion === "discovery.k8s.io/v1beta1";
  // The constant, not the parsed copy: one string for every slice.
  const version = SLICE_API_VERSIONS.find((v) => v === apiVersion);
  const serviceName = meta.labels?.["kubernetes.io/service-name"];
  return {
    metadata: meta,
    ...(version === undefined ? {} : { apiVersion: version }),
    addressType: str(item.addressType, "addressType"),
    ...(serviceName === undefined ? {} : { serviceName }),
    endpoints: arr(item.endpoints, "endpoints").map((x, i) => sliceEndpoint(x, i, beta, meta.namespace)),
    ports: PORT_LISTS.of(arr(item.ports, "ports").map((x, i) => endpointPort(x, `ports[${i}]`))),
  };
}

function address(v: unknown, path: string, namespace: string | undefined): EndpointAddress {
  const a = obj(v, path);
  const nodeName = optStr(a.nodeName, `${path}.nodeName`);
  const pod = targetPod(optObj(a.targetRef, `${path}.targetRef`), path, namespace);
  return {
    ip: str(a.ip, `${path}.ip`),
    ...(nodeName === undefined ? {} : { nodeName }),
    ...(pod === undefined ? {} : { targetPod: pod }),
  };
}

/** One core v1 Endpoints item of `kubectl get endpoints -A -o json`. */
export function toEndpoints(item: Json, meta: ObjectMeta): EndpointsObject {
  const apiVersion = optStr(item.apiVersion, "apiVersion");
  if (apiVersion !== undefined && apiVersion !== "v1")
    throw new ItemError(`apiVersion: expected v1, got ${describe(apiVersion)}`);
  return {
    metadata: meta,
    subsets: arr(item.subsets, "subsets").map((x, i) => {
      const path = `subsets[${i}]`;
      const s = obj(x, path);
      return {
        addresses: arr(s.addresses, `${path}.addresses`).map((a, j) =>
          address(a, `${path}.addresses[${j}]`, meta.namespace),
        ),
        notReadyAddresses: arr(s.notReadyAddresses, `${path}.notReadyAddresses`).map((a, j) =>
          address(a, `${path}.notReadyAddresses[${j}]`, meta.namespace),
        ),
        ports: arr(s.ports, `${path}.ports`).map((p, j) => endpointPort(p, `${path}.ports[${j}]`)),
      };
    }),
  };
}

function family(ip: string): "IPv4" | "IPv6" {
  return ip.includes(":") ? "IPv6" : "IPv4";
}

/**
 * The slices kube-proxy's Endpoints code path sees in one v1 Endpoints object: one per subset and
 * address family. `addresses` are ready; `notReadyAddresses` are neither ready nor serving (the
 * Endpoints API has no terminating state).
 */
export function slicesFromEndpoints(e: EndpointsObject): EndpointSlice[] {
  const out: EndpointSlice[] = [];
  e.subsets.forEach((subset, i) => {
    const all = [
      ...subset.addresses.map((a) => ({ a, ready: true })),
      ...subset.notReadyAddresses.map((a) => ({ a, ready: false })),
    ];
    for (const fam of ["IPv4", "IPv6"] as const) {
      const mine = all.filter((x) => family(x.a.ip) === fam);
      if (mine.length === 0) continue;
      out.push({
        metadata: { ...e.metadata, name: `${e.metadata.name}-subset${i}-${fam.toLowerCase()}` },
        apiVersion: "v1",
        addressType: fam,
        serviceName: e.metadata.name,
        ports: subset.ports,
        endpoints: mine.map(({ a, ready }) => ({
          addresses: [a.ip],
          conditions: { ready, serving: ready, terminating: false },
          ...(a.nodeName === undefined ? {} : { nodeName: a.nodeName }),
          ...(a.targetPod === undefined ? {} : { targetPod: a.targetPod }),
        })),
        ...(e.source === undefined ? {} : { source: e.source }),
      });
    }
  });
  return out;
}

/** `major.minor` of a version string such as `v1.18.9+k3s1`, or undefined. */
function minorOf(version: string | undefined): number | undefined {
  const m = /^v?(\d+)\.(\d+)/.exec(version ?? "");
  return m === null || m[1] !== "1" ? undefined : Number(m[2]);
}

/** Input of {@linkcode selectEndpointSource}: what the bundle holds, by file. */
export interface EndpointSourceInput {
  readonly slices?: { readonly file: string; readonly items: readonly EndpointSlice[] };
  readonly endpoints?: { readonly file: string; readonly items: readonly EndpointsObject[] };
  readonly nodes: readonly Node[];
}

/**
 * Picks the endpoint objects kube-proxy on these nodes reads: EndpointSlices, or v1 Endpoints
 * when the bundle has no slices at all (older clusters, or the slice controller off) or every
 * node's kube-proxy is older than v1.19 (EndpointSliceProxying became the default in v1.19).
 */
export function selectEndpointSource(input: EndpointSourceInput): {
  slices: EndpointSlice[];
  source?: EndpointSource;
} {
  const { slices, endpoints } = input;
  const sliceSource = (reason?: string): { slices: EndpointSlice[]; source?: EndpointSource } =>
    slices === undefined
      ? { slices: [] }
      : {
          slices: [...slices.items],
          source: {
            kind: "EndpointSlice",
            apiVersions: versions(slices.items),
            file: slices.file,
            ...(reason === undefined ? {} : { reason }),
          },
        };
  if (endpoints === undefined) return sliceSource();
  const viaEndpoints = (reason: string) => ({
    slices: endpoints.items.flatMap(slicesFromEndpoints),
    source: { kind: "Endpoints" as const, apiVersions: ["v1"], file: endpoints.file, reason },
  });
  if (slices === undefined || slices.items.length === 0)
    return viaEndpoints(`no EndpointSlices in the bundle`);
  const minors = input.nodes
    .map((n) => minorOf(n.kubeProxyVersion === "" ? undefined : (n.kubeProxyVersion ?? n.kubeletVersion)))
    .filter((m): m is number => m !== undefined);
  if (minors.length > 0 && minors.every((m) => m < 19))
    return viaEndpoints(
      "every node's kube-proxy is older than v1.19, which reads Endpoints, not EndpointSlices",
    );
  return sliceSource(`${endpoints.file} is also present; kube-proxy v1.19+ reads the slices`);
}

function versions(items: readonly EndpointSlice[]): string[] {
  return [...new Set(items.map((s) => s.apiVersion).filter((v): v is string => v !== undefined))].sort();
}
