import type { EnvMap } from "./property-sources.ts";
import type { TextOrigin } from "./resolve-placeholders.ts";

/** A property set through the environment by other means than its own variable. */
export interface DerivedProperty {
  readonly key: string;
  readonly raw: string;
  readonly origin: TextOrigin;
}

function flattenJson(value: unknown, path: string, out: [string, string][]): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      flattenJson(v, `${path}[${i}]`, out);
    });
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) flattenJson(v, path === "" ? k : `${path}.${k}`, out);
  } else if (path !== "") {
    out.push([path, value === null ? "" : String(value)]);
  }
}

/** Splits JVM options like a shell would for simple quoting (`-Da="x y"`). */
function jvmWords(text: string): string[] {
  const words: string[] = [];
  for (const m of text.matchAll(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g)) words.push(m[0].replace(/["']/g, ""));
  return words;
}

/**
 * Properties the environment sets indirectly, highest precedence first, as Spring Boot ranks them:
 * `SPRING_APPLICATION_JSON` (flattened JSON, above system properties) and `-Dkey=value` system
 * properties in `JAVA_TOOL_OPTIONS` (which every JVM reads; above environment variables).
 * Unparsable JSON yields nothing (Spring would refuse to start; the value is in the env anyway).
 */
export function envDerivedProperties(env: EnvMap): DerivedProperty[] {
  const out: DerivedProperty[] = [];
  const jsonVar = ["SPRING_APPLICATION_JSON", "spring.application.json"].find(
    (n) => env.get(n)?.value !== undefined,
  );
  if (jsonVar !== undefined) {
    const v = env.get(jsonVar)!;
    try {
      const pairs: [string, string][] = [];
      flattenJson(JSON.parse(v.value!), "", pairs);
      for (const [key, raw] of pairs) {
        out.push({
          key,
          raw,
          origin: { from: "env", env: jsonVar, ...(v.source === undefined ? {} : { envSource: v.source }) },
        });
      }
    } catch {
      // Not JSON: nothing derived.
    }
  }
  const tool = env.get("JAVA_TOOL_OPTIONS");
  if (tool?.value !== undefined) {
    for (const w of jvmWords(tool.value)) {
      const m = /^-D([^=]+)=(.*)$/s.exec(w);
      if (m) {
        out.push({
          key: m[1]!,
          raw: m[2]!,
          origin: {
            from: "env",
            env: "JAVA_TOOL_OPTIONS",
            ...(tool.source === undefined ? {} : { envSource: tool.source }),
          },
        });
      }
    }
  }
  return out;
}
