/**
 * The config link: pod IPs pinned in the client's env vars and ConfigMaps, and (with `--jar`) in the
 * app's own configuration. A pinned live pod IP works now and breaks later: at risk. An address no pod
 * has any more is broken.
 */
import { checkStep, type LinkStatus } from "../model/diagnosis.ts";
import type { Link, WalkContext } from "./link.ts";

const RANK: Readonly<Record<LinkStatus, number>> = {
  broken: 4,
  undecided: 3,
  "at-risk": 2,
  ok: 1,
  "not-applicable": 0,
};

/** The config link of a question. */
export function configLink(ctx: WalkContext): Link {
  const { clientKey } = ctx.question;
  const env = ctx.config;
  const errors = env.filter((f) => f.severity === "error");
  const envStatus: LinkStatus = errors.length > 0 ? "broken" : env.length > 0 ? "at-risk" : "ok";
  const envDetail =
    env.length === 0
      ? `no pod IPs pinned in ${clientKey}'s env vars or ConfigMaps`
      : env.map((f) => f.message).join("; ");
  const app = ctx.appConfig;
  const status = app === undefined || RANK[envStatus] >= RANK[app.step.status] ? envStatus : app.step.status;
  const findings = [...env, ...(app?.findings ?? [])];
  const codes = [...new Set(findings.filter((f) => f.severity !== "info").map((f) => f.code))];
  const detail = app === undefined ? envDetail : `${envDetail}; ${app.step.detail}`;
  const proof = findings.find((f) => f.severity === "error");
  return {
    step: checkStep("config", status, detail, {
      ...(app?.step.missing === undefined ? {} : { missing: app.step.missing }),
      ...(app?.step.howToGet === undefined ? {} : { howToGet: app.step.howToGet }),
      findings: codes,
    }),
    findings,
    ...(proof === undefined ? {} : { proof }),
    ...(status === "at-risk" ? { risk: `${codes.join(", ")} in ${clientKey}'s configuration` } : {}),
  };
}
