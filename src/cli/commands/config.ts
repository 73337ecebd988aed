import type { Command } from "commander";
import { type ConfigSource, discoverConfigFrom } from "../../collect/config-discovery.ts";
import { writeOutputFile } from "../../collect/write-output-file.ts";
import type { ConfigReport } from "../../config/config-types.ts";
import { buildDemoAppJar } from "../../config/demo-app-jar.ts";
import type { EnvVarValue } from "../../config/property-sources.ts";
import { renderConfigText } from "../../config/render-config-text.ts";
import { EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, UsageError } from "../exit-codes.ts";
import { formatOutput, parseOutputFormat, writeStdout } from "../output.ts";
import { runAction } from "../run-action.ts";

export interface ConfigOptions {
  readonly jar?: string;
  readonly dir?: string;
  readonly env: string[];
  readonly envFromPod?: string;
  readonly bundle?: string;
  readonly container?: string;
  readonly profile: string[];
  readonly nested?: boolean;
  readonly legacyPlaceholders?: boolean;
  readonly properties?: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Parses `NAME=VALUE` (the value may be empty or contain `=`). */
export function parseEnvArg(arg: string): EnvVarValue {
  const eq = arg.indexOf("=");
  if (eq <= 0) throw new UsageError(`Cannot use --env "${arg}": expected NAME=VALUE`);
  return { name: arg.slice(0, eq), value: arg.slice(eq + 1), source: "--env" };
}

/** The inputs the flags name (exactly one of --jar, --dir or files), read and resolved. */
export async function runConfigDiscovery(
  files: readonly string[],
  opts: ConfigOptions,
): Promise<ConfigReport> {
  const given = [opts.jar, opts.dir, files.length > 0 ? "files" : undefined].filter((x) => x !== undefined);
  if (given.length !== 1)
    throw new UsageError("Cannot read config: give exactly one of --jar FILE, --dir DIR or FILE...");
  if (opts.envFromPod !== undefined && opts.bundle === undefined) {
    throw new UsageError("Cannot use --env-from-pod without --bundle DIR");
  }
  const source: ConfigSource =
    opts.jar !== undefined
      ? { jar: opts.jar, nested: opts.nested ?? false }
      : opts.dir !== undefined
        ? { dir: opts.dir }
        : { files };
  return discoverConfigFrom({
    source,
    ...(opts.envFromPod !== undefined && opts.bundle !== undefined
      ? {
          pod: {
            bundle: opts.bundle,
            ref: opts.envFromPod,
            ...(opts.container === undefined ? {} : { container: opts.container }),
          },
        }
      : {}),
    env: opts.env.map(parseEnvArg),
    profiles: opts.profile,
    ...(opts.legacyPlaceholders ? { legacyPlaceholders: true } : {}),
    ...(opts.properties ? { properties: true } : {}),
  });
}

export function registerConfig(program: Command): void {
  program
    .command("config")
    .description("which addresses a Spring Boot app really dials, and where each part of them came from")
    .argument("[files...]", "application/bootstrap .yml, .yaml or .properties files")
    .option(
      "--jar <file>",
      "a Spring Boot jar or war (BOOT-INF/classes/, WEB-INF/classes/) or a plain jar/zip",
    )
    .option("--dir <dir>", "a directory (./ and ./config/, else BOOT-INF/classes, src/main/resources, ...)")
    .option(
      "--env <NAME=VALUE>",
      "an environment variable of the app (repeatable; wins over --env-from-pod)",
      collect,
      [],
    )
    .option(
      "--env-from-pod <ns/pod>",
      "take the env of this pod from the bundle (ConfigMaps resolved, Secrets never read)",
    )
    .option("--bundle <dir>", "a netdoctor bundle (cluster/pods.json, cluster/configmaps.json)")
    .option("--container <name>", "the pod's container (default: the first)")
    .option(
      "--profile <name>",
      "active Spring profile, replaces spring.profiles.active (repeatable or comma-separated)",
      collect,
      [],
    )
    .option("--nested", "also look into the library jars of BOOT-INF/lib/")
    .option("--legacy-placeholders", "Spring Framework before 6.2 (Boot before 3.4): no \\${ escape")
    .option("--properties", "also print every resolved property")
    .option("--demo-jar <file>", "write the demo app's jar (the incident's bootstrap.yml) to FILE and exit")
    .option("-o, --output <format>", "text, json or yaml", "text")
    .addHelpText(
      "after",
      `
Examples:
  netdoctor config --jar app.jar
  netdoctor config --jar app.jar --env NACOS_HOST=10.42.1.17 -o json
  netdoctor config --jar app.jar --bundle BUNDLE --env-from-pod eopx/eopx-gateway-7d9f
  netdoctor config src/main/resources/application.yml --profile dev
  netdoctor config --demo-jar /tmp/eopx-gateway.jar && netdoctor config --jar /tmp/eopx-gateway.jar

Exit codes: 0 all resolved, 1 unresolvable placeholders or cycles, 2 usage or input error`,
    )
    .action(
      runAction(async (files: string[], opts: ConfigOptions & { output: string; demoJar?: string }) => {
        const format = parseOutputFormat(opts.output);
        if (opts.demoJar !== undefined) {
          await writeOutputFile(opts.demoJar, buildDemoAppJar(), { what: "the demo app's jar" });
          process.stderr.write(`netdoctor: wrote the demo app's jar to ${opts.demoJar}\n`);
          return EXIT_OK;
        }
        const report = await runConfigDiscovery(files, opts);
        await writeStdout(formatOutput(format, report, renderConfigText));
        if (report.errors.length > 0) {
          for (const e of report.errors) process.stderr.write(`netdoctor: ${e.message}\n`);
          return EXIT_USAGE;
        }
        const broken = report.unresolved.some((u) => u.reason !== "secret" && u.reason !== "unknown-env");
        return broken ? EXIT_PROBLEMS : EXIT_OK;
      }),
    );
}
