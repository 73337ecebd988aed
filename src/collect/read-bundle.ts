/**
 * Reads a netdoctor cluster bundle directory (format in docs/bundle.md): the API lists of
 * `cluster/`, validated per kind, and the node directories of `nodes/`. A required cluster file
 * that is missing or not a list of its kind stops with a {@linkcode CollectError} naming the path;
 * a bad item or an optional file becomes a `bundle-invalid` finding and the rest is still
 * diagnosed. Node directories are read one at a time by `readBundleNode` (bundle-node-evidence.ts).
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { makeFinding } from "../findings/make-finding.ts";
import type { ClusterState, Pod } from "../model/cluster.ts";
import type { Finding } from "../model/finding.ts";
import { BUNDLE_FORMAT } from "./bundle-writer.ts";
import { CollectError } from "./collect-error.ts";
import { selectEndpointSource } from "./endpoint-objects.ts";
import { errorWords } from "./errno-words.ts";
import type { KindTypes, ObjectKind } from "./kube-objects.ts";
import { CLUSTER_FILES, jsonErrorMessage, type ListFile, readKubeList, readText } from "./read-kube-list.ts";
import { type ReadListsOptions, readLists } from "./read-lists.ts";

export interface BundleMeta {
  readonly format: string;
  readonly cluster?: string;
  readonly collectedAt?: string;
}

/** A bundle's API side and its node directories (dumps are read per node, see {@linkcode readBundleNode}). */
export interface Bundle {
  readonly dir: string;
  readonly meta: BundleMeta;
  readonly cluster: ClusterState;
  /** Names of the directories under `nodes/`. */
  readonly nodeDirs: readonly string[];
  /** `bundle-invalid` findings: what could not be read, with its path. */
  readonly problems: readonly Finding[];
}

function invalid(file: string, message: string, line?: number): Finding {
  const evidence = [{ file, ...(line === undefined ? {} : { line }), text: message }];
  return makeFinding("bundle-invalid", { problem: message }, { evidence });
}

/** Reads `bundle.json`; a missing file is a problem (the current format is assumed), a wrong one throws. */
async function readMeta(dir: string, problems: Finding[]): Promise<BundleMeta> {
  const metaText = await readText(join(dir, "bundle.json"));
  if (metaText === undefined) {
    problems.push(
      invalid("bundle.json", `Cannot read bundle.json: it is missing; assuming ${BUNDLE_FORMAT}`),
    );
    return { format: BUNDLE_FORMAT };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(metaText);
  } catch (error) {
    throw new CollectError(jsonErrorMessage("bundle.json", metaText, error as SyntaxError));
  }
  const o = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
  if (o.format !== BUNDLE_FORMAT) {
    throw new CollectError(
      `Cannot read bundle.json: "format" must be "${BUNDLE_FORMAT}", got ${JSON.stringify(o.format ?? null)}`,
    );
  }
  return {
    format: BUNDLE_FORMAT,
    ...(typeof o.cluster === "string" ? { cluster: o.cluster } : {}),
    ...(typeof o.collectedAt === "string" ? { collectedAt: o.collectedAt } : {}),
  };
}

/** Options of {@linkcode readBundle}. */
export interface ReadBundleOptions {
  /**
   * Called once the pods and the node directories are known, before the other lists are (which
   * may take seconds on a large cluster): the caller may start reading the node it needs.
   * `workers`: whether lists are being read in workers, so that the main thread has time to spare.
   */
  readonly onPods?: (
    pods: readonly Pod[],
    context: { readonly nodeDirs: readonly string[]; readonly workers: boolean },
  ) => void;
  /** Where the large lists are read (read-lists.ts). */
  readonly lists?: ReadListsOptions;
}

