import type { EvidenceFile, NodeEvidence } from "../known-bugs/node-evidence.ts";
import { RuleSignatureScanner } from "../known-bugs/rule-signatures.ts";
import { KubeProxyIndexer } from "../kube-proxy/kube-proxy-index.ts";
import { composeHandlers } from "../parse/compose-handlers.ts";
import { NodeScanner } from "../scan/scan-node.ts";
import type { ExporterMetrics } from "./exporter-metrics.ts";
import { knownBugFlags, nodeMetrics } from "./node-metrics.ts";
import { runDumpCommand, runTextCommand, type SaveErrorReason } from "./run-command.ts";
import type { ServiceRulesChecker } from "./service-rules.ts";

/** `nft list ruleset` text kept per sample: the catalogue greps it, and memory must stay bounded. */
const MAX_NFT_CHARS = 4 * 1024 * 1024;
const MAX_VERSION_CHARS = 4096;

/** The shell commands the exporter runs on each sample. */
export interface SampleCommands {
  /** `iptables-save` of the node (required). */
  readonly save: string;
  /** `iptables --version`. */
  readonly version?: string;
  /** `iptables-legacy-save`, to see rules in the other backend. */
  readonly legacySave?: string;
  /** `nft list ruleset`. */
  readonly nft?: string;
}

/** Options of {@linkcode Sampler}. */
export interface SamplerOptions {
  readonly node: string;
  readonly commands: SampleCommands;
  readonly intervalMs: number;
  /** Each command is killed after this long. */
  readonly timeoutMs: number;
  readonly metrics: ExporterMetrics;
  /** Compares the rules with the Kubernetes API every so often (needs API access). */
  readonly serviceRules?: ServiceRulesChecker;
  /** One line of log (default: stderr). */
  readonly log?: (line: string) => void;
  /** Unix time in seconds (injectable for tests). */
  readonly now?: () => number;
}

/** What one sample did. */
export type SampleResult =
  | { readonly ok: true; readonly seconds: number; readonly rules: number }
  | { readonly ok: false; readonly reason: SaveErrorReason; readonly message: string };

/**
 * Runs the node's `iptables-save` every interval, one at a time, and publishes the values.
 * A tick that comes while a save is still running is skipped and counted, so a slow save never
 * overlaps the next. A failed save is counted by reason; the last good values stay published.
 */
export class Sampler {
  readonly #o: SamplerOptions;
  readonly #log: (line: string) => void;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<SampleResult> | undefined;
  #failStreak = 0;
  /** Rules of the last good sample: the next scan sizes its fingerprint table for about as many. */
  #lastRules = 0;
  #lastReason: SaveErrorReason | undefined;
  /** Samples finished (either way), ticks skipped. */
  readonly stats = { samples: 0, successes: 0, failures: 0, skipped: 0, lastFinished: 0 };

  constructor(options: SamplerOptions) {
    this.#o = options;
    this.#log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.#now = options.now ?? (() => Date.now() / 1000);
    this.stats.lastFinished = this.#now();
  }

  /** Starts sampling: one sample now, then one per interval. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.tick();
    this.#timer = setInterval(() => this.tick(), this.#o.intervalMs);
  }

  /** Stops the ticks and waits for a running sample to end. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** True while a sample runs. */
  get busy(): boolean {
    return this.#running !== undefined;
  }

  /** One tick of the loop: starts a sample unless one is running (then counts a skip). */
  tick(): void {
    if (this.#running !== undefined) {
      this.stats.skipped++;
      this.#o.metrics.countSkip();
      return;
    }
    void this.sample();
  }

