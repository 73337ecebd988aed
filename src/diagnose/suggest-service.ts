/** "Did you mean": Services whose name is close to a host name the client uses. */
import type { Service } from "../model/cluster.ts";
import { objectKey } from "../model/cluster.ts";

/** Levenshtein distance, capped: anything above `max` is `max + 1`. */
export function editDistance(a: string, b: string, max = 2): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return Math.min(prev[b.length]!, max + 1);
}

/**
 * Up to three `namespace/name` of Services whose name is within two edits of the host's first label,
 * or is that label with a prefix or suffix (`register` → `eopx-register`); the client's namespace first.
 */
export function similarServices(services: readonly Service[], host: string, namespace: string): string[] {
  const base = host.split(".")[0]!.toLowerCase();
  if (base === "") return [];
  const scored = services.flatMap((s) => {
    const name = s.metadata.name;
    const d = editDistance(name, base);
    const affix = base.length >= 3 && (name.endsWith(`-${base}`) || name.startsWith(`${base}-`));
    if (d > 2 && !affix) return [];
    const sameNs = (s.metadata.namespace ?? "default") === namespace ? 0 : 1;
    return [{ key: objectKey(s.metadata), score: sameNs * 10 + (affix ? 3 : d) }];
  });
  return scored
    .sort((a, b) => a.score - b.score || a.key.localeCompare(b.key))
    .slice(0, 3)
    .map((s) => s.key);
}
