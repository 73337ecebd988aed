import type { TableName } from "../model/ruleset.ts";
import type { AdviceStep } from "./plan-advice.ts";
import type { DuplicatePlan } from "./plan-duplicates.ts";

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

const n = (x: number): string => x.toLocaleString("en-US");

function clip(text: string, max = 150): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

function lineList(lines: readonly number[], max = 6): string {
  const shown = lines.slice(0, max).join(", ");
  return lines.length > max ? `${shown}, ... (${n(lines.length)} lines; -o json lists every one)` : shown;
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
      out.push(`  ${n(g.lines.length)}x ${g.table} ${clip(g.rule)}`);
      out.push(`    owner ${g.owner}; kept copy: line ${g.keptLine}; removed lines: ${lineList(g.lines)}`);
      out.push(`    why: ${g.reason}`);
    }
    out.push("");
  }
  if (report.keptGroups.length > 0) {
    out.push(`Copies that must stay (${n(report.kept)} lines):`);
    for (const g of report.keptGroups) {
      out.push(`  ${n(g.lines.length)}x ${g.table} ${clip(g.rule)}`);
      out.push(`    copy of line ${g.copyOfLine}; lines: ${lineList(g.lines)}`);
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
