import { describe, expect, it } from "vitest";
import { itemEvidence, parseJsonArray } from "./json-array.ts";

describe("parseJsonArray()", () => {
  it("gives each item of pretty-printed output the line it starts on", () => {
    const text = '[\n  {\n    "a": "x,{[]}\\""\n  },\n  {"b": [1, 2]},\n\n  3\n]\n';
    const items = parseJsonArray(text, { file: "f.json" });
    expect(items.map((i) => [i.index, i.line])).toEqual([
      [0, 2],
      [1, 5],
      [2, 7],
    ]);
    expect(itemEvidence("f.json", items[1]!)).toEqual({ file: "f.json", line: 5, text: '$[1] {"b":[1,2]}' });
  });

  it("reads empty output as an empty table (iproute2 prints nothing for some empty tables)", () => {
    expect(parseJsonArray(" \n", { file: "f.json" })).toEqual([]);
  });

  it("throws a SyntaxError with file, line and column for text that is not JSON", () => {
    expect(() => parseJsonArray('[{"a":1},\n{"b":}]', { file: "nodes/a/ip-route.json" })).toThrow(
      /^Cannot parse nodes\/a\/ip-route\.json at line 2, column \d+: /,
    );
    expect(() => parseJsonArray('[{"a":1},\n{"b":}]', { file: "x" })).toThrow(SyntaxError);
  });

  it("refuses JSON that is not an array", () => {
    expect(() => parseJsonArray('{"a":1}', { file: "x.json" })).toThrow(
      "Cannot parse x.json at line 1, column 1: expected a JSON array",
    );
  });
});

describe("jsonErrorOffset()", () => {
  it("finds where JSON text first goes wrong, and nothing in valid JSON", async () => {
    const { jsonErrorOffset } = await import("./json-error-offset.ts");
    expect(jsonErrorOffset('[{"a":1},\n{"b":}]')).toBe(15);
    expect(jsonErrorOffset("[1, 2,]")).toBe(6);
    expect(jsonErrorOffset('{"a": "x\\"y"} x')).toBe(14);
    expect(jsonErrorOffset('["unterminated')).toBe(14);
    expect(jsonErrorOffset('[{"a":[1,-2.5e3,true,false,null,{}]}]')).toBeUndefined();
    for (const valid of ["[]", '{"k":"\\u00e9"}', " 0 "]) expect(jsonErrorOffset(valid)).toBeUndefined();
  });
});
