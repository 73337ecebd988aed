import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { readArchiveConfig } from "../../collect/read-archive.ts";
import { readConfigDir, readConfigFiles } from "../../collect/read-config-files.ts";
import { readPodEnvironment } from "../../collect/read-pod-env.ts";
import type { ConfigFile, ConfigReport } from "../../config/config-types.ts";
import { buildDemoAppJar } from "../../config/demo-app-jar.ts";
import { discoverConfig } from "../../config/discover-config.ts";
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

/**
 * Reads the config files and environment the options name and runs the discovery. Shared by
 * `netdoctor config` and `netdoctor diagnose --jar`.
 */
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
  let configFiles: ConfigFile[];
  const notes: string[] = [];
  if (opts.jar !== undefined) {
    const archive = await readArchiveConfig(opts.jar, { nested: opts.nested ?? false });
    configFiles = archive.files;
    for (const f of archive.libraryFiles) {
      notes.push(`${f.path} is in a library jar: Spring loads the application's own file of that name first`);
    }
  } else if (opts.dir !== undefined) {
    configFiles = await readConfigDir(opts.dir);
  } else {
    configFiles = await readConfigFiles(files);
  }
  const env = new Map<string, EnvVarValue>();
  if (opts.envFromPod !== undefined && opts.bundle !== undefined) {
    const pod = await readPodEnvironment(opts.bundle, opts.envFromPod, {
      ...(opts.container === undefined ? {} : { container: opts.container }),
    });
    for (const [k, v] of pod.env) env.set(k, v);
    configFiles = [...configFiles, ...pod.mountedFiles];
    notes.push(...pod.notes);
    notes.push(
      "Variables set by the image (Dockerfile ENV) are not in the pod spec: netdoctor cannot see them",
    );
  }
  for (const e of opts.env) {
    const v = parseEnvArg(e);
    env.set(v.name, v);
  }
  const report = discoverConfig(configFiles, {
    env,
    ...(opts.profile.length > 0 ? { profiles: opts.profile } : {}),
    ...(opts.envFromPod !== undefined ? { cloudPlatform: "kubernetes" } : {}),
    ...(opts.legacyPlaceholders ? { escape: null } : {}),
    ...(opts.properties ? { includeProperties: true } : {}),
  });
  return notes.length > 0 ? { ...report, notes: [...(report.notes ?? []), ...notes] } : report;
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
          await writeFile(opts.demoJar, buildDemoAppJar());
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
