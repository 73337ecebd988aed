/**
 * Lenient readers for Kubernetes objects as found in `kubectl get -o json` output: a field of the
 * wrong type reads as absent (never a throw), since a pod or Service the config check cannot read
 * only means fewer variables are known.
 */

/** A JSON object (only the fields a caller reads are looked at). */
export type Json = Record<string, unknown>;

/** `v` when it is a JSON object, else undefined. */
export function obj(v: unknown): Json | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : undefined;
}

/** `v` when it is an array, else an empty one. */
export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** `v` when it is a string, else undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}
