import type { ScanReport } from "../scan/scan-dumps.ts";
import { clipText, renderFindingsText, terminalSafe } from "./render-findings-text.ts";

/** Duplicate groups and warnings shown per node; `-o json` lists all. */
const SHOWN = 5;

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  "))
    .join("\n");
}

/**
 * Renders `netdoctor scan` for people: one row per node, then per node its tables, largest
 * duplicate groups and parse warnings, then the findings. Text from dumps is made terminal-safe.
 */
export function renderScanText(report: ScanReport): string {
  const rows = [["NODE", "RULES", "CHAINS", "DUPLICATES", "IPTABLES"]];
  for (const n of report.nodes) {
    const ipt = [n.header.program, n.header.version, n.header.backend]
      .filter((x) => x !== undefined)
      .join(" ");
    rows.push([
      terminalSafe(n.node),
      String(n.rules),
      String(n.chains),
      String(n.duplicates.extraRules),
      terminalSafe(ipt),
    ]);
  }
  const out = [table(rows), ""];
  for (const n of report.nodes) {
    const tables = Object.entries(n.tables)
      .map(([t, c]) => `${t} ${c.rules} rules/${c.chains} chains`)
      .join(", ");
    out.push(`${terminalSafe(n.node)}: ${tables || "no tables"}`);
    for (const g of n.duplicates.groups.slice(0, SHOWN)) {
      out.push(
        `  ${g.count}x ${g.table}/${terminalSafe(g.chain)} (${g.owner}), first at line ${g.lines[0]}: ${clipText(g.rule, 120)}`,
      );
    }
    if (n.duplicates.groups.length > SHOWN) {
      out.push(`  ... ${n.duplicates.groups.length - SHOWN} more duplicate groups (-o json lists all)`);
    }
    for (const w of n.warnings.slice(0, SHOWN))
      out.push(`  line ${w.line}: ${terminalSafe(w.reason)}: ${clipText(w.text, 100)}`);
    if (n.warnings.length > SHOWN)
      out.push(`  ... ${n.warnings.length - SHOWN} more warnings (-o json lists all)`);
  }
  out.push("");
  return `${out.join("\n")}${renderFindingsText(report.findings)}`;
}
