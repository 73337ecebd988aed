import { basename } from "node:path";
import { configCheckStep } from "../config/config-check-step.ts";
import { configFindings } from "../config/config-findings.ts";
import type { ConfigReport } from "../config/config-types.ts";
import { discoverConfig } from "../config/discover-config.ts";
import type { CheckStep } from "../model/diagnosis.ts";
import type { Finding } from "../model/finding.ts";
import { readArchiveConfig } from "./read-archive.ts";
import { readBundle } from "./read-bundle.ts";
import { readPodEnvironment } from "./read-pod-env.ts";

export interface JarConfigCheck {
  readonly report: ConfigReport;
  readonly findings: readonly Finding[];
}

/**
 * Reads an app's jar, resolves its configuration with the env of pod `from` as the bundle records it
 * (ConfigMap values resolved, Secrets never read) and finds endpoints that pin a pod IP.
 */
export async function checkJarConfig(
  bundleDir: string,
  options: { readonly from: string; readonly jar: string },
): Promise<JarConfigCheck> {
  const { from, jar } = options;
  const bundle = await readBundle(bundleDir);
  const pod = await readPodEnvironment(bundleDir, from);
  const { files } = await readArchiveConfig(jar);
  const report = discoverConfig([...files, ...pod.mountedFiles], {
    env: pod.env,
    cloudPlatform: "kubernetes",
    includeProperties: true,
  });
  const findings = configFindings(report.endpoints, {
    cluster: bundle.cluster,
    client: from,
    filePrefix: `${basename(jar)}!/`,
    properties: report.properties ?? [],
  });
  const { properties: _all, ...rest } = report;
  return { report: pod.notes.length > 0 ? { ...rest, notes: [...pod.notes] } : rest, findings };
}

/** `diagnose --jar`: runs {@linkcode checkJarConfig} and returns the config step and findings for the diagnosis. */
export async function jarConfigCheck(
  bundle: string,
  options: { readonly from: string; readonly jar: string },
): Promise<{ readonly step: CheckStep; readonly findings: readonly Finding[] }> {
  const { report, findings } = await checkJarConfig(bundle, options);
  return { step: configCheckStep(report, { label: basename(options.jar), findings }), findings };
}
