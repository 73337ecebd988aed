import { Command, CommanderError } from "commander";
import { registerCollect } from "./commands/collect.ts";
import { registerConfig } from "./commands/config.ts";
import { registerDemo } from "./commands/demo.ts";
import { registerDiagnose } from "./commands/diagnose.ts";
import { registerExporter } from "./commands/exporter.ts";
import { registerFix } from "./commands/fix.ts";
import { registerReport } from "./commands/report.ts";
import { registerScan } from "./commands/scan.ts";
import { registerTrace } from "./commands/trace.ts";
import { EXIT_USAGE } from "./exit-codes.ts";

// `netdoctor ... | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

const program = new Command();
program
  .name(process.argv[1]?.includes("kubectl-netdoctor") ? "kubectl netdoctor" : "netdoctor")
  .description("Finds out why a pod cannot reach a Kubernetes/k3s Service, and proves it")
  .version("0.1.0")
  .showHelpAfterError()
  .exitOverride();

registerCollect(program);
registerConfig(program);
registerDemo(program);
registerDiagnose(program);
registerExporter(program);
registerFix(program);
registerReport(program);
registerScan(program);
registerTrace(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE;
  } else {
    throw error;
  }
}
