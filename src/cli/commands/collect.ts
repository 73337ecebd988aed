import { chmod, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Command, Option } from "commander";
import { deleteCollectorPods } from "../../collect/cleanup-pods.ts";
import { type CollectOptions, type CollectSummary, collectBundle } from "../../collect/collect-bundle.ts";
import { DEFAULT_IMAGE } from "../../collect/collector-pod.ts";
import { KubeApi } from "../../collect/kube-api.ts";
import { ProgressBar } from "../../collect/progress-bar.ts";
import { terminalSafe } from "../../text/terminal-safe.ts";
import { EXIT_OK, EXIT_PROBLEMS, UsageError } from "../exit-codes.ts";
import { formatOutput, parseOutputFormat, writeStdout } from "../output.ts";
import { runAction } from "../run-action.ts";

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

/** Parses `60s`, `2m`, `1m30s`, `500ms` or a plain number of seconds into milliseconds. */
export function parseDuration(text: string): number {
  const plain = /^\d+(\.\d+)?$/.test(text) ? `${text}s` : text;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(plain); m !== null; m = re.exec(plain)) {
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"];
    total += Number(m[1]) * unit;
    end = re.lastIndex;
  }
  if (end !== plain.length || plain === "" || total <= 0) {
    throw new UsageError(`Cannot use duration "${text}": expected e.g. 60s, 2m or 1m30s`);
  }
  return total;
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
    timeoutMs: parseDuration(flags.timeout),
    image: flags.image,
    namespace: flags.namespace,
    configmaps: flags.configmaps ?? false,
    insecureIgnoreHostKey: flags.insecureIgnoreHostKey ?? false,
    ...(flags.kubeconfig === undefined ? {} : { kubeconfig: flags.kubeconfig }),
    ...(flags.context === undefined ? {} : { context: flags.context }),
    ...(nodes === undefined ? {} : { nodes }),
    ...(flags.selector === undefined ? {} : { selector: flags.selector }),
    ...(flags.inventory === undefined ? {} : { inventory: flags.inventory }),
  };
}

const safe = terminalSafe;

/** The text summary of a collection. */
export function renderCollectText(s: CollectSummary): string {
  const ok = s.nodes.filter((n) => n.status === "ok").length;
  const lines = [
    `${s.interrupted ? "Interrupted: collected" : "Collected"} ${ok} of ${s.nodes.length + s.notStarted.length} nodes of cluster "${safe(s.cluster)}" into ${safe(s.out)} (via ${s.via}, run ${s.runId})`,
  ];
  for (const l of s.lists) {
    lines.push(
      l.error === undefined
        ? `  ${l.file}: ${l.items} items`
        : `  ${l.file}: NOT collected: ${safe(l.error)}`,
    );
  }
  const bad = s.nodes.filter((n) => n.status !== "ok");
  if (bad.length > 0) {
    lines.push(
      `Nodes with problems (${bad.length}); their nodes/NODE/ directories hold the .err/.exit files:`,
    );
    for (const n of bad) {
      lines.push(
        `  ${safe(n.node)}: ${n.status === "failed" ? "not collected" : "command failed"}: ${safe(n.error ?? "")}`,
      );
    }
  }
  if (s.notStarted.length > 0) lines.push(`Not started (interrupted): ${s.notStarted.map(safe).join(", ")}`);
  if (s.leftoverPods.length > 0) {
    lines.push("Collector pods that could not be deleted (run `netdoctor collect --cleanup`):");
    for (const p of s.leftoverPods) lines.push(`  ${safe(p)}`);
  }
  if (!s.interrupted) lines.push(`Next: netdoctor diagnose --bundle ${safe(s.out)}`);
  return `${lines.join("\n")}\n`;
}

/**
 * Runs a collection with a progress bar on a terminal and Ctrl-C handling: the first Ctrl-C stops
 * starting nodes and deletes every collector pod before exiting; a second one exits at once and
 * names what may be left.
 */
