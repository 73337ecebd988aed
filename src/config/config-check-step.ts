import { type CheckStep, checkStep, type LinkStatus } from "../model/diagnosis.ts";
import type { Finding } from "../model/finding.ts";
import type { ConfigReport } from "./config-types.ts";

/**
 * The `config` step for an app's configuration (`diagnose --jar`): the endpoints it dials and which
 * of them pin pod IPs. Broken when one dials an address no pod has; at risk when one pins a live pod's
 * IP; undecided when files or address placeholders could not be read (an endpoint may hide there).
 */
export function configCheckStep(
  report: ConfigReport,
  options: { readonly label: string; readonly findings: readonly Finding[] },
): CheckStep {
  const { label, findings } = options;
  const eps = report.endpoints.map((e) => {
    const env = e.origin.filter((o) => o.from === "env").map((o) => o.env);
    return `${e.property}=${e.value}${env.length > 0 ? ` (env ${[...new Set(env)].join(", ")})` : ""}`;
  });
  // Secrets are never read by design and unknown env vars are not addresses: they decide nothing.
  const unresolved = report.unresolved.filter((u) => u.reason !== "secret" && u.reason !== "unknown-env");
  const detail =
    `${label}: ${report.files.length} config files, ${report.endpoints.length} endpoints${eps.length > 0 ? `: ${eps.join("; ")}` : ""}` +
    (findings.length > 0 ? `; ${findings.length} pin a pod IP` : "") +
    (unresolved.length > 0 ? `; ${unresolved.length} unresolved placeholders` : "") +
    (report.errors.length > 0 ? `; ${report.errors.length} files unreadable` : "");
  const status: LinkStatus = findings.some((f) => f.severity === "error")
    ? "broken"
    : report.errors.length > 0 || unresolved.length > 0
      ? "undecided"
      : findings.length > 0
        ? "at-risk"
        : "ok";
  return checkStep(
    "config",
    status,
    detail,
    status === "undecided"
      ? {
          missing: `${report.errors.length > 0 ? "readable config files" : "the values of the unresolved placeholders"} of ${label}`,
          howToGet:
            "check the files and the pod's environment named in the config output (`netdoctor config --jar ...`)",
        }
      : { findings: [...new Set(findings.map((f) => f.code))] },
  );
}
