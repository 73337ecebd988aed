/**
 * The client pod of `--from NS/POD` and the cluster domain its names resolve in (from CoreDNS's
 * Corefile).
 */
import type { ClusterState, Pod, Service, ServicePort } from "../model/cluster.ts";
import { objectKey } from "../model/cluster.ts";
import { QuestionError } from "./question-error.ts";

export { QuestionError };

/** Finds the client pod from `NS/POD` (or `POD` in `namespace`). */
export function findPod(cluster: Pick<ClusterState, "pods">, from: string, namespace = "default"): Pod {
  const [ns, name] = from.includes("/") ? from.split("/", 2) : [namespace, from];
  const pod = cluster.pods.find((p) => p.metadata.namespace === ns && p.metadata.name === name);
  if (pod !== undefined) return pod;
  const near = cluster.pods
    .filter((p) =>
      p.metadata.name.startsWith(name!.replace(/-[a-z0-9]{5}$/, "").replace(/-[a-z0-9]{8,10}$/, "")),
    )
    .slice(0, 3)
    .map((p) => objectKey(p.metadata));
  throw new QuestionError(
    `Cannot find pod ${ns}/${name} in cluster/pods.json${near.length > 0 ? `: did you mean ${near.join(", ")}?` : ""}`,
  );
}

/** The cluster domain from CoreDNS's Corefile (`kubernetes cluster.local …`), default cluster.local. */
export function clusterDomain(cluster: ClusterState): { domain: string; from?: string } {
  const cm = cluster.configMaps.find(
    (c) => c.metadata.namespace === "kube-system" && c.metadata.name === "coredns",
  );
  const m = cm === undefined ? null : /^\s*kubernetes\s+(\S+)/m.exec(cm.data.Corefile ?? "");
  return m === null
    ? { domain: "cluster.local" }
    : { domain: m[1]!, from: "ConfigMap kube-system/coredns (Corefile)" };
}

/** The Service port the client addresses: by number, or by port name. */
export function findServicePort(svc: Service, port: number | string): ServicePort | undefined {
  return svc.ports.find((p) => (typeof port === "number" ? p.port === port : p.name === port));
}