  /** Runs one sample now (waits for a running one first, never runs two at once). */
  async sample(): Promise<SampleResult> {
    while (this.#running !== undefined) await this.#running;
    // An exception here is a bug in netdoctor's analysis of the output, not a save failure; it must
    // not stop the loop (an unhandled rejection would end the process), so it counts as a parse error.
    const run = this.#sample().catch((error: unknown): SampleResult => {
      this.stats.failures++;
      this.#o.metrics.countError("parse-error");
      const message = `internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
      this.#log(`netdoctor exporter: ${message}`);
      return { ok: false, reason: "parse-error", message };
    });
    this.#running = run;
    try {
      return await run;
    } finally {
      this.#running = undefined;
      this.stats.samples++;
      this.stats.lastFinished = this.#now();
    }
  }

  async #sample(): Promise<SampleResult> {
    const { commands, timeoutMs, metrics, node } = this.#o;
    const scanner = new NodeScanner(this.#lastRules > 0 ? { expectedRules: this.#lastRules } : {});
    const signatures = new RuleSignatureScanner();
    // kube-proxy's rules are indexed only on samples that feed an API comparison.
    const indexer = this.#o.serviceRules?.due() === true ? new KubeProxyIndexer() : undefined;
    const handler = composeHandlers(
      scanner.handler,
      signatures.handler,
      ...(indexer === undefined ? [] : [indexer.handler]),
    );
    const saved = await runDumpCommand(commands.save, handler, { timeoutMs });
    if (!saved.ok) {
      this.stats.failures++;
      metrics.countError(saved.reason);
      const saveError: EvidenceFile & { exitCode?: number } = {
        file: "iptables-save.err",
        text: saved.stderr,
      };
      if (saved.exitCode !== undefined) saveError.exitCode = saved.exitCode;
      metrics.raiseKnownBugs(knownBugFlags({ node, saveError }));
      if (this.#failStreak === 0 || this.#lastReason !== saved.reason) {
        this.#log(
          `netdoctor exporter: iptables-save failed (${saved.reason}): ${saved.message}; serving the last good values`,
        );
      }
      this.#failStreak++;
      this.#lastReason = saved.reason;
      return { ok: false, reason: saved.reason, message: saved.message };
    }
    if (this.#failStreak > 0) {
      this.#log(`netdoctor exporter: iptables-save works again after ${this.#failStreak} failed samples`);
    }
    this.#failStreak = 0;
    this.#lastReason = undefined;
    const scan = scanner.finish({ node, file: "iptables-save", header: saved.value.header });
    const evidence: {
      -readonly [K in keyof NodeEvidence]: NodeEvidence[K];
    } = { node, scan, signatures: signatures.hits };
    const otherErrors: EvidenceFile[] = [];
    if (commands.version !== undefined) {
      const v = await runTextCommand(commands.version, { timeoutMs, maxChars: MAX_VERSION_CHARS });
      if (v.ok) evidence.iptablesVersion = { file: "iptables-version.txt", text: v.value };
      else otherErrors.push({ file: "iptables-version.err", text: v.stderr || v.message });
    }
    if (commands.legacySave !== undefined) {
      const legacy = new NodeScanner();
      const l = await runDumpCommand(commands.legacySave, legacy.handler, { timeoutMs });
      // No legacy tables at all: iptables-legacy-save prints nothing (or only comments) and succeeds.
      if (l.ok)
        evidence.legacyScan = legacy.finish({ node, file: "iptables-legacy-save", header: l.value.header });
      else if (l.reason === "empty") {
        evidence.legacyScan = new NodeScanner().finish({
          node,
          file: "iptables-legacy-save",
          header: { backend: "legacy" },
        });
      } else otherErrors.push({ file: "iptables-legacy-save.err", text: l.stderr || l.message });
    }
    if (commands.nft !== undefined) {
      const n = await runTextCommand(commands.nft, { timeoutMs, maxChars: MAX_NFT_CHARS });
      if (n.ok) evidence.nftRuleset = { file: "nft-ruleset.txt", text: n.value };
      else otherErrors.push({ file: "nft.err", text: n.stderr || n.message });
    }
    if (otherErrors.length > 0) evidence.otherErrors = otherErrors;
    metrics.publish(nodeMetrics(evidence), { seconds: saved.seconds, timestamp: this.#now() });
    this.stats.successes++;
    this.#lastRules = scan.rules;
    if (indexer !== undefined) await this.#o.serviceRules!.check(indexer.finish());
    return { ok: true, seconds: saved.seconds, rules: scan.rules };
  }
}
