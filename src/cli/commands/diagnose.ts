import type { Command } from "commander";
import { jarConfigCheck } from "../../collect/config-diagnosis.ts";
import { cachedDemoBundle } from "../../collect/demo-bundle.ts";
import { readReportInput } from "../../collect/read-report-input.ts";
import { renderDiagnosisText } from "../../report/render-diagnosis-text.ts";
import { renderHtml } from "../../report/render-html.ts";
import { exitCodeOf, UsageError } from "../exit-codes.ts";
import { addLiveCollectOptions, collectForDiagnose, type LiveCollectFlags } from "../live-collect.ts";
import { formatOutput, parseOutputFormat, writeStdout } from "../output.ts";
import { runAction } from "../run-action.ts";
import { bundleQuestion, diagnoseWithProgress } from "./bundle-question.ts";

interface DiagnoseOptions extends Partial<Omit<LiveCollectFlags, "namespace">> {
  bundle?: string;
  demo?: boolean;
  live?: boolean;
  collectorNamespace?: string;
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
    .option("--live", "collect a bundle from the live cluster first (as `collect`, into a kept temp dir)")
    .option("--from <pod>", "client pod, NAMESPACE/POD (or POD with -n)")
    .option(
      "--to <host:port>",
      "what the client connects to: Service name, name.namespace, FQDN, ClusterIP or pod IP, and port",
    )
    .option("-n, --namespace <ns>", "namespace of --from when it has no NAMESPACE/ part", "default")
    .option("--jar <file>", "the client app's jar: check the endpoints its Spring config names")
    .option("-o, --output <format>", "text, json, yaml or html (the `report` page)", "text")
    .addHelpText(
      "after",
      `
Examples:
  netdoctor diagnose --demo --from eopx/eopx-gateway-7d9c6b8f5-x4kq2 --to eopx-register:8848
  netdoctor diagnose --bundle ./bundle --from api-gw-1 -n prod --to cfg-center:8848 -o json
  netdoctor diagnose --bundle ./bundle            # every Service on every node
  netdoctor diagnose --live --context prod --from prod/api-gw-1 --to cfg-center:8848
  netdoctor diagnose --demo --from eopx/eopx-gateway-7d9c6b8f5-x4kq2 --to eopx-register:8848 --jar gw.jar

Exit codes: 0 reachable (every link proven; at-risk links shown) or healthy, 1 a link is broken,
2 usage or input error, 3 undecided (evidence missing: the output says what and how to get it)`,
    )
    .action(
      runAction(async (opts: DiagnoseOptions) => {
        const format = parseOutputFormat(opts.output, ["html"]);
        if (
          [opts.bundle !== undefined, opts.demo === true, opts.live === true].filter(Boolean).length !== 1
        ) {
          throw new UsageError("Cannot diagnose: give exactly one of --bundle DIR, --demo or --live");
        }
        const question = bundleQuestion(opts, "Cannot diagnose");
        if (opts.jar !== undefined && opts.from === undefined) {
          throw new UsageError("Cannot use --jar without --from: the app's env comes from the client pod");
        }
        let dir: string;
        if (opts.live === true) {
          const live = await collectForDiagnose({
            ...(opts as LiveCollectFlags),
            namespace: opts.collectorNamespace ?? "kube-system",
          });
          if (typeof live === "number") return live;
          dir = live;
        } else dir = opts.bundle ?? (await cachedDemoBundle());
        let asked = question;
        if (opts.jar !== undefined && question !== undefined) {
          const from = question.from.includes("/") ? question.from : `${question.namespace}/${question.from}`;
          asked = { ...question, appConfig: await jarConfigCheck(dir, { from, jar: opts.jar }) };
        }
        const diagnosis = await diagnoseWithProgress(dir, asked);
        if (opts.output === "html") await writeStdout(renderHtml(await readReportInput(dir, diagnosis)));
        else await writeStdout(formatOutput(format, diagnosis, renderDiagnosisText));
        return exitCodeOf(diagnosis.verdict);
      }),
    );
}
