/**
 * `netdoctor config` as a library call: reads an app's config files (a jar, a directory or the
 * files themselves) and, when asked, a pod's environment from a bundle, then resolves which
 * addresses the app dials.
 */
import type { ConfigFile, ConfigReport } from "../config/config-types.ts";
import { discoverConfig } from "../config/discover-config.ts";
import type { EnvVarValue } from "../config/property-sources.ts";
import { readArchiveConfig } from "./read-archive.ts";
import { readConfigDir, readConfigFiles } from "./read-config-files.ts";
import { readPodEnvironment } from "./read-pod-env.ts";

/** Where the app's config files are. */
export type ConfigSource =
  | { readonly jar: string; readonly nested?: boolean }
  | { readonly dir: string }
  | { readonly files: readonly string[] };

/** What {@linkcode discoverConfigFrom} reads. */
export interface ConfigInputs {
  readonly source: ConfigSource;
  /** Take the environment (and mounted ConfigMap files) of pod `ref` (NS/POD) from `bundle`. */
  readonly pod?: { readonly bundle: string; readonly ref: string; readonly container?: string };
  /** Variables given by hand; they win over the pod's. */
  readonly env?: readonly EnvVarValue[];
  readonly profiles?: readonly string[];
  /** Spring Framework before 6.2: no `\${` escape. */
  readonly legacyPlaceholders?: boolean;
  /** Also list every resolved property. */
  readonly properties?: boolean;
}

async function readSource(source: ConfigSource, notes: string[]): Promise<ConfigFile[]> {
  if ("jar" in source) {
    const archive = await readArchiveConfig(source.jar, { nested: source.nested ?? false });
    for (const f of archive.libraryFiles) {
      notes.push(`${f.path} is in a library jar: Spring loads the application's own file of that name first`);
    }
    return archive.files;
  }
  if ("dir" in source) return readConfigDir(source.dir);
  return readConfigFiles(source.files);
}

/**
 * Reads the inputs and runs the discovery.
 *
 * @throws {CollectError} When a file, the archive or the bundle's pod cannot be read.
 */
export async function discoverConfigFrom(inputs: ConfigInputs): Promise<ConfigReport> {
  const notes: string[] = [];
  let files = await readSource(inputs.source, notes);
  const env = new Map<string, EnvVarValue>();
  if (inputs.pod !== undefined) {
    const pod = await readPodEnvironment(inputs.pod.bundle, inputs.pod.ref, {
      ...(inputs.pod.container === undefined ? {} : { container: inputs.pod.container }),
    });
    for (const [k, v] of pod.env) env.set(k, v);
    files = [...files, ...pod.mountedFiles];
    notes.push(...pod.notes);
    notes.push(
      "Variables set by the image (Dockerfile ENV) are not in the pod spec: netdoctor cannot see them",
    );
  }
  for (const v of inputs.env ?? []) env.set(v.name, v);
  const report = discoverConfig(files, {
    env,
    ...(inputs.profiles !== undefined && inputs.profiles.length > 0
      ? { profiles: [...inputs.profiles] }
      : {}),
    ...(inputs.pod !== undefined ? { cloudPlatform: "kubernetes" } : {}),
    ...(inputs.legacyPlaceholders ? { escape: null } : {}),
    ...(inputs.properties ? { includeProperties: true } : {}),
  });
  return notes.length > 0 ? { ...report, notes: [...(report.notes ?? []), ...notes] } : report;
}
