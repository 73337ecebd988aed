import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type PodEnvironment, podEnvironment } from "../config/pod-environment.ts";
import { CollectError } from "./collect-error.ts";
import { errorWords } from "./errno-words.ts";

async function readItems(
  bundle: string,
  rel: string,
  optional: boolean,
): Promise<{ items: unknown[]; text: string }> {
  let text: string;
  try {
    text = await readFile(join(bundle, rel), "utf8");
  } catch (error) {
    if (optional && (error as NodeJS.ErrnoException).code === "ENOENT") return { items: [], text: "" };
    throw new CollectError(`Cannot read "${rel}" in bundle "${bundle}": ${errorWords(error)}`);
  }
  try {
    const v = JSON.parse(text) as { items?: unknown };
    if (!Array.isArray(v.items)) throw new SyntaxError("no items array");
    return { items: v.items, text };
  } catch (error) {
    throw new CollectError(`Cannot parse "${rel}" in bundle "${bundle}": ${(error as Error).message}`);
  }
}

function lineAt(text: string, index: number): number {
  let n = 1;
  for (let i = text.indexOf("\n"); i >= 0 && i < index; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

export interface BundlePodEnvironment extends PodEnvironment {
  /** The pod object as read (for its IP and node). */
  readonly pod: unknown;
  readonly items: { readonly pods: readonly unknown[]; readonly configMaps: readonly unknown[] };
}

/**
 * Reads the environment of `NS/POD` from a bundle's `cluster/pods.json`, with ConfigMap values from
 * `cluster/configmaps.json` when present. Secrets are never read. Each variable's source names the
 * line of its definition in pods.json when it can be found.
 */
export async function readPodEnvironment(
  bundle: string,
  podRef: string,
  options: { container?: string } = {},
): Promise<BundlePodEnvironment> {
  const [ns, name, ...rest] = podRef.split("/");
  if (!ns || !name || rest.length > 0)
    throw new CollectError(`Cannot use pod "${podRef}": expected NAMESPACE/POD`);
  const pods = await readItems(bundle, "cluster/pods.json", false);
  const configMaps = await readItems(bundle, "cluster/configmaps.json", true);
  const services = await readItems(bundle, "cluster/services.json", true);
  const pod = pods.items.find((p) => {
    const m = (p as { metadata?: { name?: string; namespace?: string } }).metadata;
    return m?.name === name && (m.namespace ?? "default") === ns;
  });
  if (!pod)
    throw new CollectError(`Cannot find pod "${podRef}" in "cluster/pods.json" of bundle "${bundle}"`);
  // Locate the pod in the text to give each variable a line (kubectl prints one field per line).
  const podAt = pods.text.search(
    new RegExp(`"name":\\s*${JSON.stringify(name).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`),
  );
  const lineOf = (v: string) => {
    if (podAt < 0) return undefined;
    const i = pods.text.indexOf(`"name": ${JSON.stringify(v)}`, podAt);
    return i < 0 ? undefined : lineAt(pods.text, i);
  };
  let env: PodEnvironment;
  try {
    env = podEnvironment(pod, {
      ...options,
      configMaps: configMaps.items,
      services: services.items,
      file: "cluster/pods.json",
      lineOf,
    });
  } catch (error) {
    // podEnvironment documents one RangeError: the --container that the pod does not have.
    if (error instanceof RangeError && /^Cannot find container/.test(error.message))
      throw new CollectError(error.message, { cause: error });
    throw error;
  }
  return { ...env, pod, items: { pods: pods.items, configMaps: configMaps.items } };
}
