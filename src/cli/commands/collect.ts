import type { Command } from "commander";
import { deleteCollectorPods } from "../../collect/cleanup-pods.ts";
import { EXIT_OK, EXIT_PROBLEMS, UsageError } from "../exit-codes.ts";
import {
  addLiveCollectOptions,
  EXIT_INTERRUPTED,
  type LiveCollectFlags,
  liveCollectOptions,
  runLiveCollect,
} from "../live-collect.ts";
import { formatOutput, parseOutputFormat, writeStdout } from "../output.ts";
import { renderCleanupText, renderCollectText } from "../render-collect-text.ts";
import { runAction } from "../run-action.ts";

interface CollectFlags extends LiveCollectFlags {
  out?: string;
  cleanup?: boolean;
  output: string;
}

/** `collect --cleanup`: deletes the collector pods earlier runs left. */
async function cleanup(flags: CollectFlags): Promise<number> {
  // The Kubernetes client is loaded by what uses it (help loads every command).
  const { KubeApi } = await import("../../collect/kube-api.ts");
  const api = KubeApi.load({
    ...(flags.kubeconfig === undefined ? {} : { kubeconfig: flags.kubeconfig }),
    ...(flags.context === undefined ? {} : { context: flags.context }),
  });
  const result = await deleteCollectorPods(api, { namespace: flags.namespace });
  const report = { namespace: flags.namespace, ...result };
  await writeStdout(formatOutput(parseOutputFormat(flags.output), report, renderCleanupText));
  return result.failed.length > 0 ? EXIT_PROBLEMS : EXIT_OK;
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
The bundle is written next to --out and renamed at the end: a failed or interrupted run leaves nothing.

Exit codes: 0 every node collected, 1 some nodes or lists failed (the bundle is partial),
2 usage or input error, 130 interrupted`,
    )
    .action(
      runAction(async (flags: CollectFlags) => {
        const format = parseOutputFormat(flags.output);
        if (flags.cleanup) return cleanup(flags);
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
