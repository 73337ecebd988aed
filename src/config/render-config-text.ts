import { terminalSafe } from "../text/terminal-safe.ts";
import type { ConfigReport, OriginPart } from "./config-types.ts";

const safe = terminalSafe;

function where(o: { file?: string; line?: number }): string {
  return o.file === undefined ? "" : ` (${safe(o.file)}${o.line === undefined ? "" : `:${o.line}`})`;
}

function describe(o: OriginPart): string {
  switch (o.from) {
    case "env": {
      const set = o.envSource ? ` (${safe(o.envSource)})` : "";
      const at = o.placeholder
        ? ` for \${${safe(o.placeholder)}}${where(o).replace(/^ \(/, " at ").replace(/\)$/, "")}`
        : "";
      const over = o.overrides === undefined ? "" : `, overriding default "${safe(o.overrides)}"`;
      return `env ${safe(o.env ?? "?")}${set}${at}${over}`;
    }
    case "default":
      return `default of \${${safe(o.placeholder ?? "?")}}${where(o)}`;
    case "file":
      return `${o.property ? `property ${safe(o.property)}` : "written"}${where(o)}`;
    default: {
      const unreachable: never = o.from;
      return String(unreachable);
    }
  }
}

/** Renders `netdoctor config` for a person: endpoints with where each part of their value came from. */
export function renderConfigText(report: ConfigReport): string {
  const out: string[] = [];
  out.push(`Files: ${report.files.length === 0 ? "none found" : report.files.map(safe).join(", ")}`);
  out.push(
    `Profiles: ${report.profiles.length === 0 ? "none active (default)" : report.profiles.map(safe).join(", ")}${report.profilesFrom ? ` (from ${safe(report.profilesFrom)})` : ""}`,
  );
  for (const e of report.errors) out.push(`Error: ${safe(e.message)}`);
  out.push("");
  out.push(report.endpoints.length === 0 ? "No endpoints found." : `Endpoints (${report.endpoints.length}):`);
  for (const ep of report.endpoints) {
    const port = ep.port === undefined ? "" : `:${ep.port}${ep.defaultPort ? " (default port)" : ""}`;
    out.push(`  ${safe(ep.property)}  ->  ${safe(ep.host.includes(":") ? `[${ep.host}]` : ep.host)}${port}`);
    if (ep.value !== `${ep.host}:${ep.port}`) out.push(`      value ${safe(ep.value)}`);
    for (const o of ep.origin) out.push(`      ${JSON.stringify(safe(o.part))}  <- ${describe(o)}`);
  }
  if (report.unresolved.length > 0) {
    out.push("");
    out.push(`Unresolved (${report.unresolved.length}):`);
    for (const u of report.unresolved) out.push(`  ${safe(u.property)}: ${safe(u.message)}${where(u)}`);
  }
  if (report.notes && report.notes.length > 0) {
    out.push("");
    for (const n of report.notes) out.push(`Note: ${safe(n)}`);
  }
  return `${out.join("\n")}\n`;
}
