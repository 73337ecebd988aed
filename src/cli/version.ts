/**
 * What `netdoctor --version` prints: the version, the commit it was built from and when.
 * scripts/build.mjs injects the facts into dist/ (esbuild `define`); run from the sources (tsx)
 * the version comes from package.json and the commit and date are "unknown".
 */
import { readFileSync } from "node:fs";

/** Build facts; `modified` is true when the work tree had uncommitted changes at build time. */
export interface BuildInfo {
  readonly version: string;
  readonly commit: string;
  readonly modified: boolean;
  readonly date: string;
}

// Replaced by an object literal in dist/ (scripts/build.mjs); undeclared when run from the sources.
declare const __NETDOCTOR_BUILD__: BuildInfo | undefined;

function sourceVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: unknown;
    };
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "unknown";
  }
}

/** The build facts of this program. */
export function buildInfo(): BuildInfo {
  if (typeof __NETDOCTOR_BUILD__ !== "undefined") return __NETDOCTOR_BUILD__;
  return { version: sourceVersion(), commit: "unknown", modified: false, date: "unknown" };
}

/** One line: `0.1.0 (commit 1a2b3c4, built 2025-01-31T12:00:00Z)`, the commit marked when it was modified. */
export function versionText(info: BuildInfo): string {
  const commit = `${info.commit}${info.modified ? " with uncommitted changes" : ""}`;
  return `${info.version} (commit ${commit}, built ${info.date})`;
}
