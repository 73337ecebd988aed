/**
 * The client pod's configured values for `config-pod-ip`: its env vars (literal or from a ConfigMap
 * key), the ConfigMaps it loads with `envFrom` and those it mounts as volumes.
 */

import { type PinnedValue, pinnedIpFindings } from "../config/config-findings.ts";
import type { ClusterState, ConfigMap, Pod } from "../model/cluster.ts";
import { objectKey } from "../model/cluster.ts";
import type { Evidence, Finding } from "../model/finding.ts";
import type { PodIpLookup } from "../net/pod-ip-lookup.ts";

/** One configuration value and where it is defined. */
interface ConfigValue {
  readonly where: string;
  readonly value: string;
  readonly evidence: Evidence;
}

function configMapIn(cluster: ClusterState, ns: string, name: string): ConfigMap | undefined {
  return cluster.configMaps.find((c) => c.metadata.namespace === ns && c.metadata.name === name);
}

function cmEvidence(cm: ConfigMap, text: string): Evidence {
  const file = cm.source?.file ?? "cluster/configmaps.json";
  return { file, ...(cm.source?.line === undefined ? {} : { line: cm.source.line }), text };
}

function valuesOf(pod: Pod, cluster: ClusterState): ConfigValue[] {
  const ns = pod.metadata.namespace ?? "default";
  const file = pod.source?.file ?? "cluster/pods.json";
  const at = (text: string): Evidence => ({
    file,
    ...(pod.source?.line === undefined ? {} : { line: pod.source.line }),
    text,
  });
  const out: ConfigValue[] = [];
  const seenMaps = new Set<string>();
  const addMap = (name: string, how: string) => {
    if (seenMaps.has(name)) return;
    seenMaps.add(name);
    const cm = configMapIn(cluster, ns, name);
    if (cm === undefined) return;
    for (const [k, v] of Object.entries(cm.data)) {
      out.push({
        where: `ConfigMap ${ns}/${name} key ${k} (${how})`,
        value: v,
        evidence: cmEvidence(cm, `${ns}/${name} ${k}: ${v.length > 120 ? `${v.slice(0, 120)}…` : v}`),
      });
    }
  };
  for (const c of pod.containers) {
    for (const e of c.env ?? []) {
      if (e.value !== undefined) {
        out.push({
          where: `env ${e.name} of container ${c.name}`,
          value: e.value,
          evidence: at(`env ${e.name}=${e.value} (container ${c.name})`),
        });
      } else if (e.configMapKeyRef !== undefined) {
        const cm = configMapIn(cluster, ns, e.configMapKeyRef.name);
        const v = cm?.data[e.configMapKeyRef.key];
        if (cm !== undefined && v !== undefined) {
          out.push({
            where: `env ${e.name} of container ${c.name} (from ConfigMap ${ns}/${cm.metadata.name} key ${e.configMapKeyRef.key})`,
            value: v,
            evidence: cmEvidence(cm, `${ns}/${cm.metadata.name} ${e.configMapKeyRef.key}: ${v}`),
          });
        }
      }
    }
    for (const name of c.envFromConfigMaps ?? []) addMap(name, `envFrom of container ${c.name}`);
  }
  for (const name of pod.volumeConfigMaps ?? []) addMap(name, "mounted as a volume");
  return out;
}

/**
 * Finds pod IPs pinned in `pod`'s env vars and ConfigMap values (env `valueFrom`, `envFrom`, and
 * ConfigMaps mounted as volumes), through the one `config-pod-ip` implementation
 * (config/config-findings.ts). The pod's own IP is ignored.
 */
export function configPodIpFindings(pod: Pod, cluster: ClusterState, lookup: PodIpLookup): Finding[] {
  const client = objectKey(pod.metadata);
  const pins = valuesOf(pod, cluster).map(
    (v): PinnedValue => ({ where: `${v.where} of pod ${client}`, value: v.value, evidence: [v.evidence] }),
  );
  return pinnedIpFindings(pins, { cluster, client, lookup });
}
