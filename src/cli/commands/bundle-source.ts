/**
 * Where `diagnose` and `report` get their bundle: `--bundle DIR`, `--demo`, or, as kubectl plugins
 * do, the live cluster of the current kubeconfig context when neither is given (`--live` says so
 * explicitly). A live collection goes into a kept temporary bundle, so the evidence stays readable.
 */
import { cachedDemoBundle } from "../../collect/demo-bundle.ts";
import { terminalSafe } from "../../text/terminal-safe.ts";
import { UsageError } from "../exit-codes.ts";
import { collectForDiagnose, type LiveCollectFlags } from "../live-collect.ts";

/** The source flags as commander hands them over (the live flags only where the command has them). */
export interface SourceFlags extends Partial<Omit<LiveCollectFlags, "namespace">> {
  bundle?: string;
  demo?: boolean;
  live?: boolean;
  /** Namespace of the collector pods (`diagnose`/`report` keep `-n` for the client pod, as kubectl). */
  collectorNamespace?: string;
}

/** The chosen source; for `live`, the kubeconfig context it reads. */
export type BundleSource =
  | { readonly kind: "bundle"; readonly dir: string }
  | { readonly kind: "demo" }
  | {
      readonly kind: "live";
      /** Set when neither --bundle, --demo nor --live was given. */
      readonly implicit: boolean;
      readonly context: string;
      readonly cluster: string;
      /** The context's namespace: the default of `-n`, as kubectl's. */
      readonly namespace: string | undefined;
    };

/**
 * Picks the source. `action` starts the usage errors, e.g. `"Cannot diagnose"`. The live source
 * loads the kubeconfig here (not the cluster), so a wrong `--context` fails before anything runs;
 * only it loads the Kubernetes client (megabytes of code a bundle's diagnosis never runs).
 */
export async function bundleSource(flags: SourceFlags, action: string): Promise<BundleSource> {
  const given = [flags.bundle !== undefined, flags.demo === true, flags.live === true].filter(Boolean);
  if (given.length > 1) throw new UsageError(`${action}: give only one of --bundle DIR, --demo or --live`);
  if (flags.bundle !== undefined) return { kind: "bundle", dir: flags.bundle };
  if (flags.demo === true) return { kind: "demo" };
  const { KubeApi, kubeconfigAvailable } = await import("../../collect/kube-api.ts");
  const target = {
    ...(flags.kubeconfig === undefined ? {} : { kubeconfig: flags.kubeconfig }),
    ...(flags.context === undefined ? {} : { context: flags.context }),
  };
  if (flags.live !== true && !kubeconfigAvailable(target)) {
    throw new UsageError(
      `${action}: no --bundle DIR or --demo, and no kubeconfig to collect from the live cluster ($KUBECONFIG, ~/.kube/config or --kubeconfig FILE)`,
    );
  }
  const api = KubeApi.load(target);
  const context = api.config.getCurrentContext();
  return {
    kind: "live",
    implicit: flags.live !== true,
    context,
    cluster: api.clusterName,
    namespace: api.config.getContextObject(context)?.namespace,
  };
}

/**
 * The bundle directory of the source, collecting first for `live` (progress and the kept bundle's
 * path on stderr); a number is the exit code to stop with (130 when interrupted).
 */
export async function bundleDirOf(source: BundleSource, flags: SourceFlags): Promise<string | number> {
  switch (source.kind) {
    case "bundle":
      return source.dir;
    case "demo":
      return cachedDemoBundle();
    case "live": {
      // Said when the user did not ask for it in so many words (kubectl's habit); `--live` asked.
      if (source.implicit) {
        process.stderr.write(
          `netdoctor: no --bundle or --demo: collecting from the live cluster "${terminalSafe(source.cluster)}" of context "${terminalSafe(source.context)}"\n`,
        );
      }
      return collectForDiagnose({
        ...(flags as LiveCollectFlags),
        namespace: flags.collectorNamespace ?? "kube-system",
      });
    }
    default: {
      const never: never = source;
      throw new TypeError(`Unknown bundle source ${String(never)}`);
    }
  }
}

/** The namespace of `--from` without `NAMESPACE/`: `-n`, else the live context's, else `default` (kubectl's order). */
export function clientNamespace(flag: string | undefined, source: BundleSource): string {
  return flag ?? (source.kind === "live" ? source.namespace : undefined) ?? "default";
}
