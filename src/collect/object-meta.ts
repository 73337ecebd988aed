/** The `metadata` block every API object shares, checked field by field. */
import type { ObjectMeta } from "../model/cluster.ts";
import { ItemError, type Json, obj, optStr, str, strMap, type Writable } from "./json-checks.ts";

/**
 * The labels of the object read before: a value equal to its value under the same key is kept
 * once. Controllers stamp the same labels on thousands of objects (every EndpointSlice carries
 * `endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io`), and JSON.parse gives
 * each its own copy.
 */
let previousLabels: Readonly<Record<string, string>> = {};

function sharedValues(labels: Record<string, string>): Record<string, string> {
  const previous = previousLabels;
  for (const key of Object.keys(labels)) {
    const before = previous[key];
    if (before !== undefined && before === labels[key]) labels[key] = before;
  }
  previousLabels = labels;
  return labels;
}

/**
 * The `metadata` of one API object: name, namespace (required when `namespaced`), uid, labels and
 * annotations. `uid: false` checks the uid but does not keep it: only a pod's is ever read (the
 * downward API); the reader finds an object's line by it before conversion.
 *
 * @throws {ItemError} When a field has the wrong type or a namespaced object has no namespace.
 */
export function objectMeta(item: Json, namespaced: boolean, options: { uid?: boolean } = {}): ObjectMeta {
  const m = obj(item.metadata, "metadata");
  const name = str(m.name, "metadata.name");
  const namespace = optStr(m.namespace, "metadata.namespace");
  if (namespaced && namespace === undefined) throw new ItemError("metadata.namespace: missing");
  const uid = optStr(m.uid, "metadata.uid");
  const labels = strMap(m.labels, "metadata.labels");
  const annotations = strMap(m.annotations, "metadata.annotations");
  // Built from {} (four in-object fields), not from a one-field literal that then grows a property array.
  const out = {} as Writable<ObjectMeta>;
  out.name = name;
  if (namespace !== undefined) out.namespace = namespace;
  if (uid !== undefined && options.uid !== false) out.uid = uid;
  if (labels !== undefined) out.labels = sharedValues(labels);
  if (annotations !== undefined) out.annotations = annotations;
  return out;
}
