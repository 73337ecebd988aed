/** Pods of a bundle's `cluster/pods.json`, checked and converted to the cluster model. */
import type { Container, EnvVar, Pod } from "../model/cluster.ts";
import { arr, type Json, obj, optBool, optObj, optPort, optStr, port, str } from "./json-checks.ts";
import { objectMeta } from "./object-meta.ts";

function env(v: unknown, path: string): EnvVar {
  const e = obj(v, path);
  const name = str(e.name, path, ".name");
  const value = optStr(e.value, path, ".value");
  const from = optObj(e.valueFrom, path, ".valueFrom");
  const ref =
    from === undefined ? undefined : optObj(from.configMapKeyRef, path, ".valueFrom.configMapKeyRef");
  return {
    name,
    ...(value === undefined ? {} : { value }),
    ...(ref === undefined
      ? {}
      : {
          configMapKeyRef: {
            name: str(ref.name, path, ".valueFrom.configMapKeyRef.name"),
            key: str(ref.key, path, ".valueFrom.configMapKeyRef.key"),
          },
        }),
  };
}

function container(v: unknown, path: string): Container {
  const c = obj(v, path);
  const envFrom = arr(c.envFrom, path, ".envFrom")
    .map((x, i) => optObj(obj(x, `${path}.envFrom[${i}]`).configMapRef, `${path}.envFrom[${i}].configMapRef`))
    .filter((x): x is Json => x !== undefined)
    .map((x, i) => str(x.name, `${path}.envFrom[${i}].configMapRef.name`));
  const image = optStr(c.image, path, ".image");
  return {
    name: str(c.name, path, ".name"),
    ...(image === undefined ? {} : { image }),
    env: arr(c.env, path, ".env").map((e, i) => env(e, `${path}.env[${i}]`)),
    envFromConfigMaps: envFrom,
    ports: arr(c.ports, path, ".ports").map((x, i) => {
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

/**
 * One item of `kubectl get pods -o json` as a {@linkcode Pod}: containers (env, envFrom, ports),
 * ConfigMap volumes, host networking, IPs and readiness.
 *
 * @throws {ItemError} When a field has the wrong type.
 */
export function toPod(item: Json): Pod {
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
    metadata: objectMeta(item, true),
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
