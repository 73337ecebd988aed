import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { readDump } from "../../collect/read-dump.ts";
import type { Diagnosis } from "../../model/diagnosis.ts";
import type { NodeRuleView, ReportInput } from "../../report/html/report-input.ts";
import { nodeRuleView } from "../../report/html/select-rule-view.ts";
import { renderHtml } from "../../report/render-html.ts";
import { exitCodeOf, UsageError } from "../exit-codes.ts";
import { writeStdout } from "../output.ts";
import { runAction } from "../run-action.ts";
import { bundleQuestion, diagnoseWithProgress, verdictWords } from "./bundle-question.ts";
import { bundleDirOf, bundleSource, clientNamespace, type SourceFlags } from "./bundle-source.ts";
import { addLiveCollectOptions } from "./collect.ts";

/** Nodes without traced or cited lines whose Service chains are shown for comparison. */
const MAX_COMPARISON_NODES = 2;

interface ReportOptions extends SourceFlags {
  from?: string;
  to?: string;
  namespace?: string;
  html?: string;
}

/**
 * Adds what the HTML page shows beyond the diagnosis: the chains that matter on each readable node
 * (re-read from the bundle, parsed lazily: only the lines that matter are examined) and the bundle's
 * collection time. A node whose dump cannot be read again simply gets no rule view.
 */
export async function reportInputFor(dir: string, diagnosis: Diagnosis): Promise<ReportInput> {
  const q = diagnosis.question;
  const views: NodeRuleView[] = [];
  let comparisons = 0;
  for (const node of diagnosis.nodes) {
    if (!node.readable) continue;
    const traceLines =
      node.node === q?.clientNode
        ? (diagnosis.trace?.paths ?? []).flatMap((p) => p.steps.map((s) => s.line))
        : [];
    const evidenceLines = diagnosis.findings.flatMap((f) =>
      f.evidence.flatMap((ev) => (ev.file === node.file && ev.line !== undefined ? [ev.line] : [])),
    );
    // Parsing a dump costs time: read the nodes that have lines to show, plus a few peers whose
    // Service chains can be compared with the client node's.
    if (traceLines.length === 0 && evidenceLines.length === 0) {
      if (q?.clusterIp === undefined || comparisons >= MAX_COMPARISON_NODES) continue;
      comparisons++;
    }
    let ruleset: Awaited<ReturnType<typeof readDump>>;
    try {
      ruleset = await readDump(join(dir, node.file), { lazy: true });
    } catch {
      continue;
    }
    const view = nodeRuleView(ruleset, {
      node: node.node,
      file: node.file,
      traceLines,
      evidenceLines,
      ...(q?.clusterIp === undefined ? {} : { serviceIp: q.clusterIp }),
      ...(q?.port === undefined ? {} : { port: q.port }),
    });
    if (view.chains.length > 0) views.push(view);
  }
  let collectedAt: string | undefined;
  try {
    const meta = JSON.parse(await readFile(join(dir, "bundle.json"), "utf8")) as { collectedAt?: unknown };
    if (typeof meta.collectedAt === "string") collectedAt = meta.collectedAt;
  } catch {
    // bundle.json problems are diagnose's to report; the page just has no date.
  }
  return { ...diagnosis, ruleViews: views, ...(collectedAt === undefined ? {} : { collectedAt }) };
}

export function registerReport(program: Command): void {
  // The live flags as `diagnose`'s: -n is the client pod's namespace, hence --collector-namespace.
  addLiveCollectOptions(program.command("report"), { namespaceFlag: "--collector-namespace <ns>" })
    .description(
      "diagnose a cluster bundle and write one self-contained HTML page: verdict, path diagram, findings, node chart",
    )
    .option("-b, --bundle <dir>", "cluster bundle directory (format: docs/bundle.md)")
    .option("--demo", "use the built-in demo bundle (the k3s incident; generated on first use)")
    .option(
      "--live",
      "collect from the live cluster first (as `collect`, into a kept temp dir); the default without --bundle or --demo",
    )
    .option("--from <pod>", "client pod, NAMESPACE/POD (or POD with -n)")
    .option(
      "--to <host:port>",
      "what the client connects to: Service name, name.namespace, FQDN, ClusterIP or pod IP, and port",
    )
    .option(
      "-n, --namespace <ns>",
      "namespace of --from when it has no NAMESPACE/ part (default: the context's namespace when live, else default)",
    )
    .option("--html <file>", "where to write the page (- for stdout)")
    .addHelpText(
      "after",
      `
The page needs no network: open it from disk on any machine, attach it to a ticket. Without
--bundle or --demo, report collects from the cluster of the current kubeconfig context first
(--context, --kubeconfig as kubectl), into a temporary bundle that is kept (its path goes to stderr).

Examples:
  kubectl netdoctor report --from api-gw-1 -n prod --to cfg-center:8848 --html report.html
  netdoctor report --demo --from eopx/eopx-gateway-7d9c6b8f5-x4kq2 --to eopx-register:8848 --html report.html
  netdoctor report --bundle ./bundle --from api-gw-1 -n prod --to cfg-center:8848 --html report.html
  netdoctor report --bundle ./bundle --html - > all-services.html     # every Service on every node

Exit codes: 0 reachable or healthy, 1 a link is broken, 2 usage or input error, 3 undecided`,
    )
    .action(
      runAction(async (opts: ReportOptions) => {
        const source = bundleSource(opts, "Cannot write a report");
        const question = bundleQuestion(
          { ...opts, namespace: clientNamespace(opts.namespace, source) },
          "Cannot write a report",
        );
        if (opts.html === undefined || opts.html === "") {
          throw new UsageError("Cannot write a report: --html FILE is required (- for stdout)");
        }
        const dir = await bundleDirOf(source, opts);
        if (typeof dir === "number") return dir;
        const diagnosis = await diagnoseWithProgress(dir, question);
        const html = renderHtml(await reportInputFor(dir, diagnosis));
        if (opts.html === "-") {
          await writeStdout(html);
        } else {
          try {
            await writeFile(opts.html, html);
          } catch (error) {
            const code = (error as NodeJS.ErrnoException).code ?? String(error);
            throw new UsageError(`Cannot write the report to ${opts.html}: ${code}`);
          }
          process.stderr.write(
            `netdoctor: wrote ${opts.html} (${Math.ceil(html.length / 1024)} KB): ${verdictWords(diagnosis)}\n`,
          );
        }
        return exitCodeOf(diagnosis.verdict);
      }),
    );
}
