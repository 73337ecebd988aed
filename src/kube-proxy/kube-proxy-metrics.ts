/**
 * kube-proxy's own metrics (`curl 127.0.0.1:10249/metrics` on the node, Prometheus text format
 * 0.0.4), as evidence of whether it is syncing. k3s serves the same metrics from the k3s process.
 * Pure: parses text, never fetches it.
 */

/** One sample line, e.g. `kubeproxy_sync_proxy_rules_last_timestamp_seconds 1.7e+09`. */
export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** 1-indexed line in the file. */
  readonly line: number;
  readonly text: string;
}

/** The parsed file. Samples of every metric are kept (a kube-proxy serves a few hundred). */
export interface KubeProxyMetrics {
  readonly file: string;
  readonly samples: ReadonlyMap<string, readonly MetricSample[]>;
  /**
   * `# netdoctor: …` lines the collector writes instead of metrics when kube-proxy did not answer
   * (see src/collect/node-commands.ts).
   */
  readonly notes: readonly { readonly line: number; readonly text: string }[];
  /** Lines that are neither comments nor samples (a cut or garbled file). */
  readonly skipped: readonly { readonly line: number; readonly text: string }[];
}

/** The metric names netdoctor reads (kubernetes/kubernetes pkg/proxy/metrics/metrics.go). */
export const KUBE_PROXY_METRIC = {
  lastSync: "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
  lastQueued: "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds",
  restoreFailures: "kubeproxy_sync_proxy_rules_iptables_restore_failures_total",
  partialRestoreFailures: "kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total",
} as const;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

function parseValue(v: string): number | undefined {
  if (v === "NaN") return Number.NaN;
  if (v === "+Inf" || v === "Inf") return Number.POSITIVE_INFINITY;
  if (v === "-Inf") return Number.NEGATIVE_INFINITY;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) return undefined;
  return Number(v);
}

/** `{a="x",b="y\"z"}` → labels and the index after the closing brace; undefined when malformed. */
function parseLabels(s: string, from: number): { labels: Record<string, string>; end: number } | undefined {
  const labels: Record<string, string> = {};
  let i = from + 1;
  for (;;) {
    while (s[i] === " " || s[i] === ",") i++;
    if (s[i] === "}") return { labels, end: i + 1 };
    const m = NAME.exec(s.slice(i));
    if (m === null) return undefined;
    i += m[0].length;
    if (s[i] !== "=" || s[i + 1] !== '"') return undefined;
    i += 2;
    let value = "";
    while (i < s.length && s[i] !== '"') {
      if (s[i] === "\\" && i + 1 < s.length) {
        const c = s[i + 1];
        value += c === "n" ? "\n" : c;
        i += 2;
      } else value += s[i++];
    }
    if (i >= s.length) return undefined;
    labels[m[0]] = value;
    i++;
  }
}

function parseSample(text: string, line: number): MetricSample | undefined {
  const m = NAME.exec(text);
  if (m === null) return undefined;
  let rest = m[0].length;
  let labels: Record<string, string> = {};
  if (text[rest] === "{") {
    const parsed = parseLabels(text, rest);
    if (parsed === undefined) return undefined;
    labels = parsed.labels;
    rest = parsed.end;
  }
  const fields = text.slice(rest).trim().split(/\s+/);
  if (fields.length < 1 || fields.length > 2 || fields[0] === "") return undefined;
  const value = parseValue(fields[0]!);
  if (value === undefined) return undefined;
  return { name: m[0], labels, value, line, text };
}

/**
 * Parses kube-proxy's `/metrics` text. Never throws: unreadable lines are listed in `skipped`.
 *
 * @example
 * ```ts
 * const m = parseKubeProxyMetrics("kubeproxy_sync_proxy_rules_last_timestamp_seconds 1.7e+09\n", "m.txt");
 * metricValue(m, KUBE_PROXY_METRIC.lastSync); // 1700000000
 * ```
 */
export function parseKubeProxyMetrics(text: string, file: string): KubeProxyMetrics {
  const samples = new Map<string, MetricSample[]>();
  const notes: { line: number; text: string }[] = [];
  const skipped: { line: number; text: string }[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\r$/, "");
    const t = line.trim();
    if (t === "") return;
    if (t.startsWith("#")) {
      if (/^#\s*netdoctor:/.test(t)) notes.push({ line: i + 1, text: t });
      return;
    }
    const sample = parseSample(t, i + 1);
    if (sample === undefined) {
      skipped.push({ line: i + 1, text: line });
      return;
    }
    const list = samples.get(sample.name);
    if (list === undefined) samples.set(sample.name, [sample]);
    else list.push(sample);
  });
  return { file, samples, notes, skipped };
}

/**
 * A metric's sample. Since v1.28 kube-proxy labels its sync metrics with `ip_family`; the IPv4
 * series is the one an iptables (IPv4) dump speaks about, so it is preferred, then an unlabelled
 * one, then the first.
 */
export function metricSample(metrics: KubeProxyMetrics, name: string): MetricSample | undefined {
  const list = metrics.samples.get(name);
  if (list === undefined || list.length === 0) return undefined;
  return (
    list.find((s) => s.labels.ip_family === "IPv4") ??
    list.find((s) => Object.keys(s.labels).length === 0) ??
    list[0]
  );
}

/** The value of {@linkcode metricSample}, or undefined. */
export function metricValue(metrics: KubeProxyMetrics, name: string): number | undefined {
  return metricSample(metrics, name)?.value;
}
