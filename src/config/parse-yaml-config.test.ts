import { describe, expect, it } from "vitest";
import { ConfigSyntaxError } from "./config-syntax-error.ts";
import { parseYamlConfig } from "./parse-yaml-config.ts";
import { javaDoubleToString } from "./yaml-scalar.ts";

describe("parseYamlConfig()", () => {
  it("flattens to Spring keys with the line of each value", () => {
    const docs = parseYamlConfig(
      "spring:\n  cloud:\n    nacos:\n      server-addr: h:1\nlist:\n  - a\n  - k: v\n",
      { file: "f.yml" },
    );
    expect(docs[0]!.entries.map((e) => `${e.key}=${e.value}@${e.line}`)).toEqual([
      "spring.cloud.nacos.server-addr=h:1@4",
      "list[0]=a@6",
      "list[1].k=v@7",
    ]);
    expect(docs[0]!.entries[0]!.text).toBe("      server-addr: h:1");
  });

  it("keeps documents apart with their profile conditions", () => {
    const docs = parseYamlConfig(
      "a: 1\n---\nspring:\n  config:\n    activate:\n      on-profile: [dev, qa]\na: 2\n---\n",
      { file: "f.yml" },
    );
    expect(docs.map((d) => [d.index, d.onProfile])).toEqual([
      [0, undefined],
      [1, "dev,qa"],
    ]);
  });

  it.each([
    ["a: b\nc: [\n", 3],
    ["a: b\n  c: d\n", 1],
    ["a: 1\na: 2\n", 2],
    // An unterminated quote is found at the end of the input.
    ["a: b\n---\nx: 'unterminated\n", 4],
    ["- a\n- b\n", 1],
  ])("reports a syntax error in %j with its line", (text, line) => {
    try {
      parseYamlConfig(text, { file: "BOOT-INF/classes/bootstrap.yml" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigSyntaxError);
      expect((error as ConfigSyntaxError).line).toBe(line);
      expect((error as Error).message).toMatch(
        new RegExp(`^Cannot parse "BOOT-INF/classes/bootstrap.yml" at line ${line}: `),
      );
    }
  });

  it("refuses an alias bomb instead of expanding it", () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++)
      levels.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(", ")}]`,
      );
    expect(() => parseYamlConfig(levels.join("\n"), { file: "bomb.yml" })).toThrow(/alias bomb|aliases/i);
  });
});

describe("javaDoubleToString()", () => {
  it.each([
    [1, "1.0"],
    [1.5, "1.5"],
    [0.001, "0.001"],
    [0.0001, "1.0E-4"],
    [1e7, "1.0E7"],
    [12345678.9, "1.23456789E7"],
    [-0, "-0.0"],
    [Number.NaN, "NaN"],
  ])("formats %d as %s", (d, s) => {
    expect(javaDoubleToString(d)).toBe(s);
  });
});
