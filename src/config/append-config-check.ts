import type { CheckStep, Diagnosis } from "../model/diagnosis.ts";
import type { Finding } from "../model/finding.ts";
import type { ConfigReport } from "./config-types.ts";

/** The `config` step for an app's configuration: the endpoints it dials and which of them pin pod IPs. */
export function configCheckStep(
  report: ConfigReport,
  options: { readonly label: string; readonly findings: readonly Finding[] },
): CheckStep {
  const { label, findings } = options;
  const eps = report.endpoints.map((e) => {
    const env = e.origin.filter((o) => o.from === "env").map((o) => o.env);
    return `${e.property}=${e.value}${env.length > 0 ? ` (env ${[...new Set(env)].join(", ")})` : ""}`;
  });
  const broken = report.unresolved.filter((u) => u.reason !== "secret" && u.reason !== "unknown-env");
  const detail =
    `${label}: ${report.files.length} config files, ${report.endpoints.length} endpoints${eps.length > 0 ? `: ${eps.join("; ")}` : ""}` +
    (findings.length > 0 ? `; ${findings.length} pin a pod IP` : "") +
    (broken.length > 0 ? `; ${broken.length} unresolved placeholders` : "") +
    (report.errors.length > 0 ? `; ${report.errors.length} files unreadable` : "");
  const undecided = report.errors.length > 0 || report.unresolved.length > 0;
  return { check: "config", ok: findings.length > 0 ? false : undecided ? undefined : true, detail };
}

/**
 * Adds the app-config check to a diagnosis: merges it into an existing `config` step (the pod's
 * env and ConfigMaps) or appends one, adds the findings, and marks the diagnosis broken at
 * `config` when nothing earlier was broken.
 */
export function appendConfigCheck(
  diagnosis: Diagnosis,
  check: { readonly step: CheckStep; readonly findings: readonly Finding[] },
): Diagnosis {
  const { step, findings } = check;
  const existing = diagnosis.steps.find((s) => s.check === "config");
  const merged: CheckStep = existing
    ? {
        check: "config",
        ok:
          existing.ok === false || step.ok === false
            ? false
            : existing.ok === undefined || step.ok === undefined
              ? undefined
              : true,
        detail: `${existing.detail}; ${step.detail}`,
      }
    : step;
  const steps = existing
    ? diagnosis.steps.map((s) => (s === existing ? merged : s))
    : [...diagnosis.steps, merged];
  const newlyBroken = diagnosis.ok && merged.ok === false;
  return {
    ...diagnosis,
    ...(newlyBroken
      ? { ok: false, brokenAt: "config" as const, summary: findings[0]?.message ?? diagnosis.summary }
      : {}),
    steps,
    findings: [...diagnosis.findings, ...findings],
  };
}
