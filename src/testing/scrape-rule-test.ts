/**
 * Turns what was scraped from an exporter into a `promtool test rules` file: every sample becomes
 * an input series holding its scraped value (with the job and instance labels Prometheus adds, and
 * `up` = 1), and every alert of the rule file gets an `alert_rule_test` with the alerts the test
 * expects, none for the others. promtool compares annotations too; the rendered annotations are
 * covered by deploy/alerts/*.test.yaml, so the rule file used here is the real one with
 * annotations removed (expressions, `for` and labels untouched).
 */
import { readFileSync } from "node:fs";
import { parse, stringify } from "yaml";

interface RuleFile {
  groups: { name: string; rules: { alert?: string; annotations?: unknown; [k: string]: unknown }[] }[];
}

/** The rule file without annotations, and the names of its alerts. */
export function rulesWithoutAnnotations(ruleFile: string): { text: string; alerts: string[] } {
  const doc = parse(readFileSync(ruleFile, "utf8")) as RuleFile;
  const alerts: string[] = [];
  for (const g of doc.groups) {
    for (const r of g.rules) {
      if (r.alert === undefined) continue;
      alerts.push(r.alert);
      delete r.annotations;
    }
  }
  return { text: stringify(doc), alerts };
}

/** `name{a="1"}` (as parseMetricsText keys it) with more labels. */
function withLabels(series: string, extra: string): string {
  const brace = series.indexOf("{");
  return brace === -1
    ? `${series}{${extra}}`
    : `${series.slice(0, brace + 1)}${extra},${series.slice(brace + 1)}`;
}

/** Options of {@linkcode scrapeRuleTest}. */
export interface ScrapeRuleTestOptions {
  /** The rule file promtool loads (relative to the test file's directory). */
  readonly ruleFile: string;
  /** Every alert of the rule file. */
  readonly alerts: readonly string[];
  /** Alert name → the label sets expected to fire (alertname excluded); absent means none. */
  readonly expected: Readonly<Record<string, readonly Readonly<Record<string, string>>[]>>;
  readonly job: string;
  readonly instance: string;
  /** How long the scraped values are held before the alerts are evaluated (e.g. `2h`). */
  readonly holdFor: string;
}

/** A `promtool test rules` document for the scraped samples (`parseMetricsText` output). */
export function scrapeRuleTest(samples: ReadonlyMap<string, number>, options: ScrapeRuleTestOptions): string {
  const target = `job=${JSON.stringify(options.job)},instance=${JSON.stringify(options.instance)}`;
  const minutes = Number.parseInt(options.holdFor, 10) * (options.holdFor.endsWith("h") ? 60 : 1);
  const hold = (v: number) => `${v}+0x${minutes + 10}`;
  const series = [{ series: `up{${target}}`, values: hold(1) }];
  for (const [name, value] of samples) {
    if (!Number.isFinite(value)) continue;
    series.push({ series: withLabels(name, target), values: hold(value) });
  }
  const doc = {
    rule_files: [options.ruleFile],
    evaluation_interval: "1m",
    tests: [
      {
        interval: "1m",
        input_series: series,
        alert_rule_test: options.alerts.map((alertname) => ({
          eval_time: options.holdFor,
          alertname,
          exp_alerts: (options.expected[alertname] ?? []).map((labels) => ({ exp_labels: labels })),
        })),
      },
    ],
  };
  return stringify(doc, { lineWidth: 0 });
}
