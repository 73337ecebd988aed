/**
 * Reads one API list of a bundle's `cluster/` directory (format in docs/bundle.md) into its plain
 * objects. Runs on the main thread or in a list worker (read-lists-worker.ts): it returns data and throws
 * only {@linkcode CollectError}, both of which cross back from a worker unchanged.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { CollectError } from "./collect-error.ts";
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

/** Where a bundle keeps the list of one kind of object, and how the user writes it. */
export interface ListFile<K extends ObjectKind = ObjectKind> {
  readonly kind: K;
  readonly file: string;
  readonly required: boolean;
  readonly command: string;
}

/** The list files of a bundle, in the order they are read (and their problems reported). */
export const CLUSTER_FILES: { readonly [K in ObjectKind]: ListFile<K> } = {
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

/** What one list file gave: its valid items, and a problem per item (or optional file) that was not. */
export interface ListRead<K extends ObjectKind = ObjectKind> {
  readonly items: KindTypes[K][];
  readonly problems: readonly ObjectProblem[];
}

/** Takes a list's items as they are converted, instead of the returned list (a list worker encodes them at once). */
export interface ItemSink {
  add(item: unknown): void;
  /** Forgets the items added so far: the file is read again whole, or gives none. */
  clear(): void;
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

/** A small file's text; undefined when it is absent. */
export async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new CollectError(`Cannot read ${path}: ${errorWords(error)}`, {
      cause: error,
    });
  }
}

/**
 * Reads the list file of `spec` in bundle `dir`. A file that cannot be used is an error when the
 * list is required, else a problem (and no items); an absent optional file is neither. With a
 * `sink`, the items go there as they come and the returned list has none.
 *
 * @throws {CollectError} When a required file is missing, unreadable, not JSON or not a list of its kind.
 */
export async function readKubeList<K extends ObjectKind>(
  dir: string,
  spec: ListFile<K>,
  options: { readonly sink?: ItemSink } = {},
): Promise<ListRead<K>> {
  const { sink } = options;
  const fail = (message: string): ListRead<K> => {
    sink?.clear();
    if (spec.required) throw new CollectError(message);
    return { items: [], problems: [{ file: spec.file, message }] };
  };
  const onItem = sink === undefined ? {} : { onItem: (item: unknown) => sink.add(item) };
  // kubectl's layout is read a window at a time; any other (or a broken file) is parsed whole below.
  const streamed = new ListConverter(spec.kind, spec.file, onItem);
  const list = await streamKubeList(join(dir, spec.file), (raw, line) => streamed.push(raw, line));
  if (list !== undefined) return converted(() => streamed.finish(list), fail);
  sink?.clear();
  const text = await readText(join(dir, spec.file));
  // An optional file that is simply absent is not a problem (configmaps.json is opt-in).
  if (text === undefined && !spec.required) return { items: [], problems: [] };
  if (text === undefined)
    return fail(`Cannot read bundle ${dir}: ${spec.file} is missing (write it with \`${spec.command}\`)`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return fail(jsonErrorMessage(spec.file, text, error as SyntaxError));
  }
  return converted(() => convertList(spec.kind, data, { file: spec.file, text, ...onItem }), fail);
}

function converted<K extends ObjectKind>(
  convert: () => ListRead<K>,
  fail: (message: string) => ListRead<K>,
): ListRead<K> {
  try {
    return convert();
  } catch (error) {
    if (error instanceof BundleSchemaError) return fail(error.message);
    throw error;
  }
}
