/**
 * Live collection as `collect` and `diagnose --live` run it: the shared flags, their validation,
 * and a run with a progress bar and Ctrl-C handling on the terminal.
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Command, Option } from "commander";
import type { CollectOptions, CollectSummary } from "../collect/collect-bundle.ts";
import { DEFAULT_IMAGE } from "../collect/collector-pod.ts";
import { ProgressBar } from "../collect/progress-bar.ts";
import { stagingDirFor } from "../collect/staged-dir.ts";
import { terminalSafe } from "../text/terminal-safe.ts";
import { UsageError } from "./exit-codes.ts";
import { parseDuration } from "./parse-duration.ts";
import { renderCollectText } from "./render-collect-text.ts";

/** Exit code after Ctrl-C, as shells report a SIGINT death. */
export const EXIT_INTERRUPTED = 130;

/** Flags shared by `collect` and `diagnose --live`. */
export interface LiveCollectFlags {
  kubeconfig?: string;
  context?: string;
  nodes?: string;
  selector?: string;
  via: string;
  inventory?: string;
  insecureIgnoreHostKey?: boolean;
  image: string;
  namespace: string;
  concurrency: string;
  timeout: string;
  configmaps?: boolean;
}

/**
 * Adds the live-collection flags to a command (`collect`, `diagnose --live`). `diagnose` already
 * uses `-n` for the client pod's namespace, so it names the collector namespace
 * `--collector-namespace` (`namespaceFlag`); both end up in the `namespace` option value.
 */
export function addLiveCollectOptions(command: Command, options: { namespaceFlag?: string } = {}): Command {
  return command
    .option("--kubeconfig <file>", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    .option("--context <name>", "kubeconfig context to use")
    .option("--nodes <names>", "only these nodes, comma-separated")
    .option("-l, --selector <labels>", "only nodes matching this label selector")
    .addOption(
      new Option("--via <how>", "run the node commands through a pod or over SSH")
        .choices(["pod", "ssh"])
        .default("pod"),
    )
    .option("--inventory <file>", "SSH inventory (YAML) for --via ssh")
    .option("--insecure-ignore-host-key", "do NOT check SSH host keys against known_hosts (dangerous)")
    .option("--image <image>", "collector pod image (needs sh, chroot, gzip, base64, wc)", DEFAULT_IMAGE)
    .option(options.namespaceFlag ?? "-n, --namespace <ns>", "namespace of the collector pods", "kube-system")
    .option("--concurrency <n>", "nodes collected at the same time", "10")
    .option("--timeout <duration>", "per-node time limit", "60s")
    .option("--configmaps", "also collect ConfigMaps (they may hold pinned pod IPs, and other data)");
}

/** Validates the live-collection flags into {@linkcode collectBundle} options. */
export function liveCollectOptions(out: string, flags: LiveCollectFlags): CollectOptions {
  if (flags.nodes !== undefined && flags.selector !== undefined) {
    throw new UsageError("Cannot use --nodes and --selector together: pick one");
  }
  const concurrency = Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 500) {
    throw new UsageError(
      `Cannot use --concurrency "${flags.concurrency}": expected a whole number from 1 to 500`,
    );
  }
  const via = flags.via === "ssh" ? "ssh" : "pod";
  if (via === "ssh" && flags.inventory === undefined)
    throw new UsageError("Cannot use --via ssh without --inventory FILE");
  if (via === "pod" && flags.inventory !== undefined)
    throw new UsageError("Cannot use --inventory without --via ssh");
  const nodes = flags.nodes
    ?.split(",")
    .map((n) => n.trim())
    .filter((n) => n !== "");
  return {
    out,
    via,
    concurrency,
    timeoutMs: parseDuration(flags.timeout, "--timeout"),
    image: flags.image,
    namespace: flags.namespace,
    configmaps: flags.configmaps ?? false,
    insecureIgnoreHostKey: flags.insecureIgnoreHostKey ?? false,
    runId: randomBytes(4).toString("hex"),
    ...(flags.kubeconfig === undefined ? {} : { kubeconfig: flags.kubeconfig }),
    ...(flags.context === undefined ? {} : { context: flags.context }),
    ...(nodes === undefined ? {} : { nodes }),
    ...(flags.selector === undefined ? {} : { selector: flags.selector }),
    ...(flags.inventory === undefined ? {} : { inventory: flags.inventory }),
  };
}

