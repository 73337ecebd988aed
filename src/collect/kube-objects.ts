/**
 * Conversion of `kubectl get -o json` lists into the plain {@linkcode ClusterState} types: the list
 * checks here, one converter per kind beside it. Pure (no I/O) so the demo generator and tests use it too.
 * Each problem names the file, the item and the field.
 */
import type { ConfigMap, EndpointSlice, EndpointsObject, Node, Pod, Service } from "../model/cluster.ts";
import { toEndpointSlice, toEndpoints } from "./endpoint-objects.ts";
import { describe, ItemError, isObj, type Json, obj, strMap } from "./json-checks.ts";
import { objectMeta } from "./object-meta.ts";
import { toNode } from "./to-node.ts";
import { toPod } from "./to-pod.ts";
import { toService } from "./to-service.ts";

/** The object kinds of a bundle's `cluster/` files. */
export type ObjectKind = "Pod" | "Service" | "EndpointSlice" | "Endpoints" | "Node" | "ConfigMap";

/** A problem with one item (the item is skipped) or with the whole file (thrown by the reader). */
export interface ObjectProblem {
  readonly file: string;
  readonly line?: number;
  readonly message: string;
}

/** Thrown for a whole-file problem: not a list of the expected kind. */
export class BundleSchemaError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = "BundleSchemaError";
  }
}

function toConfigMap(item: Json): ConfigMap {
  return { metadata: objectMeta(item, true), data: strMap(item.data, "data") ?? {} };
}

const CONVERT = {
  Pod: toPod,
  Service: toService,
  EndpointSlice: (item: Json) => toEndpointSlice(item, objectMeta(item, true)),
  Endpoints: (item: Json) => toEndpoints(item, objectMeta(item, true)),
  Node: toNode,
  ConfigMap: toConfigMap,
} as const;

/** Kind → object type. */
export interface KindTypes {
  Pod: Pod;
  Service: Service;
  EndpointSlice: EndpointSlice;
  Endpoints: EndpointsObject;
  Node: Node;
  ConfigMap: ConfigMap;
}

/** 1-indexed line of each `"uid": "…"` in the text, for evidence pointing into JSON files. */
export function uidLines(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const re = /"uid"\s*:\s*"([^"\\]+)"/g;
  let line = 1;
  let pos = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    for (let i = text.indexOf("\n", pos); i !== -1 && i < m.index; i = text.indexOf("\n", i + 1)) line++;
    pos = m.index;
    if (!out.has(m[1]!)) out.set(m[1]!, line);
  }
  return out;
}

/**
 * Checks that `data` (already JSON-parsed from `file`) is a list of `kind` objects and converts
 * each valid item; invalid items are skipped and returned as problems.
 *
 * @throws {BundleSchemaError} When the file is not a list of that kind at all.
 */
export function convertList<K extends ObjectKind>(
  kind: K,
  data: unknown,
  options: { file: string; text?: string },
): { items: KindTypes[K][]; problems: ObjectProblem[] } {
  const { file } = options;
  if (!isObj(data))
    throw new BundleSchemaError(`Cannot read ${file}: expected a ${kind}List object, got ${describe(data)}`);
  const listKind = data.kind;
  if (listKind !== `${kind}List` && listKind !== "List") {
    throw new BundleSchemaError(
      `Cannot read ${file}: expected kind ${kind}List (kubectl get ${kind === "Endpoints" ? "endpoints" : `${kind.toLowerCase()}s`} -o json), got ${describe(listKind)}`,
    );
  }
  const rawItems = data.items;
  if (!Array.isArray(rawItems)) throw new BundleSchemaError(`Cannot read ${file}: "items" is not an array`);
  const lines = options.text === undefined ? new Map<string, number>() : uidLines(options.text);
  const items: KindTypes[K][] = [];
  const problems: ObjectProblem[] = [];
  rawItems.forEach((raw: unknown, i: number) => {
    const label =
      isObj(raw) && isObj(raw.metadata)
        ? ` (${[raw.metadata.namespace, raw.metadata.name].filter((x) => typeof x === "string").join("/")})`
        : "";
    const uid =
      isObj(raw) && isObj(raw.metadata) && typeof raw.metadata.uid === "string"
        ? raw.metadata.uid
        : undefined;
    const line = uid === undefined ? undefined : lines.get(uid);
    try {
      const item = obj(raw, "item");
      if (item.kind !== undefined && item.kind !== kind) {
        if (i === 0 && (rawItems as unknown[]).every((x) => isObj(x) && x.kind === item.kind)) {
          throw new BundleSchemaError(
            `Cannot read ${file}: expected ${kind} objects, got a list of ${describe(item.kind)}`,
          );
        }
        throw new ItemError(`kind: expected ${kind}, got ${describe(item.kind)}`);
      }
      const converted = (CONVERT[kind] as (j: Json) => KindTypes[K])(item);
      items.push({ ...converted, source: line === undefined ? { file } : { file, line } });
    } catch (error) {
      if (error instanceof ItemError) {
        problems.push({
          file,
          ...(line === undefined ? {} : { line }),
          message: `Cannot read ${file} items[${i}]${label}: ${error.message}`,
        });
      } else throw error;
    }
  });
  return { items, problems };
}
