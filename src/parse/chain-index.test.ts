import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ChainIndex } from "./chain-index.ts";

describe("ChainIndex", () => {
  test("ChainIndex finds sorted user chains and built-ins, and refuses a name twice", () => {
    const c = new ChainIndex();
    expect(c.declare("PREROUTING", true)).toBe(true);
    expect(c.declare("OUTPUT", true)).toBe(true);
    expect(c.declare("PREROUTING", true)).toBe(false);
    for (const n of ["KUBE-A", "KUBE-B", "KUBE-C"]) expect(c.declare(n, false)).toBe(true);
    expect(c.declare("KUBE-B", false)).toBe(false);
    expect(["OUTPUT", "KUBE-A", "KUBE-C", "KUBE-Z", "INPUT"].map((n) => c.find(n))).toEqual([
      1, 2, 4, -1, -1,
    ]);
    expect(c.names).toEqual(["PREROUTING", "OUTPUT", "KUBE-A", "KUBE-B", "KUBE-C"]);
    expect(c.counts).toEqual([0, 0, 0, 0, 0]);
  });

  test("ChainIndex behaves like a Map whatever the declaration order", () => {
    const name = fc.constantFrom("INPUT", "OUTPUT", "A", "B", "C", "KUBE-X", "KUBE-Y", "a", "Z");
    fc.assert(
      // As in the reader, a name is a built-in by its table, never by where it is declared.
      fc.property(fc.array(name, { maxLength: 30 }), fc.array(name, { maxLength: 10 }), (decls, probes) => {
        const c = new ChainIndex();
        const m = new Map<string, number>();
        for (const n of decls) {
          expect(c.declare(n, n === "INPUT" || n === "OUTPUT")).toBe(!m.has(n));
          if (!m.has(n)) m.set(n, m.size);
        }
        for (const p of [...probes, ...m.keys()]) expect(c.find(p)).toBe(m.get(p) ?? -1);
        expect(c.names).toEqual([...m.keys()]);
      }),
      { numRuns: 500 },
    );
  });
});
