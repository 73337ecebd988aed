import type { TableName } from "../model/ruleset.ts";
import type { AdviceStep } from "./plan-advice.ts";
import type { CopyRun, DuplicatePlan } from "./plan-duplicates.ts";
import { thousands } from "./thousands.ts";

/** A restore file the command wrote (or would write with --out). */
export interface WrittenFile {
  readonly table: TableName;
  readonly path: string;
  readonly chains: readonly string[];
}

/** What `netdoctor fix duplicates` reports (`-o json|yaml` prints this object). */
export interface FixReport extends DuplicatePlan {
  /** The dump file as given. */
  readonly dump: string;
  /** Restore files written; empty without --out. */
  readonly files: readonly WrittenFile[];
  /** The steps around applying the files; netdoctor applies nothing. */
  readonly advice: readonly AdviceStep[];
}

const n = thousands;

function clip(text: string, max = 150): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** A run as people read it: `7`, `7-9` (three lines in a row) or `39-873000 (237,501 rules of the chain)`. */
function runText(r: CopyRun): string {
  if (r.count === 1) return `${r.first}`;
  return r.last - r.first + 1 === r.count
    ? `${r.first}-${r.last}`
    : `${r.first}-${r.last} (${n(r.count)} rules of the chain)`;
}

function lineList(runs: readonly CopyRun[], max = 6): string {
  const shown = runs.slice(0, max).map(runText).join(", ");
  return runs.length > max ? `${shown}, ... (${n(runs.length)} runs; -o json lists every one)` : shown;
}

/** Renders the plan for people. */
export function renderFixText(report: FixReport): string {
  const h = report.header;
  const writer = h.program === undefined ? "no header" : `${h.program} v${h.version ?? "?"}, ${h.backend}`;
  const out: string[] = [
    `Duplicate rules in ${report.dump} (${writer})`,
    `  rules: ${n(report.before)} -> ${n(report.after)}; exact later copies: ${n(report.copies)}, removable: ${n(report.removed)}, must stay: ${n(report.kept)}`,
    "",
  ];
  const changed = report.tables.filter((t) => t.chains.length > 0);
  if (changed.length > 0) {
    out.push("Tables and chains changed (before -> after):");
    for (const t of changed) {
      out.push(`  ${t.table}: ${n(t.before)} -> ${n(t.after)}`);
      for (const c of t.chains)
        out.push(`    ${c.chain}${c.builtin ? " (built-in)" : ""}: ${n(c.before)} -> ${n(c.after)}`);
    }
    out.push("");
  }
  if (report.removedGroups.length > 0) {
    out.push(`Removed (${n(report.removed)} lines):`);
    for (const g of report.removedGroups) {
      out.push(`  ${n(g.count)}x ${g.table} ${clip(g.rule)}`);
      out.push(`    owner ${g.owner}; kept copy: line ${g.keptLine}; removed lines: ${lineList(g.runs)}`);
      out.push(`    why: ${g.reason}`);
    }
    out.push("");
  }
  if (report.keptGroups.length > 0) {
    out.push(`Copies that must stay (${n(report.kept)} lines):`);
    for (const g of report.keptGroups) {
      out.push(`  ${n(g.count)}x ${g.table} ${clip(g.rule)}`);
      out.push(`    copy of line ${g.copyOfLine}; lines: ${lineList(g.runs)}`);
      out.push(`    why: ${g.reason}`);
    }
    out.push("");
  }
  if (report.removed === 0) {
    out.push("Nothing to remove.", "");
    return out.join("\n");
  }
  if (report.files.length > 0) {
    out.push("Restore files written (apply only with --noflush):");
    for (const f of report.files) out.push(`  ${f.path}  (${f.table}: ${f.chains.join(", ")})`);
  } else {
    out.push("No files written: pass --out FILE or --out DIR/ to write the iptables-restore input.");
  }
  out.push("", "Plan (netdoctor applies nothing; run these yourself, one node at a time):");
  report.advice.forEach((s, i) => {
    out.push(`  ${i + 1}. ${s.title}`);
    out.push(`     ${s.detail}`);
    for (const c of s.commands ?? []) out.push(`       $ ${c}`);
    if (s.references !== undefined && s.references.length > 0)
      out.push(`     see: ${s.references.join(", ")}`);
  });
  out.push("");
  return out.join("\n");
}
