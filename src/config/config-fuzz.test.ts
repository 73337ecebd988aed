import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigSyntaxError } from "./config-syntax-error.ts";
import { discoverConfig } from "./discover-config.ts";
import { parseProperties } from "./parse-properties.ts";
import { parseYamlConfig } from "./parse-yaml-config.ts";

/** Escapes a key or value the way `java.util.Properties.store` does. */
function escapeJava(s: string, isKey: boolean): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    const code = c.charCodeAt(0);
    if (c === "\\") out += "\\\\";
    else if (c === "\t") out += "\\t";
    else if (c === "\n") out += "\\n";
    else if (c === "\r") out += "\\r";
    else if (c === "\f") out += "\\f";
    else if ("=:#!".includes(c)) out += `\\${c}`;
    else if (c === " " && (isKey || i === 0)) out += "\\ ";
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += c;
  }
  return out;
}

describe("config parsers on arbitrary input", () => {
  it("parseProperties() reads back what Properties.store-style escaping wrote", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ maxLength: 40 }), (key, value) => {
        const text = `# generated\n${escapeJava(key, true)}=${escapeJava(value, false)}\n`;
        const [doc] = parseProperties(text, { file: "p.properties" });
        expect(doc?.entries.map((e) => [e.key, e.value, e.line])).toEqual([[key, value, 2]]);
      }),
      { numRuns: 300 },
    );
  });

  it("the parsers and the resolver either succeed or throw ConfigSyntaxError, and resolution never throws", () => {
    const chars = fc.constantFrom(
      "$",
      "{",
      "}",
      ":",
      "\\",
      "a",
      "b",
      ".",
      "-",
      " ",
      "\n",
      "#",
      "=",
      "[",
      "]",
      "'",
      '"',
      "-",
      "&",
      "*",
      "!",
    );
    const text = fc.array(chars, { maxLength: 60 }).map((a) => a.join(""));
    fc.assert(
      fc.property(text, fc.boolean(), (t, yaml) => {
        const path = yaml ? "application.yml" : "application.properties";
        try {
          if (yaml) parseYamlConfig(t, { file: path });
          else parseProperties(t, { file: path });
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigSyntaxError);
        }
        const report = discoverConfig([{ path, text: t }], { includeProperties: true });
        expect(Array.isArray(report.endpoints)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
