import type { ConfigFile } from "./config-types.ts";
import { CONFIG_FILE_NAME } from "./decode-config-text.ts";
import { arr, type Json, obj, str } from "./json-fields.ts";
import type { EnvMap, EnvVarValue } from "./property-sources.ts";
import { serviceLinks } from "./service-links.ts";

export interface PodEnvironment {
  readonly container: string;
  readonly env: EnvMap;
  /** Sources whose variable names are unknown (an `envFrom` Secret): never read, only named. */
  readonly notes: readonly string[];
  /**
   * Spring config files (`application*.yml`...) in ConfigMaps the container mounts where Spring
   * Boot looks by default (a `.../config` directory) or where `SPRING_CONFIG_LOCATION` /
   * `SPRING_CONFIG_ADDITIONAL_LOCATION` point. Paths are `configmap:NS/NAME/config/KEY`, read above
   * the jar's own files (external config wins over packaged config).
   */
  readonly mountedFiles: readonly ConfigFile[];
}

export interface PodEnvironmentOptions {
  /** The container whose env is wanted; the first one when absent. */
  readonly container?: string;
  /** `items` of `kubectl get configmaps -A -o json`. */
  readonly configMaps?: readonly unknown[];
  /** Where the pod was read from, prefixed to every variable's `source` (e.g. `cluster/pods.json`). */
  readonly file?: string;
  /**
   * `items` of `kubectl get services -A -o json`: with `enableServiceLinks` (the default) the kubelet
   * sets `{NAME}_SERVICE_HOST`, `{NAME}_PORT`... for every Service of the pod's namespace.
   */
  readonly services?: readonly unknown[];
  /** 1-indexed line of a variable's definition in `file`, when the caller can find it. */
  readonly lineOf?: (name: string) => number | undefined;
}

/** `$(VAR)` expansion of Kubernetes env values; `$$` escapes, unknown references stay as written. */
function expand(value: string, env: ReadonlyMap<string, EnvVarValue>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (name === undefined) return "$";
    const v = env.get(name)?.value;
    return v ?? m;
  });
}

function fieldValue(pod: Json, path: string): string | undefined {
  const meta = obj(pod.metadata) ?? {};
  const spec = obj(pod.spec) ?? {};
  const status = obj(pod.status) ?? {};
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m) return str(obj(meta[m[1]!])?.[m[2]!]);
  switch (path) {
    case "metadata.name":
      return str(meta.name);
    case "metadata.namespace":
      return str(meta.namespace);
    case "metadata.uid":
      return str(meta.uid);
    case "spec.nodeName":
      return str(spec.nodeName);
    case "spec.serviceAccountName":
      return str(spec.serviceAccountName);
    case "status.podIP":
      return str(status.podIP);
    case "status.hostIP":
      return str(status.hostIP);
    case "status.podIPs":
      return arr(status.podIPs)
        .map((p) => str(obj(p)?.ip))
        .filter((s) => s !== undefined)
        .join(",");
    default:
      return undefined;
  }
}

/** What the env readers share while one container's environment is built. */
interface EnvContext {
  readonly pod: Json;
  readonly ns: string;
  readonly configMaps: ReadonlyMap<string, Json>;
  readonly env: Map<string, EnvVarValue>;
  readonly notes: string[];
  /** Where a variable is set: `file:line (pod ns/name, container c)`. */
  readonly where: (name: string) => string;
}

/** One `envFrom` entry: every key of a ConfigMap (a Secret's are unknown, with a note). */
function addEnvFrom(from: Json, ctx: EnvContext): void {
  const { ns, env, notes } = ctx;
  const prefix = str(from.prefix) ?? "";
  const cmRef = str(obj(from.configMapRef)?.name);
  const secretRef = str(obj(from.secretRef)?.name);
  if (cmRef !== undefined) {
    const data = ctx.configMaps.get(cmRef);
    if (!data) {
      notes.push(`envFrom ConfigMap ${ns}/${cmRef} is not in the bundle: its variables are unknown`);
      return;
    }
    for (const [k, v] of Object.entries(data)) {
      if (typeof v === "string")
        env.set(prefix + k, {
          name: prefix + k,
          value: v,
          source: `configmap ${ns}/${cmRef} key ${k} ${ctx.where(prefix + k)}`,
        });
    }
  }
  if (secretRef !== undefined) {
    notes.push(
      `envFrom Secret ${ns}/${secretRef}${prefix ? ` (prefix ${prefix})` : ""} sets variables netdoctor does not read: any placeholder may come from it`,
    );
  }
}

/** One `env` entry: a value (with `$(VAR)` expanded), a ConfigMap key, a Secret key or a field. */
function addEnvVar(e: Json, ctx: EnvContext): void {
  const { ns, env } = ctx;
  const name = str(e.name);
  if (name === undefined) return;
  const source = ctx.where(name);
  const valueFrom = obj(e.valueFrom);
  if (!valueFrom) {
    env.set(name, { name, value: expand(str(e.value) ?? "", env), source });
    return;
  }
  const cmKey = obj(valueFrom.configMapKeyRef);
  const secretKey = obj(valueFrom.secretKeyRef);
  const field = obj(valueFrom.fieldRef);
  if (cmKey) {
    const cmName = str(cmKey.name) ?? "";
    const key = str(cmKey.key) ?? "";
    const v = ctx.configMaps.get(cmName)?.[key];
    env.set(
      name,
      typeof v === "string"
        ? { name, value: v, source: `configmap ${ns}/${cmName} key ${key} ${source}` }
        : { name, unknown: `ConfigMap ${ns}/${cmName} key ${key} is not in the bundle`, source },
    );
  } else if (secretKey) {
    env.set(name, {
      name,
      secret: { name: str(secretKey.name) ?? "", key: str(secretKey.key) ?? "" },
      source,
    });
  } else if (field) {
    const path = str(field.fieldPath) ?? "";
    const v = fieldValue(ctx.pod, path);
    env.set(
      name,
      v === undefined
        ? { name, unknown: `fieldRef ${path} is not known`, source }
        : { name, value: v, source: `fieldRef ${path} ${source}` },
    );
  } else {
    env.set(name, { name, unknown: "resourceFieldRef values are not known", source });
  }
}

