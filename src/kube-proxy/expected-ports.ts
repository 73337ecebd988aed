/**
 * The expected kube-proxy state of a cluster's Services, computed per Service when first asked:
 * a `--from/--to` question on a cluster of 80,000 Services needs the chain names and endpoints of
 * one or two of them, not 80,000 sets of hashes (issue 14).
 */
import type { ClusterState, EndpointSlice, Service } from "../model/cluster.ts";
import { type ExpectedServicePort, servicePortsOf, slicesByService } from "./expected-state.ts";

/** Lookups answered by a scan of the slices before one index of them is worth building. */
const SCANS_BEFORE_INDEX = 8;

/** Expected state per Service, memoised; {@linkcode all} for the whole cluster. */
export class ExpectedPorts {
  readonly #cluster: ClusterState;
  readonly #of = new Map<Service, readonly ExpectedServicePort[]>();
  #bySvc: Map<string, EndpointSlice[]> | undefined;
  #scans = 0;
  #all: readonly ExpectedServicePort[] | undefined;

  constructor(cluster: ClusterState) {
    this.#cluster = cluster;
  }

  /** The proxied ports of `svc` (one of the cluster's Services), empty when kube-proxy skips it. */
  of(svc: Service): readonly ExpectedServicePort[] {
    let ports = this.#of.get(svc);
    if (ports === undefined) {
      ports = servicePortsOf(svc, this.#slices(svc.metadata.namespace ?? "default", svc.metadata.name));
      this.#of.set(svc, ports);
    }
    return ports;
  }

  /** Every proxied Service port of the cluster, in the order of its Services (as expectedServicePorts). */
  all(): readonly ExpectedServicePort[] {
    this.#all ??= this.#cluster.services.flatMap((svc) => this.of(svc));
    return this.#all;
  }

  /** `ports` (each from {@linkcode of}) in the order {@linkcode all} lists them, each once. */
  inClusterOrder(ports: readonly (ExpectedServicePort | undefined)[]): ExpectedServicePort[] {
    const want = new Set(ports);
    const out: ExpectedServicePort[] = [];
    for (const svc of this.#cluster.services) {
      for (const p of this.#of.get(svc) ?? []) if (want.has(p)) out.push(p);
    }
    return out;
  }

  #slices(namespace: string, name: string): readonly EndpointSlice[] {
    if (this.#bySvc === undefined && this.#scans++ < SCANS_BEFORE_INDEX) {
      // The same match as slicesByService's key: a slice without a namespace matches none.
      return this.#cluster.endpointSlices.filter(
        (s) => s.serviceName === name && (s.metadata.namespace ?? "") === namespace,
      );
    }
    this.#bySvc ??= slicesByService(this.#cluster.endpointSlices);
    return this.#bySvc.get(`${namespace}/${name}`) ?? [];
  }
}
