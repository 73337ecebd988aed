import type { Command } from "commander";
import { writeDemoBundle } from "../../collect/demo-bundle.ts";
import { DEMO_FROM, DEMO_TO } from "../../demo/incident.ts";
import { EXIT_OK } from "../exit-codes.ts";
import { runAction } from "../run-action.ts";

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("write the built-in demo bundle: a three-node k3s cluster reproducing the eopx incident")
    .requiredOption("--out <dir>", "directory to write the bundle to")
    .addHelpText(
      "after",
      `\nExample:\n  netdoctor demo --out ./demo-bundle && netdoctor diagnose --bundle ./demo-bundle --from ${DEMO_FROM} --to ${DEMO_TO}`,
    )
    .action(
      runAction(async (opts: { out: string }) => {
        const n = await writeDemoBundle(opts.out);
        process.stderr.write(`netdoctor: wrote ${n} files to ${opts.out}\n`);
        return EXIT_OK;
      }),
    );
}
