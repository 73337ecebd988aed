import type { Command } from "commander";
import { jarConfigCheck } from "../../collect/config-diagnosis.ts";
import { readReportInput } from "../../collect/read-report-input.ts";
import { renderDiagnosisText } from "../../report/render-diagnosis-text.ts";
import { renderHtml } from "../../report/render-html.ts";
import { colourDiagnosisText, colourWanted } from "../colour.ts";
import { exitCodeOf, UsageError } from "../exit-codes.ts";
import { addLiveCollectOptions } from "../live-collect.ts";
import { formatOutput, parseOutputFormat, writeStdout } from "../output.ts";
import { runAction } from "../run-action.ts";
import { bundleQuestion, diagnoseWithProgress } from "./bundle-question.ts";
import { bundleDirOf, bundleSource, clientNamespace, type SourceFlags } from "./bundle-source.ts";

interface DiagnoseOptions extends SourceFlags {
  from?: string;
  to?: string;
  namespace?: string;
  jar?: string;
  output: string;
}

export function registerDiagnose(program: Command): void {
  // --live takes the flags of `collect`; -n is the client pod's namespace here, hence --collector-namespace.
  addLiveCollectOptions(program.command("diagnose"), { namespaceFlag: "--collector-namespace <ns>" })
    .description(
      "why a pod cannot reach a Service: walks DNS, Service, endpoints, the client's node rules and its health, on a cluster bundle",
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
    .option("--jar <file>", "the client app's jar: check the endpoints its Spring config names")
    .option("-o, --output <format>", "text, json, yaml or html (the `report` page)", "text")
    .addHelpText(
      "after",
      `
Without --bundle or --demo, diagnose collects from the cluster of the current kubeconfig context
(--context, --kubeconfig as kubectl), into a temporary bundle that is kept (its path goes to stderr).

Examples:
  kubectl netdoctor diagnose --from api-gw-1 -n prod --to cfg-center:8848
  netdoctor diagnose --demo --from eopx/eopx-gateway-7d9c6b8f5-x4kq2 --to eopx-register:8848
  netdoctor diagnose --bundle ./bundle --from api-gw-1 -n prod --to cfg-center:8848 -o json
  netdoctor diagnose --bundle ./bundle            # every Service on every node
  netdoctor diagnose --context prod --from prod/api-gw-1 --to cfg-center:8848
  netdoctor diagnose --demo --from eopx/eopx-gateway-7d9c6b8f5-x4kq2 --to eopx-register:8848 --jar gw.jar

Exit codes: 0 reachable (every link proven; at-risk links shown) or healthy, 1 a link is broken,
2 usage or input error, 3 undecided (evidence missing: the output says what and how to get it)`,
    )
    .action(
      runAction(async (opts: DiagnoseOptions, command: Command) => {
        const format = parseOutputFormat(opts.output, ["html"]);
        const source = await bundleSource(opts, "Cannot diagnose");
        const question = bundleQuestion(
          { ...opts, namespace: clientNamespace(opts.namespace, source) },
          "Cannot diagnose",
        );
        if (opts.jar !== undefined && opts.from === undefined) {
          throw new UsageError("Cannot use --jar without --from: the app's env comes from the client pod");
        }
        const dir = await bundleDirOf(source, opts);
        if (typeof dir === "number") return dir;
        let asked = question;
        if (opts.jar !== undefined && question !== undefined) {
          const from = question.from.includes("/") ? question.from : `${question.namespace}/${question.from}`;
          asked = { ...question, appConfig: await jarConfigCheck(dir, { from, jar: opts.jar }) };
        }
        const diagnosis = await diagnoseWithProgress(dir, asked);
        if (opts.output === "html") await writeStdout(renderHtml(await readReportInput(dir, diagnosis)));
        else {
          const colour = colourWanted({
            stream: process.stdout,
            env: process.env,
            flag: command.optsWithGlobals().color as boolean | undefined,
            format,
          });
          const render = colour
            ? (d: typeof diagnosis) => colourDiagnosisText(renderDiagnosisText(d))
            : renderDiagnosisText;
          await writeStdout(formatOutput(format, diagnosis, render));
        }
        return exitCodeOf(diagnosis.verdict);
      }),
    );
}
