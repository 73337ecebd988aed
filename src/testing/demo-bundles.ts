/**
 * Test helpers: small variants of the demo bundle, written to temp directories, diagnosed through
 * the real reader. (Only imported by tests.)
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeBundleFiles } from "../collect/demo-bundle.ts";
import { diagnoseBundleDir } from "../collect/diagnose-bundle-dir.ts";
import { type BundleSpec, buildBundle } from "../demo/build-bundle.ts";
import { incidentBundleSpec } from "../demo/incident.ts";
import type { DiagnoseQuestion } from "../diagnose/diagnosis-builder.ts";
import type { Diagnosis } from "../model/diagnosis.ts";

/** The incident with a small leak (fast) — still an outlier and a known bug. */
export function smallIncident(): BundleSpec {
  const spec = incidentBundleSpec();
  return {
    ...spec,
    nodes: spec.nodes.map((n) =>
      n.leak === undefined ? n : { ...n, leak: { kubeRouterCopies: 400, flannelCopies: 300 } },
    ),
  };
}

/** The same cluster with every node healthy: no leak, every node synced, new iptables (and nft on every node). */
export function healthyCluster(): BundleSpec {
  const spec = incidentBundleSpec();
  return {
    ...spec,
    api: {
      ...spec.api,
      // Without the pinned pod IP.
      pods: JSON.parse(
        JSON.stringify(spec.api.pods).replace(
          '"name":"NACOS_HOST","value":"10.42.1.23"',
          '"name":"NACOS_HOST","value":"eopx-register"',
        ),
      ),
    },
    nodes: spec.nodes.map(
      ({ leak: _l, lastSynced: _s, extraFiles: _e, commentLast: _c, nftInstalled: _n, ...n }) => ({
        ...n,
        iptablesVersion: "iptables v1.8.9 (nf_tables)",
        generator: "iptables-save v1.8.9 (nf_tables)",
      }),
    ),
  };
}

/** Writes `files` to a fresh temp dir, diagnoses it, removes it. */
export async function diagnoseFiles(
  files: Map<string, string>,
  question?: DiagnoseQuestion,
): Promise<Diagnosis> {
  const dir = await mkdtemp(join(tmpdir(), "nd-diagnose-"));
  try {
    await writeBundleFiles(dir, files);
    return await diagnoseBundleDir(dir, question);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** buildBundle + an edit of the files + diagnose. */
export async function diagnoseSpec(
  spec: BundleSpec,
  question?: DiagnoseQuestion,
  edit: (files: Map<string, string>) => void = () => {},
): Promise<Diagnosis> {
  const files = buildBundle(spec);
  edit(files);
  return diagnoseFiles(files, question);
}

/** Replaces text in one bundle file, failing loudly when the text is absent (tests must bite). */
export function replaceIn(files: Map<string, string>, file: string, from: string | RegExp, to: string): void {
  const text = files.get(file);
  if (text === undefined) throw new Error(`no file ${file}`);
  const next = text.replace(from, to);
  if (next === text) throw new Error(`${String(from)} not found in ${file}`);
  files.set(file, next);
}
