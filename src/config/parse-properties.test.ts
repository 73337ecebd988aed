// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Spring placeholders are the data under test
import { describe, expect, it } from "vitest";
import { ConfigSyntaxError } from "./config-syntax-error.ts";
import { parseProperties } from "./parse-properties.ts";

function entries(text: string): [string, string, number][] {
  return parseProperties(text, { file: "a.properties" }).flatMap((d) =>
    d.entries.map((e) => [e.key, e.value, e.line] as [string, string, number]),
  );
}

describe("parseProperties()", () => {
  it.each([
    ["a=b", [["a", "b", 1]]],
    ["a:b", [["a", "b", 1]]],
    ["a b", [["a", "b", 1]]],
    ["a = b ", [["a", "b ", 1]]],
    ["  a\t:\t b", [["a", "b", 1]]],
    ["a", [["a", "", 1]]],
    ["# c\n! c\n\na=1", [["a", "1", 4]]],
    [
      "a=1\\\n   2\\\n 3\nb=4",
      [
        ["a", "123", 1],
        ["b", "4", 4],
      ],
    ],
    [
      "a=x\\\\\nb=y",
      [
        ["a", "x\\", 1],
        ["b", "y", 2],
      ],
    ],
    ["k\\ ey=v", [["k ey", "v", 1]]],
    ["k\\=ey=v=w", [["k=ey", "v=w", 1]]],
    ["a=\\u0041\\t\\q", [["a", "A\tq", 1]]],
    [
      "a=1\r\nb=2\rc=3",
      [
        ["a", "1", 1],
        ["b", "2", 2],
        ["c", "3", 3],
      ],
    ],
    ["# comment \\\na=1", [["a", "1", 2]]],
  ])("parses %j", (text, want) => {
    expect(entries(text)).toEqual(want);
  });

  it("splits Spring Boot documents on #--- and reads their activation", () => {
    const docs = parseProperties("a=1\n#---\nspring.config.activate.on-profile=dev\na=2\n", { file: "p" });
    expect(docs.map((d) => [d.index, d.onProfile, d.entries.at(-1)?.value])).toEqual([
      [0, undefined, "1"],
      [1, "dev", "2"],
    ]);
  });

  it("throws a ConfigSyntaxError with the line on a malformed unicode escape", () => {
    expect(() => parseProperties("a=1\nb=\\u12", { file: "x.properties" })).toThrow(ConfigSyntaxError);
    expect(() => parseProperties("a=1\nb=\\u12", { file: "x.properties" })).toThrow(
      'Cannot parse "x.properties" at line 2: malformed \\uxxxx escape "\\u12"',
    );
  });
});
