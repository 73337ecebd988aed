import type { Command } from "commander";
import { readReportInput } from "../../collect/read-report-input.ts";
import { writeOutputFile } from "../../collect/write-output-file.ts";
import { renderHtml } from "../../report/render-html.ts";
import { exitCodeOf, UsageError } from "../exit-codes.ts";
import { addLiveCollectOptions } from "../live-collect.ts";
import { writeStdout } from "../output.ts";
import { runAction } from "../run-action.ts";
import { bundleQuestion, diagnoseWithProgress, verdictWords } from "./bundle-question.ts";
import { bundleDirOf, bundleSource, clientNamespace, type SourceFlags } from "./bundle-source.ts";

interface ReportOptions extends SourceFlags {
  from?: string;
  to?: string;
  namespace?: string;
  html?: string;
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
        const source = await bundleSource(opts, "Cannot write a report");
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
        const html = renderHtml(await readReportInput(dir, diagnosis));
        if (opts.html === "-") {
          await writeStdout(html);
        } else {
          await writeOutputFile(opts.html, html, { what: "the report" });
          process.stderr.write(
            `netdoctor: wrote ${opts.html} (${Math.ceil(html.length / 1024)} KB): ${verdictWords(diagnosis)}\n`,
          );
        }
        return exitCodeOf(diagnosis.verdict);
      }),
    );
}
