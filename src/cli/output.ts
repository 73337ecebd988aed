import { UsageError } from "./exit-codes.ts";

/** Output formats shared by every command (kubectl's `-o`). */
export type OutputFormat = "text" | "json" | "yaml";

export function parseOutputFormat(value: string, extra: readonly string[] = []): OutputFormat {
  if (value === "text" || value === "json" || value === "yaml" || extra.includes(value))
    return value as OutputFormat;
  throw new UsageError(
    `Cannot use output format "${value}": expected one of text, json, yaml${extra.map((e) => `, ${e}`).join("")}`,
  );
}

/**
 * Renders data as the chosen format; `text` uses the command's own renderer. The YAML library is
 * loaded only for `-o yaml`: every command starts faster without it.
 */
export async function formatOutput<T>(
  format: OutputFormat,
  data: T,
  renderText: (data: T) => string,
): Promise<string> {
  switch (format) {
    case "json":
      return `${JSON.stringify(data, null, 2)}\n`;
    case "yaml": {
      // A CommonJS package: bundled, its import has only the default export; from source, both.
      const yaml = await import("yaml");
      const { stringify } = (yaml as unknown as { default?: typeof yaml }).default ?? yaml;
      return stringify(data, { lineWidth: 0, aliasDuplicateObjects: false });
    }
    case "text":
      return renderText(data);
    default: {
      const unreachable: never = format;
      throw new TypeError(`Unknown output format: ${String(unreachable)}`);
    }
  }
}

/** Writes to stdout and resolves once the data is flushed (large JSON must not be cut by exit). */
export async function writeStdout(output: string | Promise<string>): Promise<void> {
  const text = await output;
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (err) => (err ? reject(err) : resolve()));
  });
}
