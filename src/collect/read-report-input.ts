/**
 * Reads what the HTML page shows beyond the diagnosis: the chains that matter on each node the plan
 * names (report/html/rule-view-plan.ts; dumps re-read lazily, so only the lines that matter are
 * examined) and the bundle's collection time.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Diagnosis } from "../model/diagnosis.ts";
import { DumpSyntaxError } from "../parse/dump-syntax-error.ts";
import type { NodeRuleView, ReportInput } from "../report/html/report-input.ts";
import { ruleViewPlan } from "../report/html/rule-view-plan.ts";
import { nodeRuleView } from "../report/html/select-rule-view.ts";
import { CollectError } from "./collect-error.ts";
import { readDump } from "./read-dump.ts";

/** `collectedAt` of bundle.json; its problems are diagnose's to report, the page just has no date. */
async function collectedAt(dir: string): Promise<string | undefined> {
  try {
    const meta: unknown = JSON.parse(await readFile(join(dir, "bundle.json"), "utf8"));
    const value =
      meta !== null && typeof meta === "object" ? (meta as { collectedAt?: unknown }).collectedAt : undefined;
    return typeof value === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The report's input for a diagnosis of the bundle in `dir`; a dump that cannot be re-read gets no view. */
export async function readReportInput(dir: string, diagnosis: Diagnosis): Promise<ReportInput> {
  const views: NodeRuleView[] = [];
  for (const options of ruleViewPlan(diagnosis)) {
    let ruleset: Awaited<ReturnType<typeof readDump>>;
    try {
      ruleset = await readDump(join(dir, options.file), { lazy: true });
    } catch (error) {
      if (error instanceof CollectError || error instanceof DumpSyntaxError) continue;
      throw error;
    }
    const view = nodeRuleView(ruleset, options);
    if (view.chains.length > 0) views.push(view);
  }
  const at = await collectedAt(dir);
  return { ...diagnosis, ruleViews: views, ...(at === undefined ? {} : { collectedAt: at }) };
}
