/**
 * Reads a netdoctor cluster bundle directory (format in docs/bundle.md): the API lists of
 * `cluster/`, validated per kind, and the node directories of `nodes/`. A required cluster file
 * that is missing or not a list of its kind stops with a {@linkcode CollectError} naming the path;
 * a bad item or an optional file becomes a `bundle-invalid` finding and the rest is still
 * diagnosed. Node directories are read one at a time by `readBundleNode` (bundle-node-evidence.ts).
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { makeFinding } from "../findings/make-finding.ts";
import type { ClusterState } from "../model/cluster.ts";
import type { Finding } from "../model/finding.ts";
import { BUNDLE_FORMAT } from "./bundle-writer.ts";
import { CollectError } from "./collect-error.ts";
import { selectEndpointSource } from "./endpoint-objects.ts";
import { errorWords } from "./errno-words.ts";
import {
  BundleSchemaError,
  convertList,
  type KindTypes,
  ListConverter,
  type ObjectKind,
  type ObjectProblem,
} from "./kube-objects.ts";
import { streamKubeList } from "./stream-kube-list.ts";

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

/** `Unexpected token … in JSON at position 123` → line and column of position 123. */
export function jsonErrorMessage(file: string, text: string, error: SyntaxError): string {
  const m = /position (\d+)/.exec(error.message);
  const detail = error.message
    .replace(/^JSON\.parse: /, "")
    .replace(/ in JSON at position \d+.*$/, "")
    .replace(/, "[\s\S]*" is not valid JSON$/, "");
  if (m === null) {
    if (/Unexpected end of JSON input/.test(error.message) || text.trim() === "") {
      const lines = text.split("\n");
      return `Cannot parse ${file} at line ${lines.length}, column ${lines.at(-1)!.length + 1}: unexpected end of JSON`;
    }
    return `Cannot parse ${file}: ${detail}`;
  }
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split("\n").length;
  const column = pos - before.lastIndexOf("\n");
  return `Cannot parse ${file} at line ${line}, column ${column}: ${detail}`;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new CollectError(`Cannot read ${path}: ${errorWords(error)}`, {
      cause: error,
    });
  }
}

/** Where a bundle keeps the list of one kind of object, and how the user writes it. */
interface ListFile<K extends ObjectKind> {
  readonly kind: K;
  readonly file: string;
  readonly required: boolean;
  readonly command: string;
}

const CLUSTER_FILES: { readonly [K in ObjectKind]: ListFile<K> } = {
  Pod: { kind: "Pod", file: "cluster/pods.json", required: true, command: "kubectl get pods -A -o json" },
  Service: {
    kind: "Service",
    file: "cluster/services.json",
    required: true,
    command: "kubectl get services -A -o json",
  },
  EndpointSlice: {
    kind: "EndpointSlice",
    file: "cluster/endpointslices.json",
    required: true,
    command: "kubectl get endpointslices -A -o json",
  },
  Endpoints: {
    kind: "Endpoints",
    file: "cluster/endpoints.json",
    required: false,
    command: "kubectl get endpoints -A -o json",
  },
  Node: { kind: "Node", file: "cluster/nodes.json", required: true, command: "kubectl get nodes -o json" },
  ConfigMap: {
    kind: "ConfigMap",
    file: "cluster/configmaps.json",
    required: false,
    command: "kubectl get configmaps -A -o json",
  },
};

async function readList<K extends ObjectKind>(
  dir: string,
  spec: ListFile<K>,
  problems: Finding[],
): Promise<KindTypes[K][]> {
  const fail = (message: string): KindTypes[K][] => {
    if (spec.required) throw new CollectError(message);
    problems.push(invalid(spec.file, message));
    return [];
  };
  // kubectl's layout is read a window at a time; any other (or a broken file) is parsed whole below.
  const streamed = new ListConverter(spec.kind, spec.file);
  const list = await streamKubeList(join(dir, spec.file), (raw, line) => streamed.push(raw, line));
  if (list !== undefined) return converted(() => streamed.finish(list), problems, fail);
  const text = await readText(join(dir, spec.file));
  // An optional file that is simply absent is not a problem (configmaps.json is opt-in).
  if (text === undefined && !spec.required) return [];
  if (text === undefined)
    return fail(`Cannot read bundle ${dir}: ${spec.file} is missing (write it with \`${spec.command}\`)`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return fail(jsonErrorMessage(spec.file, text, error as SyntaxError));
  }
  return converted(() => convertList(spec.kind, data, { file: spec.file, text }), problems, fail);
}

function converted<T>(
  convert: () => { items: T[]; problems: readonly ObjectProblem[] },
  problems: Finding[],
  fail: (message: string) => T[],
): T[] {
  try {
    const { items, problems: bad } = convert();
    for (const p of bad) problems.push(invalid(p.file, p.message, p.line));
    return items;
  } catch (error) {
    if (error instanceof BundleSchemaError) return fail(error.message);
    throw error;
  }
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

/**
 * Reads `bundle.json` and `cluster/*.json` and lists the node directories.
 *
 * @throws {CollectError} When the directory or a required cluster file cannot be used.
 */
export async function readBundle(dir: string): Promise<Bundle> {
  try {
    if (!(await stat(dir)).isDirectory())
      throw new CollectError(`Cannot read bundle ${dir}: not a directory`);
  } catch (error) {
    if (error instanceof CollectError) throw error;
    throw new CollectError(`Cannot read bundle ${dir}: ${errorWords(error)}`, { cause: error });
  }
  const problems: Finding[] = [];
  const meta = await readMeta(dir, problems);
  // Endpoints (v1) stand in for EndpointSlices on clusters that have none: then slices are optional.
  const hasEndpoints = await present(join(dir, CLUSTER_FILES.Endpoints.file));
  const hasSlices = await present(join(dir, CLUSTER_FILES.EndpointSlice.file));
  const [pods, services, slices, endpoints, nodes, configMaps] = [
    await readList(dir, CLUSTER_FILES.Pod, problems),
    await readList(dir, CLUSTER_FILES.Service, problems),
    await readList(dir, { ...CLUSTER_FILES.EndpointSlice, required: !hasEndpoints }, problems),
    await readList(dir, CLUSTER_FILES.Endpoints, problems),
    await readList(dir, CLUSTER_FILES.Node, problems),
    await readList(dir, CLUSTER_FILES.ConfigMap, problems),
  ];
  const chosen = selectEndpointSource({
    ...(hasSlices ? { slices: { file: CLUSTER_FILES.EndpointSlice.file, items: slices } } : {}),
    ...(hasEndpoints ? { endpoints: { file: CLUSTER_FILES.Endpoints.file, items: endpoints } } : {}),
    nodes,
  });
  const endpointSlices = chosen.slices;
  let nodeDirs: string[] = [];
  try {
    const entries = await readdir(join(dir, "nodes"), { withFileTypes: true });
    nodeDirs = entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    problems.push(
      invalid(
        "nodes/",
        "Cannot read nodes/: the bundle has no node directories, so no node's rules can be checked",
      ),
    );
  }
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
    meta,
    cluster: {
      pods,
      services,
      endpointSlices,
      nodes,
      configMaps,
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
