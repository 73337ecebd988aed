import { Counter, Gauge, Registry } from "prom-client";
import { TABLE_NAMES } from "../model/ruleset.ts";
import { RULE_OWNERS } from "../scan/rule-owner.ts";
import { KNOWN_BUG_IDS, type NodeMetricValues } from "./node-metrics.ts";
import { SAVE_ERROR_REASONS, type SaveErrorReason } from "./run-command.ts";

/** Options of {@linkcode ExporterMetrics}. */
export interface ExporterMetricsOptions {
  /** Added as a `node` label to every series, so plain scrape configs can tell nodes apart. */
  readonly node?: string;
  /** Also export the exporter's own process metrics, prefixed `netdoctor_exporter_` (default true). */
  readonly processMetrics?: boolean;
  /** Publish `netdoctor_service_rules_stale/missing` (only with API access). */
  readonly serviceRules?: boolean;
}

/**
 * The exporter's own prom-client registry. Values are set once per sample; a scrape only
 * serializes them. Every label takes values from a closed list, and once the first sample
 * succeeded every label value of those lists is exported (0 when nothing matches) so that series
 * do not appear and vanish. Before that, nothing was measured and nothing is published: no rule,
 * chain, duplicate, version or known-bug series (a restarted exporter must not show a drop to 0),
 * only `netdoctor_iptables_sample_ok` 0 and the error counters.
 */
export class ExporterMetrics {
  readonly registry = new Registry();
  readonly #rules: Gauge<"table">;
  readonly #chains: Gauge<"table">;
  readonly #duplicates: Gauge<"owner">;
  readonly #info: Gauge<"version" | "backend">;
  readonly #mixed: Gauge;
  readonly #knownBug: Gauge<"id">;
  readonly #duration: Gauge;
  readonly #errors: Counter<"reason">;
  readonly #skipped: Counter;
  readonly #lastSuccess: Gauge;
  readonly #sampleOk: Gauge;
  /** Whether a sample has succeeded (and the unlabelled gauges joined the registry). */
  #published = false;
  /** Whether an API comparison has finished (and its gauges joined the registry). */
  #compared = false;
  readonly #stale: Gauge | undefined;
  readonly #missing: Gauge | undefined;
  readonly #apiErrors: Counter | undefined;

