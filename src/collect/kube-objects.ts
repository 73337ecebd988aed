/**
 * Conversion of `kubectl get -o json` lists into the plain {@linkcode ClusterState} types: the list
 * checks here, one converter per kind beside it. Pure (no I/O) so the demo generator and tests use it too.
 * Each problem names the file, the item and the field.
 */
import type {
  ConfigMap,
  EndpointSlice,
  EndpointsObject,
  Node,
  ObjectSource,
  Pod,
  Service,
} from "../model/cluster.ts";
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
  // Only a pod's uid is ever read (downward API): the others are not kept.
  EndpointSlice: (item: Json) => toEndpointSlice(item, objectMeta(item, true, { uid: false })),
  Endpoints: (item: Json) => toEndpoints(item, objectMeta(item, true, { uid: false })),
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
  return uidLinesFrom(text, 1).lines;
}

/**
 * {@linkcode uidLines} of a piece of a file whose first line is `firstLine`; also the line the
 * piece ends on, so the next piece can continue the count.
 */
export function uidLinesFrom(text: string, firstLine: number): { lines: Map<string, number>; end: number } {
  const lines = new Map<string, number>();
  const re = /"uid"\s*:\s*"([^"\\]+)"/g;
  let line = firstLine;
  let pos = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    for (let i = text.indexOf("\n", pos); i !== -1 && i < m.index; i = text.indexOf("\n", i + 1)) line++;
    pos = m.index;
    if (!lines.has(m[1]!)) lines.set(m[1]!, line);
  }
  for (let i = text.indexOf("\n", pos); i !== -1; i = text.indexOf("\n", i + 1)) line++;
  return { lines, end: line };
}

function label(raw: unknown): string {
  if (!isObj(raw) || !isObj(raw.metadata)) return "";
  const m = raw.metadata;
  return ` (${[m.namespace, m.name].filter((x) => typeof x === "string").join("/")})`;
}

/**
 * Converts the items of one list of `kind` as they come (a streamed file hands them over one
 * window at a time): valid items are kept, invalid ones become problems. {@linkcode finish} checks
 * the list itself.
 */
export class ListConverter<K extends ObjectKind> {
  readonly items: KindTypes[K][] = [];
  readonly problems: ObjectProblem[] = [];
  readonly #kind: K;
  readonly #file: string;
  readonly #convert: (j: Json) => KindTypes[K];
  #count = 0;
  /** The first item's kind when it is not `kind`, while every item so far shares it. */
  #otherKind: unknown;
  #allOther = true;

  readonly #onItem: ((item: KindTypes[K]) => void) | undefined;

  /** `onItem` takes each valid item instead of {@linkcode items} (a list worker encodes it at once). */
  constructor(kind: K, file: string, options: { readonly onItem?: (item: KindTypes[K]) => void } = {}) {
    this.#kind = kind;
    this.#file = file;
    this.#convert = CONVERT[kind] as (j: Json) => KindTypes[K];
    this.#onItem = options.onItem;
  }

  /** One raw item; `line`: where its uid is in the file. */
  push(raw: unknown, line: number | undefined): void {
    const i = this.#count++;
    const kind = this.#kind;
    if (i === 0 && isObj(raw) && raw.kind !== undefined && raw.kind !== kind) this.#otherKind = raw.kind;
    if (this.#otherKind !== undefined && this.#allOther)
      this.#allOther = isObj(raw) && raw.kind === this.#otherKind;
    try {
      const item = obj(raw, "item");
      if (item.kind !== undefined && item.kind !== kind)
        throw new ItemError(`kind: expected ${kind}, got ${describe(item.kind)}`);
      const converted = this.#convert(item) as { source?: ObjectSource };
      converted.source = line === undefined ? { file: this.#file } : { file: this.#file, line };
      if (this.#onItem === undefined) this.items.push(converted as KindTypes[K]);
      else this.#onItem(converted as KindTypes[K]);
    } catch (error) {
      if (!(error instanceof ItemError)) throw error;
      this.problems.push({
        file: this.#file,
        ...(line === undefined ? {} : { line }),
        message: `Cannot read ${this.#file} items[${i}]${label(raw)}: ${error.message}`,
      });
    }
  }

  /**
   * Checks the list object (its `items` are already pushed) and returns what was read.
   *
   * @throws {BundleSchemaError} When the file is not a list of that kind at all.
   */
  finish(list: unknown): { items: KindTypes[K][]; problems: ObjectProblem[] } {
    checkList(this.#kind, list, this.#file);
    if (this.#otherKind !== undefined && this.#allOther) {
      throw new BundleSchemaError(
        `Cannot read ${this.#file}: expected ${this.#kind} objects, got a list of ${describe(this.#otherKind)}`,
      );
    }
    return { items: this.items, problems: this.problems };
  }
}

/** @throws {BundleSchemaError} When `list` is not a list object of `kind` (its items aside). */
function checkList(kind: ObjectKind, list: unknown, file: string): void {
  if (!isObj(list))
    throw new BundleSchemaError(`Cannot read ${file}: expected a ${kind}List object, got ${describe(list)}`);
  const listKind = list.kind;
  if (listKind !== `${kind}List` && listKind !== "List") {
    throw new BundleSchemaError(
      `Cannot read ${file}: expected kind ${kind}List (kubectl get ${kind === "Endpoints" ? "endpoints" : `${kind.toLowerCase()}s`} -o json), got ${describe(listKind)}`,
    );
  }
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
  options: { file: string; text?: string; onItem?: (item: KindTypes[K]) => void },
): { items: KindTypes[K][]; problems: ObjectProblem[] } {
  const { file } = options;
  // The list checks come first: a file that is no list at all says so before any item does.
  checkList(kind, data, file);
  const rawItems = (data as Json).items;
  if (!Array.isArray(rawItems)) throw new BundleSchemaError(`Cannot read ${file}: "items" is not an array`);
  const lines = options.text === undefined ? new Map<string, number>() : uidLines(options.text);
  const converter = new ListConverter(
    kind,
    file,
    options.onItem === undefined ? {} : { onItem: options.onItem },
  );
  for (const raw of rawItems) {
    const uid = isObj(raw) && isObj(raw.metadata) ? raw.metadata.uid : undefined;
    converter.push(raw, typeof uid === "string" ? lines.get(uid) : undefined);
  }
  return converter.finish(data);
}