export async function runLiveCollect(options: CollectOptions): Promise<CollectSummary> {
  const controller = new AbortController();
  const live = new Set<string>();
  const bar = new ProgressBar(process.stderr, "collect");
  const onSigint = () => {
    if (!controller.signal.aborted) {
      bar.finish();
      process.stderr.write("netdoctor: interrupted; deleting collector pods (Ctrl-C again to quit now)\n");
      controller.abort(new Error("interrupted"));
      return;
    }
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
  try {
    return await collectBundle({
      ...options,
      signal: controller.signal,
      onProgress: (done, failed, total) => bar.update(done, failed, total),
      onWarning: (message) => {
        bar.finish();
        process.stderr.write(`netdoctor: warning: ${safe(message)}\n`);
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
 * references stay readable; its path goes to stderr.
 */
export async function collectForDiagnose(flags: LiveCollectFlags): Promise<string | number> {
  const base = await mkdtemp(join(tmpdir(), "netdoctor-live-"));
  await chmod(base, 0o700);
  const out = join(base, "bundle");
  const summary = await runLiveCollect(liveCollectOptions(out, flags));
  if (summary.interrupted) {
    process.stderr.write(renderCollectText(summary));
    return EXIT_INTERRUPTED;
  }
  const bad = summary.nodes.filter((n) => n.status !== "ok").length;
  process.stderr.write(
    `netdoctor: collected ${summary.nodes.length - bad} of ${summary.nodes.length} nodes into ${out} (kept for the evidence)${bad > 0 ? `; ${bad} with problems, diagnosed as such` : ""}\n`,
  );
  for (const l of summary.lists)
    if (l.error !== undefined) process.stderr.write(`netdoctor: ${safe(l.error)}\n`);
  return out;
}

interface CollectFlags extends LiveCollectFlags {
  out?: string;
  cleanup?: boolean;
  output: string;
}

export function registerCollect(program: Command): void {
  const command = program
    .command("collect")
    .description(
      "collect a bundle from a live cluster: API objects, and every node's own iptables-save through a short-lived pod or SSH",
    )
    .option("--out <dir>", "bundle directory to create (must be empty or absent)");
  addLiveCollectOptions(command)
    .option(
      "--cleanup",
      "delete collector pods left behind by earlier runs (label app.kubernetes.io/managed-by=netdoctor)",
    )
    .option("-o, --output <format>", "text, json or yaml", "text")
    .addHelpText(
      "after",
      `
Examples:
  netdoctor collect --out ./bundle
  netdoctor collect --out ./bundle --context prod --selector node-role.kubernetes.io/worker= --concurrency 20
  netdoctor collect --out ./bundle --via ssh --inventory nodes.yaml
  netdoctor collect --cleanup -n kube-system

The collector pod is privileged (hostNetwork, hostPID, host / mounted read-only) and runs only
iptables-save, iptables --version, iptables-legacy-save, nft list ruleset and k3s --version through
chroot /host. RBAC: deploy/rbac-collect.yaml. Secrets are never read; ConfigMaps only with --configmaps.

Exit codes: 0 every node collected, 1 some nodes or lists failed (the bundle is partial),
2 usage or input error, 130 interrupted`,
    )
    .action(
      runAction(async (flags: CollectFlags) => {
        const format = parseOutputFormat(flags.output);
        if (flags.cleanup) {
          const api = KubeApi.load({
            ...(flags.kubeconfig === undefined ? {} : { kubeconfig: flags.kubeconfig }),
            ...(flags.context === undefined ? {} : { context: flags.context }),
          });
          const result = await deleteCollectorPods(api, { namespace: flags.namespace });
          await writeStdout(
            formatOutput(format, { namespace: flags.namespace, ...result }, (r) =>
              [
                `Deleted ${r.deleted.length} collector pod(s) in namespace "${r.namespace}"`,
                ...r.deleted.map((n) => `  ${n}`),
                ...r.failed.map((f) => `  NOT deleted: ${safe(f)}`),
                "",
              ].join("\n"),
            ),
          );
          return result.failed.length > 0 ? EXIT_PROBLEMS : EXIT_OK;
        }
        if (flags.out === undefined) throw new UsageError("Cannot collect without --out DIR");
        const summary = await runLiveCollect(liveCollectOptions(flags.out, flags));
        await writeStdout(formatOutput(format, summary, renderCollectText));
        if (summary.interrupted) return EXIT_INTERRUPTED;
        const problems =
          summary.nodes.some((n) => n.status !== "ok") ||
          summary.lists.some((l) => l.error !== undefined) ||
          summary.leftoverPods.length > 0;
        return problems ? EXIT_PROBLEMS : EXIT_OK;
      }),
    );
}
