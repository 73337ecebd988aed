/** Catalogue entries of the client's configuration and of the bundle itself. */
import { type FindingEntry, REF } from "./finding-entry.ts";

export interface ConfigPodIpValues {
  /** Where the value is configured, e.g. `env NACOS_HOST of container gw of pod eopx/gw-1`. */
  readonly where: string;
  /** The configured value, e.g. `10.42.1.23:8848`. */
  readonly value: string;
  readonly ip: string;
  /** Who has the IP: a pod (it works until that pod restarts), or nobody in a node's pod range (stale). */
  readonly owner:
    | { readonly kind: "pod"; readonly pod: string; readonly node?: string; readonly service?: string }
    | { readonly kind: "stale"; readonly node: string; readonly podCIDR: string };
  /** The environment variable that put the IP there, and the default it overrides. */
  readonly env?: { readonly name: string; readonly overrides?: string; readonly overridesService?: string };
  /** The Service name to use instead, as the client writes it (`eopx-register`, `svc.other-ns`). */
  readonly useInstead?: string;
  /** The ports the pod serves for that Service (they differ from the Service's port sometimes). */
  readonly podPorts?: readonly number[];
}

export interface BundleInvalidValues {
  /** What could not be read, with its path (the reader's one-line message). */
  readonly problem: string;
}

function what(v: ConfigPodIpValues): string {
  const o = v.owner;
  if (o.kind === "stale")
    return `which is in node ${o.node}'s pod range ${o.podCIDR} but no pod has it now: a stale pod IP, nothing answers there`;
  return (
    `the IP of pod ${o.pod}${o.node === undefined ? "" : ` on ${o.node}`}` +
    (o.service === undefined ? "; no Service fronts it" : `, which Service ${o.service} fronts`) +
    ": it breaks when that pod restarts and gets a new IP"
  );
}

function via(v: ConfigPodIpValues): string {
  if (v.env === undefined) return "";
  const d = v.env.overrides;
  return (
    `. It comes from environment variable ${v.env.name}` +
    (d === undefined
      ? ""
      : `, which overrides the default "${d}"${v.env.overridesService === undefined ? "" : ` (the Service ${v.env.overridesService})`}`)
  );
}

export const CONFIG_POD_IP: FindingEntry<ConfigPodIpValues> = {
  code: "config-pod-ip",
  severity: {
    rule: "warning; error when no pod has the IP any more",
    of: (v) => (v.owner.kind === "stale" ? "error" : "warning"),
  },
  title: "A pod IP pinned in the client's configuration",
  explanation:
    "An env var of the client pod (literal or from a ConfigMap), a key of a ConfigMap it loads or mounts, or (with --jar) an endpoint of the app's Spring configuration holds a pod's IP. It works until that pod restarts and gets a new IP; the Service name is the stable address. An address in a node's pod range that no pod has any more is already stale.",
  message: (v) =>
    `${v.where} pins ${v.ip}${v.value === v.ip ? "" : ` (in "${v.value}")`}, ${what(v)}${via(v)}`,
  fix: (v) => {
    if (v.env?.overrides !== undefined)
      return `Remove ${v.env.name} from the workload's env so the default "${v.env.overrides}" applies: dial the Service, not a pod`;
    if (v.useInstead !== undefined) {
      const ports =
        v.podPorts === undefined || v.podPorts.length === 0
          ? ""
          : ` (port ${v.podPorts.join(", ")} on the pod; use the Service's port)`;
      return `Use the Service name instead of the pod IP: ${v.useInstead}${ports}`;
    }
    return v.owner.kind === "pod"
      ? `Put a Service in front of ${v.owner.pod} and use its name instead of ${v.ip}`
      : `Use the Service's name instead of ${v.ip}: no pod has it any more`;
  },
  references: [REF.service],
};

export const BUNDLE_INVALID: FindingEntry<BundleInvalidValues> = {
  code: "bundle-invalid",
  severity: "warning",
  title: "Part of the bundle could not be used",
  explanation:
    "Part of the bundle could not be used and was skipped: an item of a cluster/*.json list that fails its schema, an optional file that does not parse, a node directory without iptables-save.txt, a dump that does not parse, an API node without a directory. What depends on it is undecided.",
  message: (v) => v.problem,
  fix: () => "Collect the file again (see docs/bundle.md for the command that writes it)",
  references: [],
};
