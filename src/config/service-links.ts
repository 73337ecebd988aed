import { arr, type Json, obj, str } from "./json-fields.ts";
import type { EnvVarValue } from "./property-sources.ts";

/**
 * The kubelet's Docker-link-style variables for the Services of a namespace (created before the
 * pod, when both timestamps are known), plus the `kubernetes` Service of `default`. A Service named
 * `nacos` thus sets `NACOS_PORT=tcp://10.43.0.5:8848`, which a `${NACOS_PORT:8848}` then picks up.
 */
export function serviceLinks(
  services: readonly unknown[],
  options: { readonly namespace: string; readonly podCreated?: string | undefined },
): EnvVarValue[] {
  const ns = options.namespace;
  const podCreated = options.podCreated;
  const out: EnvVarValue[] = [];
  for (const item of services) {
    const svc = obj(item);
    const meta = obj(svc?.metadata);
    const spec = obj(svc?.spec);
    const name = str(meta?.name);
    const svcNs = str(meta?.namespace) ?? "default";
    const ip = str(spec?.clusterIP);
    if (!name || !ip || ip === "None") continue;
    if (svcNs !== ns && !(svcNs === "default" && name === "kubernetes")) continue;
    const created = str(meta?.creationTimestamp);
    if (podCreated !== undefined && created !== undefined && created > podCreated) continue;
    const ports = arr(spec?.ports)
      .map(obj)
      .filter((x): x is Json => x !== undefined && typeof x.port === "number");
    if (ports.length === 0) continue;
    const prefix = name.toUpperCase().replace(/-/g, "_");
    const source = `service link of Service ${svcNs}/${name}`;
    const add = (n: string, value: string) => out.push({ name: n, value, source });
    const first = ports[0]!;
    const proto = (p: Json) => (str(p.protocol) ?? "TCP").toLowerCase();
    add(`${prefix}_SERVICE_HOST`, ip);
    add(`${prefix}_SERVICE_PORT`, String(first.port));
    for (const p of ports) {
      const pn = str(p.name);
      if (pn) add(`${prefix}_SERVICE_PORT_${pn.toUpperCase().replace(/-/g, "_")}`, String(p.port));
    }
    add(`${prefix}_PORT`, `${proto(first)}://${ip}:${first.port}`);
    for (const p of ports) {
      const base = `${prefix}_PORT_${p.port}_${proto(p).toUpperCase()}`;
      add(base, `${proto(p)}://${ip}:${p.port}`);
      add(`${base}_PROTO`, proto(p));
      add(`${base}_PORT`, String(p.port));
      add(`${base}_ADDR`, ip);
    }
  }
  return out;
}
