import { hostname } from "node:os";
import type { Command } from "commander";
import { CollectError } from "../../collect/collect-error.ts";
import { errorWords, hasCode } from "../../collect/errno-words.ts";
import { type ExporterOptions, startExporter } from "../../server/exporter.ts";
import type { SampleCommands } from "../../server/sampler.ts";
import { ServiceRulesChecker } from "../../server/service-rules.ts";
import { UsageError } from "../exit-codes.ts";
import { parseDuration } from "../parse-duration.ts";
import { runAction } from "../run-action.ts";

/**
 * Parses `HOST:PORT`, `:PORT` or `[IPv6]:PORT`.
 *
 * @throws {UsageError} When the port is missing or out of range.
 */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d+)$/.exec(text);
  const port = m === null ? Number.NaN : Number(m[3]);
  if (m === null || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`Cannot listen on "${text}": expected HOST:PORT such as 0.0.0.0:9469 or [::]:9469`);
  }
  return { host: m[1] ?? (m[2] || "0.0.0.0"), port };
}

interface ExporterFlags {
  listen: string;
  interval: string;
  timeout?: string;
  saveCommand: string;
  versionCommand: string;
  legacySaveCommand?: string;
  nftCommand?: string;
  node?: string;
  processMetrics: boolean;
  kubeconfig?: string;
  inCluster?: boolean;
  apiInterval: string;
}

export function registerExporter(program: Command): void {
  program
    .command("exporter")
    .description(
      "serve the node's iptables health as Prometheus metrics (/metrics, /healthz); run it as a DaemonSet",
    )
    .option("--listen <host:port>", "address to serve /metrics and /healthz on", "0.0.0.0:9469")
    .option("--interval <duration>", "time between iptables-save runs", "60s")
    .option("--timeout <duration>", "kill a command that runs longer (default: the interval, at most 5m)")
    .option(
      "--save-command <cmd>",
      "shell command printing the node's iptables-save",
      "chroot /host iptables-save",
    )
    .option(
      "--version-command <cmd>",
      "shell command printing `iptables --version`",
      "chroot /host iptables --version",
    )
    .option(
      "--legacy-save-command <cmd>",
      "shell command printing iptables-legacy-save (mixed-backend check)",
    )
    .option("--nft-command <cmd>", "shell command printing `nft list ruleset`")
    .option("--node <name>", "node name for the `node` label (default: $NODE_NAME, else the host name)")
    .option(
      "--kubeconfig <file>",
      "compare the rules with the API using this kubeconfig (service_rules metrics)",
    )
    .option("--in-cluster", "compare the rules with the API using the pod's service account")
    .option("--api-interval <duration>", "least time between two API comparisons", "5m")
    .option("--no-process-metrics", "do not export the exporter's own netdoctor_exporter_* process metrics")
    .addHelpText(
      "after",
      `
Every interval the exporter runs the save command once (never two at a time: a tick that comes while
a save still runs is skipped and counted), streams its output through netdoctor's parser and caches
the metric values; a scrape only serializes them. A failing save is counted in
netdoctor_iptables_save_errors_total{reason} and the last good values stay published.

Examples:
  netdoctor exporter                                   # in the DaemonSet (host / mounted at /host)
  netdoctor exporter --listen 127.0.0.1:9469 --save-command iptables-save --version-command "iptables --version"
  netdoctor exporter --interval 5m --legacy-save-command "chroot /host iptables-legacy-save"
  netdoctor exporter --in-cluster --api-interval 10m      # also netdoctor_service_rules_stale/missing
  curl -s localhost:9469/metrics | grep ^netdoctor_

Manifests and alert rules: deploy/exporter/ and deploy/alerts/ (see docs/exporter.md).`,
    )
    .action(
      runAction(async (flags: ExporterFlags) => {
        await serveUntilStopped(await exporterOptions(flags), flags.listen);
        return 0;
      }),
    );
}

/** The exporter's options from its flags (validated). */
async function exporterOptions(flags: ExporterFlags): Promise<ExporterOptions> {
  const { host, port } = parseListen(flags.listen);
  const intervalMs = parseDuration(flags.interval, "--interval");
  const timeoutMs =
    flags.timeout === undefined ? Math.min(intervalMs, 300_000) : parseDuration(flags.timeout, "--timeout");
  if (flags.saveCommand.trim() === "") throw new UsageError("Cannot run an empty --save-command");
  if (flags.kubeconfig !== undefined && flags.inCluster === true) {
    throw new UsageError("Cannot use both --kubeconfig and --in-cluster: pick one");
  }
  if (flags.inCluster === true && !process.env.KUBERNETES_SERVICE_HOST) {
    throw new UsageError(
      "Cannot use --in-cluster: KUBERNETES_SERVICE_HOST is not set (not running in a pod)",
    );
  }
  const everyMs = parseDuration(flags.apiInterval, "--api-interval");
  const client =
    flags.inCluster === true
      ? await ServiceRulesChecker.connect({ inCluster: true })
      : flags.kubeconfig === undefined
        ? undefined
        : await ServiceRulesChecker.connect({ kubeconfig: flags.kubeconfig });
  const commands: SampleCommands = {
    save: flags.saveCommand,
    ...(flags.versionCommand.trim() === "" ? {} : { version: flags.versionCommand }),
    ...(flags.legacySaveCommand === undefined ? {} : { legacySave: flags.legacySaveCommand }),
    ...(flags.nftCommand === undefined ? {} : { nft: flags.nftCommand }),
  };
  return {
    host,
    port,
    node: flags.node ?? process.env.NODE_NAME ?? hostname(),
    commands,
    intervalMs,
    timeoutMs,
    processMetrics: flags.processMetrics,
    ...(client === undefined ? {} : { api: { client, everyMs } }),
  };
}

/** Runs the exporter until SIGTERM or SIGINT; a place it cannot listen on is one line. */
async function serveUntilStopped(options: ExporterOptions, listen: string): Promise<void> {
  const exporter = await startExporter(options).catch((error: unknown) => {
    if (hasCode(error, "EADDRINUSE") || hasCode(error, "EACCES") || hasCode(error, "EADDRNOTAVAIL")) {
      throw new CollectError(`Cannot listen on "${listen}": ${errorWords(error)}`, { cause: error });
    }
    throw error;
  });
  const api = options.api === undefined ? "" : `, API comparison every ${options.api.everyMs / 1000} s`;
  process.stderr.write(
    `netdoctor exporter: node "${options.node}", serving ${exporter.url}/metrics, iptables-save every ${options.intervalMs / 1000} s${api}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.stderr.write("netdoctor exporter: stopping\n");
      exporter.close().then(resolve, resolve);
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
}