/**
 * Runs a collection with a progress bar on a terminal and Ctrl-C handling: the first Ctrl-C stops
 * starting nodes, deletes every collector pod and the half-written bundle before exiting; a second
 * one removes the half-written bundle, exits at once and names the pods that may be left.
 */
export async function runLiveCollect(
  options: CollectOptions,
  cleanup: { readonly removeOnQuit?: string } = {},
): Promise<CollectSummary> {
  const controller = new AbortController();
  const live = new Set<string>();
  const bar = new ProgressBar(process.stderr, "collect");
  const runId = options.runId ?? randomBytes(4).toString("hex");
  const onSigint = () => {
    if (!controller.signal.aborted) {
      bar.finish();
      process.stderr.write("netdoctor: interrupted; deleting collector pods (Ctrl-C again to quit now)\n");
      controller.abort(new Error("interrupted"));
      return;
    }
    rmSync(cleanup.removeOnQuit ?? stagingDirFor(options.out, runId), { recursive: true, force: true });
    process.stderr.write(
      `netdoctor: quitting; ${live.size} collector pod(s) may be left: ${[...live].join(", ")}\n` +
        `  delete them with: netdoctor collect --cleanup -n ${options.namespace ?? "kube-system"}\n`,
    );
    process.exit(EXIT_INTERRUPTED);
  };
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigint);
  if (options.via === "ssh" && options.insecureIgnoreHostKey) {
    process.stderr.write(
      "netdoctor: WARNING: --insecure-ignore-host-key: SSH host keys are NOT verified; anyone on the path can impersonate the nodes\n",
    );
  }
  // Loaded here: the Kubernetes client is megabytes of code a `diagnose --bundle` never runs.
  const { collectBundle } = await import("../collect/collect-bundle.ts");
  try {
    return await collectBundle({
      ...options,
      runId,
      signal: controller.signal,
      onProgress: (done, failed, total) => bar.update(done, failed, total),
      onWarning: (message) => {
        bar.finish();
        process.stderr.write(`netdoctor: warning: ${terminalSafe(message)}\n`);
      },
      onPod: (event, name) => {
        if (event === "created") live.add(name);
        else if (event === "deleted") live.delete(name);
      },
    });
  } finally {
    bar.finish();
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigint);
  }
}

/**
 * `diagnose --live`: collects into a new temporary bundle (0700) and returns its path, or the exit
 * code to stop with (130 when interrupted). The bundle is kept so the evidence's file:line
 * references stay readable; its path goes to stderr. A run that fails or is interrupted leaves no
 * temporary directory behind.
 */
export async function collectForDiagnose(flags: LiveCollectFlags): Promise<string | number> {
  const base = await mkdtemp(join(tmpdir(), "netdoctor-live-"));
  const out = join(base, "bundle");
  let summary: CollectSummary;
  try {
    await chmod(base, 0o700);
    summary = await runLiveCollect(liveCollectOptions(out, flags), { removeOnQuit: base });
  } catch (error) {
    await rm(base, { recursive: true, force: true });
    throw error;
  }
  if (summary.interrupted) {
    await rm(base, { recursive: true, force: true });
    process.stderr.write(renderCollectText(summary));
    return EXIT_INTERRUPTED;
  }
  const bad = summary.nodes.filter((n) => n.status !== "ok").length;
  process.stderr.write(
    `netdoctor: collected ${summary.nodes.length - bad} of ${summary.nodes.length} nodes into ${out} (kept for the evidence)${bad > 0 ? `; ${bad} with problems, diagnosed as such` : ""}\n`,
  );
  for (const l of summary.lists)
    if (l.error !== undefined) process.stderr.write(`netdoctor: ${terminalSafe(l.error)}\n`);
  return out;
}