/** The names of the directories under `nodes/`; a problem when there are none to list. */
async function listNodeDirs(dir: string): Promise<string[] | undefined> {
  try {
    const entries = await readdir(join(dir, "nodes"), { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return undefined;
  }
}

async function checkDir(dir: string): Promise<void> {
  try {
    if (!(await stat(dir)).isDirectory())
      throw new CollectError(`Cannot read bundle ${dir}: not a directory`);
  } catch (error) {
    if (error instanceof CollectError) throw error;
    throw new CollectError(`Cannot read bundle ${dir}: ${errorWords(error)}`, { cause: error });
  }
}

/**
 * Reads `bundle.json` and `cluster/*.json` and lists the node directories. The pods are read
 * first; the other lists, when large, in workers at the same time (read-lists.ts).
 *
 * @throws {CollectError} When the directory or a required cluster file cannot be used.
 */
export async function readBundle(dir: string, options: ReadBundleOptions = {}): Promise<Bundle> {
  await checkDir(dir);
  const problems: Finding[] = [];
  const meta = await readMeta(dir, problems);
  // Endpoints (v1) stand in for EndpointSlices on clusters that have none: then slices are optional.
  const hasEndpoints = await present(join(dir, CLUSTER_FILES.Endpoints.file));
  const hasSlices = await present(join(dir, CLUSTER_FILES.EndpointSlice.file));
  const { Pod: podFile, ...rest } = CLUSTER_FILES;
  const lists = await readLists(
    dir,
    Object.values({ ...rest, EndpointSlice: { ...rest.EndpointSlice, required: !hasEndpoints } }),
    options.lists,
  );
  // Every list in the order of CLUSTER_FILES, so the first broken one is the one reported.
  const read = async <K extends ObjectKind>(spec: ListFile<K> | K): Promise<KindTypes[K][]> => {
    const r = typeof spec === "string" ? await lists.read(spec) : await readKubeList(dir, spec);
    for (const p of r.problems) problems.push(invalid(p.file, p.message, p.line));
    return r.items;
  };
  let cluster: Omit<ClusterState, "endpointSource"> & { endpoints: KindTypes["Endpoints"][] };
  let nodeDirs: string[] | undefined;
  try {
    const pods = await read(podFile);
    nodeDirs = await listNodeDirs(dir);
    options.onPods?.(pods, { nodeDirs: nodeDirs ?? [], workers: lists.workers > 0 });
    cluster = {
      pods,
      services: await read("Service"),
      endpointSlices: await read("EndpointSlice"),
      endpoints: await read("Endpoints"),
      nodes: await read("Node"),
      configMaps: await read("ConfigMap"),
    };
  } catch (error) {
    lists.cancel();
    throw error;
  }
  return assemble(dir, { meta, cluster, hasSlices, hasEndpoints, nodeDirs, problems });
}

/** The bundle from its lists: the endpoint source chosen, the node directories checked against the Nodes. */
function assemble(
  dir: string,
  r: {
    readonly meta: BundleMeta;
    readonly cluster: Omit<ClusterState, "endpointSource"> & { endpoints: KindTypes["Endpoints"][] };
    readonly hasSlices: boolean;
    readonly hasEndpoints: boolean;
    readonly nodeDirs: string[] | undefined;
    readonly problems: Finding[];
  },
): Bundle {
  const { endpoints, ...cluster } = r.cluster;
  const { nodes } = cluster;
  const chosen = selectEndpointSource({
    ...(r.hasSlices
      ? { slices: { file: CLUSTER_FILES.EndpointSlice.file, items: cluster.endpointSlices } }
      : {}),
    ...(r.hasEndpoints ? { endpoints: { file: CLUSTER_FILES.Endpoints.file, items: endpoints } } : {}),
    nodes,
  });
  const problems = r.problems;
  if (r.nodeDirs === undefined) {
    problems.push(
      invalid(
        "nodes/",
        "Cannot read nodes/: the bundle has no node directories, so no node's rules can be checked",
      ),
    );
  }
  const nodeDirs = r.nodeDirs ?? [];
  for (const n of nodes) {
    if (!nodeDirs.includes(n.metadata.name)) {
      problems.push(
        invalid(
          `nodes/${n.metadata.name}/`,
          `Cannot check node "${n.metadata.name}": the bundle has no nodes/${n.metadata.name}/ directory`,
        ),
      );
    }
  }
  return {
    dir,
    meta: r.meta,
    cluster: {
      ...cluster,
      endpointSlices: chosen.slices,
      ...(chosen.source === undefined ? {} : { endpointSource: chosen.source }),
    },
    nodeDirs,
    problems,
  };
}

async function present(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export { type BundleNode, readBundleNode } from "./bundle-node-evidence.ts";
export { jsonErrorMessage } from "./read-kube-list.ts";
