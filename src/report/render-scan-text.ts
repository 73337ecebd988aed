import type { ScanReport } from "../diagnose/scan-dumps.ts";
import { clipText, renderFindingsText } from "./render-findings-text.ts";

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n");
}

/** Renders `netdoctor scan` for people. */
export function renderScanText(report: ScanReport): string {
  const rows = [["NODE", "RULES", "CHAINS", "DUPLICATES", "IPTABLES"]];
  for (const n of report.nodes) {
    const ipt = [n.header.program, n.header.version, n.header.backend].filter((x) => x !== undefined).join(" ");
    rows.push([n.node, String(n.rules), String(n.chains), String(n.duplicates.extraRules), ipt]);
  }
  const out = [table(rows), ""];
  for (const n of report.nodes) {
    const tables = Object.entries(n.tables)
      .map(([t, c]) => `${t} ${c.rules} rules/${c.chains} chains`)
      .join(", ");
    out.push(`${n.node}: ${tables || "no tables"}`);
    for (const g of n.duplicates.groups.slice(0, 5)) {
      out.push(`  ${g.count}x ${g.table}/${g.chain} (${g.owner}), first at line ${g.lines[0]}: ${clipText(g.rule, 120)}`);
    }
    if (n.duplicates.groups.length > 5) out.push(`  ... ${n.duplicates.groups.length - 5} more duplicate groups (-o json lists all)`);
    for (const w of n.warnings.slice(0, 5)) out.push(`  line ${w.line}: ${w.reason}: ${clipText(w.text, 100)}`);
  }
  out.push("");
  return `${out.join("\n")}${renderFindingsText(report.findings)}`;
}