/**
 * The environment a pod's container starts with, from its spec: `envFrom` ConfigMaps (with prefix),
 * then `env` entries in order with `$(VAR)` expansion, `configMapKeyRef` values read from the given
 * ConfigMaps and `fieldRef` values from the pod. Secret values are never read: a `secretKeyRef`
 * variable is known to be set (so a `${NAME:default}` default does not apply) but its value is not.
 * Variables the image's Dockerfile sets and Service link variables are not in the pod spec.
 */
export function podEnvironment(pod: unknown, options: PodEnvironmentOptions = {}): PodEnvironment {
  const p = obj(pod) ?? {};
  const meta = obj(p.metadata) ?? {};
  const ns = str(meta.namespace) ?? "default";
  const podName = `${ns}/${str(meta.name) ?? "?"}`;
  const containers = arr(obj(p.spec)?.containers)
    .map(obj)
    .filter((c) => c !== undefined);
  const c =
    options.container === undefined ? containers[0] : containers.find((x) => x.name === options.container);
  if (!c) {
    const names = containers.map((x) => str(x.name)).join(", ");
    throw new RangeError(
      `Cannot find container "${options.container ?? ""}" in pod ${podName}: it has ${names || "none"}`,
    );
  }
  const container = str(c.name) ?? "?";
  const configMaps = new Map<string, Json>();
  for (const cm of options.configMaps ?? []) {
    const m = obj(obj(cm)?.metadata);
    if (m && str(m.namespace) === ns && str(m.name)) configMaps.set(str(m.name)!, obj(obj(cm)!.data) ?? {});
  }
  const where = (name: string) => {
    const line = options.lineOf?.(name);
    const file = options.file === undefined ? "" : `${options.file}${line === undefined ? "" : `:${line}`} `;
    return `${file}(pod ${podName}, container ${container})`;
  };
  const env = new Map<string, EnvVarValue>();
  const notes: string[] = [];
  if (obj(p.spec)?.enableServiceLinks !== false) {
    for (const v of serviceLinks(options.services ?? [], {
      namespace: ns,
      podCreated: str(meta.creationTimestamp),
    }))
      env.set(v.name, v);
  }
  const ctx: EnvContext = { pod: p, ns, configMaps, env, notes, where };
  for (const from of arr(c.envFrom).map(obj)) if (from) addEnvFrom(from, ctx);
  for (const e of arr(c.env).map(obj)) if (e) addEnvVar(e, ctx);
  const mountedFiles = mountedConfig(p, c, configMaps, env, notes, ns);
  return { container, env, notes, mountedFiles };
}

/** Config files in ConfigMap volumes, included when mounted where Spring looks (see {@linkcode PodEnvironment}). */
function mountedConfig(
  pod: Json,
  container: Json,
  configMaps: ReadonlyMap<string, Json>,
  env: ReadonlyMap<string, EnvVarValue>,
  notes: string[],
  ns: string,
): ConfigFile[] {
  const volumes = new Map<string, string>();
  for (const v of arr(obj(pod.spec)?.volumes).map(obj)) {
    const cm = str(obj(v?.configMap)?.name);
    if (v && cm !== undefined && str(v.name) !== undefined) volumes.set(str(v.name)!, cm);
  }
  const mounts = new Map<string, string>();
  for (const m of arr(container.volumeMounts).map(obj)) {
    const cm = volumes.get(str(m?.name) ?? "");
    if (cm !== undefined && str(m?.mountPath) !== undefined) mounts.set(cm, str(m!.mountPath)!);
  }
  const locations = [
    env.get("SPRING_CONFIG_LOCATION")?.value,
    env.get("SPRING_CONFIG_ADDITIONAL_LOCATION")?.value,
  ]
    .filter((x) => x !== undefined)
    .join(",");
  const out: ConfigFile[] = [];
  for (const cm of new Set(volumes.values())) {
    const data = configMaps.get(cm);
    const keys = Object.keys(data ?? {}).filter((k) => CONFIG_FILE_NAME.test(k));
    if (!data || keys.length === 0) continue;
    const mountPath = mounts.get(cm);
    const where = mountPath?.replace(/\/+$/, "");
    const read = where !== undefined && (/(^|\/)config$/.test(where) || locations.includes(where));
    if (!read) {
      notes.push(
        `ConfigMap ${ns}/${cm} holds ${keys.join(", ")}${mountPath === undefined ? " (mount path unknown)" : ` (mounted at ${mountPath})`}: not included; Spring reads it only from ./config/ or spring.config.location`,
      );
      continue;
    }
    for (const k of keys) {
      if (typeof data[k] === "string")
        out.push({ path: `configmap:${ns}/${cm}/config/${k}`, text: data[k] as string });
    }
    notes.push(
      `ConfigMap ${ns}/${cm} mounted at ${mountPath} adds ${keys.join(", ")} above the jar's own files`,
    );
  }
  return out;
}
