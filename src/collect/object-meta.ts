/** The `metadata` block every API object shares, checked field by field. */
import type { ObjectMeta } from "../model/cluster.ts";
import { ItemError, type Json, obj, optStr, str, strMap, type Writable } from "./json-checks.ts";

/**
 * The `metadata` of one API object: name, namespace (required when `namespaced`), uid, labels and
 * annotations.
 *
 * @throws {ItemError} When a field has the wrong type or a namespaced object has no namespace.
 */
export function objectMeta(item: Json, namespaced: boolean): ObjectMeta {
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
  if (uid !== undefined) out.uid = uid;
  if (labels !== undefined) out.labels = labels;
  if (annotations !== undefined) out.annotations = annotations;
  return out;
}