  constructor(options: ExporterMetricsOptions = {}) {
    const registers = [this.registry];
    if (options.node !== undefined && options.node !== "")
      this.registry.setDefaultLabels({ node: options.node });
    const g = iptablesGauges(registers);
    this.#rules = g.rules;
    this.#chains = g.chains;
    this.#duplicates = g.duplicates;
    this.#info = g.info;
    this.#mixed = g.mixed;
    this.#knownBug = g.knownBug;
    this.#duration = g.duration;
    this.#lastSuccess = g.lastSuccess;
    this.#sampleOk = g.sampleOk;
    this.#errors = new Counter({
      name: "netdoctor_iptables_save_errors_total",
      help: "Failed iptables-save runs, by reason (exit-code, timeout, parse-error, spawn-error, empty)",
      labelNames: ["reason"],
      registers,
    });
    this.#skipped = new Counter({
      name: "netdoctor_iptables_save_skipped_total",
      help: "Sampling ticks skipped because the previous iptables-save was still running",
      registers,
    });
    if (options.serviceRules === true) {
      this.#stale = gauge(
        registers,
        "netdoctor_service_rules_stale",
        "Services whose rules on this node do not match the API (wrong or leftover endpoints)",
        [],
        false,
      );
      this.#missing = gauge(
        registers,
        "netdoctor_service_rules_missing",
        "Services (ports) in the API with no rules on this node",
        [],
        false,
      );
      this.#apiErrors = new Counter({
        name: "netdoctor_api_errors_total",
        help: "Failed reads of Services/EndpointSlices/Nodes from the Kubernetes API",
        registers,
      });
    }
    // Counters start at a measured 0; the gauges of the rules appear with the first good sample.
    for (const reason of SAVE_ERROR_REASONS) this.#errors.inc({ reason }, 0);
    this.#skipped.inc(0);
    this.#sampleOk.set(0);
    if (options.processMetrics !== false) processMetrics(registers);
  }

  /** Publishes the values of a successful sample. */
  publish(values: NodeMetricValues, sample: { readonly seconds: number; readonly timestamp: number }): void {
    if (!this.#published) {
      this.#published = true;
      for (const g of [this.#mixed, this.#duration, this.#lastSuccess]) this.registry.registerMetric(g);
    }
    for (const table of TABLE_NAMES) {
      this.#rules.set({ table }, values.rules[table]);
      this.#chains.set({ table }, values.chains[table]);
    }
    for (const owner of RULE_OWNERS) this.#duplicates.set({ owner }, values.duplicates[owner]);
    this.#info.reset();
    this.#info.set({ version: values.version, backend: values.backend }, 1);
    this.#mixed.set(values.mixedBackends ? 1 : 0);
    this.setKnownBugs(values.knownBugs);
    this.#duration.set(sample.seconds);
    this.#lastSuccess.set(sample.timestamp);
    this.#sampleOk.set(1);
  }

  /** Sets the known-bug flags (every catalogue id is always present). */
  setKnownBugs(flags: Readonly<Record<string, boolean>>): void {
    for (const id of KNOWN_BUG_IDS) this.#knownBug.set({ id }, flags[id] === true ? 1 : 0);
  }

  /** Raises known-bug flags that a failed save's stderr shows, leaving the others as they were. */
  raiseKnownBugs(flags: Readonly<Record<string, boolean>>): void {
    for (const id of KNOWN_BUG_IDS) if (flags[id] === true) this.#knownBug.set({ id }, 1);
  }

  /** Counts a failed sample; the last good values stay, `sample_ok` says they are old. */
  countError(reason: SaveErrorReason): void {
    this.#errors.inc({ reason });
    this.#sampleOk.set(0);
  }

  countSkip(): void {
    this.#skipped.inc();
  }

  /** Publishes the API comparison's counts (ignored without `serviceRules`). */
  setServiceRules(counts: { readonly stale: number; readonly missing: number }): void {
    if (!this.#compared && this.#stale !== undefined && this.#missing !== undefined) {
      this.#compared = true;
      this.registry.registerMetric(this.#stale);
      this.registry.registerMetric(this.#missing);
    }
    this.#stale?.set(counts.stale);
    this.#missing?.set(counts.missing);
  }

  countApiError(): void {
    this.#apiErrors?.inc();
  }

  /** The Prometheus text exposition of the cached values. */
  serialize(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * A gauge. prom-client shows a gauge without labels as 0 until it is set: such a gauge is created
 * unregistered (`registered: false`) and joins the registry with its first measured value.
 */
function gauge<L extends string>(
  registers: Registry[],
  name: string,
  help: string,
  labelNames: L[],
  registered = true,
): Gauge<L> {
  return new Gauge<L>({ name, help, labelNames, registers: registered ? registers : [] });
}

/** The gauges of the node's rules (see the class comment for when each appears). */
function iptablesGauges(r: Registry[]) {
  return {
    rules: gauge(
      r,
      "netdoctor_iptables_rules",
      "Rules (-A lines) in the node's iptables-save output, per table",
      ["table"],
    ),
    chains: gauge(
      r,
      "netdoctor_iptables_chains",
      "Chains declared in the node's iptables-save output, per table",
      ["table"],
    ),
    duplicates: gauge(
      r,
      "netdoctor_iptables_duplicate_rules",
      "Extra copies of exactly duplicated rules, per component that owns them",
      ["owner"],
    ),
    info: gauge(
      r,
      "netdoctor_iptables_info",
      "Always 1: the node's iptables version and backend (nf_tables, legacy or unknown)",
      ["version", "backend"],
    ),
    mixed: gauge(
      r,
      "netdoctor_iptables_mixed_backends",
      "1 when the node has rules in both the legacy and the nf_tables backend",
      [],
      false,
    ),
    knownBug: gauge(
      r,
      "netdoctor_iptables_known_bug",
      "1 when an entry of netdoctor's known-bug catalogue matches the node (id = catalogue id)",
      ["id"],
    ),
    duration: gauge(
      r,
      "netdoctor_iptables_save_duration_seconds",
      "Wall time of the last successful iptables-save run, parse included",
      [],
      false,
    ),
    lastSuccess: gauge(
      r,
      "netdoctor_iptables_last_success_timestamp_seconds",
      "Unix time of the last successful sample; absent before the first one",
      [],
      false,
    ),
    sampleOk: gauge(
      r,
      "netdoctor_iptables_sample_ok",
      "1 when the last iptables-save sample succeeded, 0 when it failed or none has succeeded yet",
      [],
    ),
  };
}

/**
 * A few of the exporter's own process figures, to watch its memory on big nodes. Not prom-client's
 * default set: that one names gauges `*_total`, which `promtool check metrics` rejects.
 */
function processMetrics(registers: Registry[]): void {
  new Gauge({
    name: "netdoctor_exporter_resident_memory_bytes",
    help: "Resident memory of the exporter process",
    registers,
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  new Gauge({
    name: "netdoctor_exporter_heap_used_bytes",
    help: "V8 heap in use by the exporter process",
    registers,
    collect() {
      this.set(process.memoryUsage().heapUsed);
    },
  });
  new Counter({
    name: "netdoctor_exporter_cpu_seconds_total",
    help: "User and system CPU time of the exporter process (its child commands not included)",
    registers,
    collect() {
      const u = process.cpuUsage();
      this.reset();
      this.inc((u.user + u.system) / 1e6);
    },
  });
  new Gauge({
    name: "netdoctor_exporter_start_time_seconds",
    help: "Unix time the exporter process started",
    registers,
  }).set(Math.round(Date.now() / 1000 - process.uptime()));
}
