/**
 * Reads Prometheus text exposition into `name{label="v",...}` → value, labels sorted by name, for
 * tests and benchmarks that check what the exporter serves.
 *
 * @example
 * ```ts
 * parseMetricsText('m{b="2",a="1"} 3\n').get('m{a="1",b="2"}'); // 3
 * ```
 */
export function parseMetricsText(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (m === null) continue;
    const labels = [...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)]
      .map((l) => `${l[1]}="${l[2]}"`)
      .sort();
    out.set(labels.length === 0 ? m[1]! : `${m[1]}{${labels.join(",")}}`, Number(m[3]));
  }
  return out;
}
