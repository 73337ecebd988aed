import { describe, expect, it } from "vitest";
import { keyPart, SharedLists } from "./shared-lists.ts";

interface Port {
  name?: string;
  port?: number;
}

describe("SharedLists", () => {
  const lists = () => new SharedLists<Port>((p) => `${keyPart(p.name)}\u0000${keyPart(p.port)}`);

  it("gives equal lists one frozen copy", () => {
    const shared = lists();
    const a = shared.of([{ name: "http", port: 8080 }]);
    const b = shared.of([{ name: "http", port: 8080 }]);
    expect(b).toBe(a);
    expect(Object.isFrozen(a) && Object.isFrozen(a[0])).toBe(true);
    expect(() => {
      (a[0] as Port).port = 1;
    }).toThrow(TypeError);
  });

  it("keeps lists apart that differ in order, length, an absent field or an empty one", () => {
    const shared = lists();
    const variants: Port[][] = [
      [
        { name: "a", port: 1 },
        { name: "b", port: 2 },
      ],
      [
        { name: "b", port: 2 },
        { name: "a", port: 1 },
      ],
      [{ name: "a", port: 1 }],
      [{ port: 1 }],
      [{ name: "", port: 1 }],
      [{ name: "a" }],
      [],
    ];
    const got = variants.map((v) => shared.of(structuredClone(v)));
    expect(new Set(got).size).toBe(variants.length);
    got.forEach((g, i) => {
      expect(g).toEqual(variants[i]);
    });
  });
});
