/**
 * What `diagnose` and `report` share: the `--from/--to/-n` question and a bundle diagnosis with
 * progress on stderr. A question that cannot be asked (a URL, a pod that is not in the bundle) throws
 * a `QuestionError`: one line on stderr that says what to give instead, exit 2.
 */
import { diagnoseBundleDir } from "../../collect/diagnose-bundle-dir.ts";
import type { DiagnoseQuestion } from "../../diagnose/diagnosis-builder.ts";
import { parseTo } from "../../diagnose/parse-to.ts";
import type { Diagnosis } from "../../model/diagnosis.ts";
import { UsageError } from "../exit-codes.ts";

/** The question flags as commander hands them over. */
export interface QuestionFlags {
  from?: string;
  to?: string;
  namespace?: string;
}

/**
 * The question the flags ask, or `undefined` for "check everything" (neither `--from` nor `--to`).
 * `action` starts the usage error, e.g. `"Cannot diagnose"`.
 */
export function bundleQuestion(flags: QuestionFlags, action: string): DiagnoseQuestion | undefined {
  if ((flags.from === undefined) !== (flags.to === undefined)) {
    throw new UsageError(`${action}: --from and --to go together (or give neither to check everything)`);
  }
  if (flags.from === undefined || flags.to === undefined) return undefined;
  // A URL or an IPv6 literal is refused (QuestionError) before the bundle is read.
  parseTo(flags.to);
  return { from: flags.from, to: flags.to, namespace: flags.namespace ?? "default" };
}

/** What `diagnose` and `report` print when they are done: the verdict in words. */
export function verdictWords(d: Diagnosis): string {
  return d.verdict === "reachable" ? "healthy" : d.verdict === "broken" ? "problems found" : "undecided";
}

/** Diagnoses the bundle in `dir`, showing the node being read when stderr is a terminal. */
export async function diagnoseWithProgress(
  dir: string,
  question: DiagnoseQuestion | undefined,
): Promise<Diagnosis> {
  const progress = process.stderr.isTTY === true;
  try {
    return await diagnoseBundleDir(dir, question, {
      onNode: (node, done, total) => {
        if (progress) process.stderr.write(`\rreading node ${done + 1}/${total}: ${node}\x1b[K`);
      },
    });
  } finally {
    if (progress) process.stderr.write("\r\x1b[K");
  }
}
