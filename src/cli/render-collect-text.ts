import type { CollectSummary } from "../collect/collect-bundle.ts";
import { terminalSafe as safe } from "../text/terminal-safe.ts";

/** The text summary of a collection (`collect`'s stdout, `diagnose --live`'s stderr when interrupted). */
export function renderCollectText(s: CollectSummary): string {
  const ok = s.nodes.filter((n) => n.status === "ok").length;
  const total = s.nodes.length + s.notStarted.length;
  const lines = [
    s.interrupted
      ? `Interrupted: collected ${ok} of ${total} nodes of cluster "${safe(s.cluster)}" and wrote nothing to ${safe(s.out)} (via ${s.via}, run ${s.runId})`
      : `Collected ${ok} of ${total} nodes of cluster "${safe(s.cluster)}" into ${safe(s.out)} (via ${s.via}, run ${s.runId})`,
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
      const what = n.status === "failed" ? "not collected" : "command failed";
      lines.push(`  ${safe(n.node)}: ${what}: ${safe(n.error ?? "")}`);
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

/** The text of `collect --cleanup`. */
export function renderCleanupText(r: {
  readonly namespace: string;
  readonly deleted: readonly string[];
  readonly failed: readonly string[];
}): string {
  return [
    `Deleted ${r.deleted.length} collector pod(s) in namespace "${safe(r.namespace)}"`,
    ...r.deleted.map((n) => `  ${safe(n)}`),
    ...r.failed.map((f) => `  NOT deleted: ${safe(f)}`),
    "",
  ].join("\n");
}
