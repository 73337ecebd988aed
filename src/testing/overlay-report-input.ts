/**
 * A report input from a bundle captured from the overlay lab (testdata/hostnet/lab): the diagnosis
 * of a question across nodes, read the way `netdoctor report` reads it, for the HTML tests.
 */
import { diagnoseBundleDir } from "../collect/diagnose-bundle-dir.ts";
import { readReportInput } from "../collect/read-report-input.ts";
import type { ReportInput } from "../report/html/report-input.ts";
import { labBundleDir } from "./hostnet-fixtures.ts";

/** `diagnose --from FROM --to TO` on lab bundle `name`, as the report's input. */
export async function labReportInput(name: string, from: string, to: string): Promise<ReportInput> {
  const dir = labBundleDir(name);
  return readReportInput(dir, await diagnoseBundleDir(dir, { from, to }));
}
