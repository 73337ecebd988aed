import { setFlagsFromString } from "node:v8";
import { Command, CommanderError } from "commander";
import { EXIT_USAGE } from "./exit-codes.ts";
import { buildInfo, versionText } from "./version.ts";

// `netdoctor ... | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

/**
 * After a usage error commander prints this instead of the help text: every command and subcommand
 * names its own `--help` (they inherit the error output, and exit override, from their parent).
 */
function showHelpHints(command: Command, path = command.name()): void {
  command.showHelpAfterError(`see '${path} --help'`);
  for (const sub of command.commands) showHelpHints(sub, `${path} ${sub.name()}`);
}

const program = new Command();
program
  .name(process.argv[1]?.includes("kubectl-netdoctor") ? "kubectl netdoctor" : "netdoctor")
  .description("Finds out why a pod cannot reach a Kubernetes/k3s Service, and proves it")
  .version(versionText(buildInfo()))
  .option(
    "--no-color",
    "no colour in text output (also NO_COLOR=1; never coloured unless stdout is a terminal)",
  )
  .exitOverride()
  // One line for a mistake in the flags, not the whole help (see showHelpHints below).
  .configureOutput({ outputError: (text, write) => write(`netdoctor: ${text.replace(/^error: /, "")}`) });

/**
 * Commands load on demand: `netdoctor scan` should not pay for the Kubernetes client, SSH and
 * Prometheus libraries. Help and unknown words load them all so the command list is complete.
 */
const COMMANDS: Readonly<Record<string, () => Promise<(program: Command) => void>>> = {
  collect: async () => (await import("./commands/collect.ts")).registerCollect,
  completion: async () => (await import("./commands/completion.ts")).registerCompletion,
  config: async () => (await import("./commands/config.ts")).registerConfig,
  demo: async () => (await import("./commands/demo.ts")).registerDemo,
  diagnose: async () => (await import("./commands/diagnose.ts")).registerDiagnose,
  exporter: async () => (await import("./commands/exporter.ts")).registerExporter,
  fix: async () => (await import("./commands/fix.ts")).registerFix,
  report: async () => (await import("./commands/report.ts")).registerReport,
  scan: async () => (await import("./commands/scan.ts")).registerScan,
  trace: async () => (await import("./commands/trace.ts")).registerTrace,
};

const word = process.argv[2];

// A command runs for a second or less, most of it before V8 has compiled the hot loops: a smaller
// inlining budget makes each compile shorter (TurboFan was a third of the CPU of a fix of a
// million-rule leak), at no cost measured on the larger dumps (scan, fix, trace, diagnose of the
// bench's 1M-rule layouts; 2-core machine). The long-running exporter keeps V8's defaults.
if (word !== "exporter") setFlagsFromString("--max-inlined-bytecode-size-cumulative=150");

// `completion` describes every command, so it loads them all, as help does.
const names =
  word === "--version" || word === "-V"
    ? []
    : word !== undefined && word !== "completion" && Object.hasOwn(COMMANDS, word)
      ? [word]
      : Object.keys(COMMANDS);
for (const register of await Promise.all(names.map((name) => COMMANDS[name]!()))) register(program);
showHelpHints(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE;
  } else {
    throw error;
  }
}
