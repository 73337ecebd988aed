import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ChainIndex } from "./chain-index.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);

describe("ChainIndex", () => {
  test("ChainIndex finds chains in any declaration order, and refuses a name twice", () => {
    const c = new ChainIndex();
    expect(c.declare("PREROUTING")).toBe(true);
    expect(c.declare("OUTPUT")).toBe(true);
    expect(c.declare("PREROUTING")).toBe(false);
    for (const n of ["KUBE-C", "KUBE-A", "KUBE-B"]) expect(c.declare(n)).toBe(true);
    expect(c.declare("KUBE-B")).toBe(false);
    expect(["OUTPUT", "KUBE-A", "KUBE-C", "KUBE-Z", "INPUT"].map((n) => c.find(n))).toEqual([
      1, 3, 2, -1, -1,
    ]);
    expect(c.names).toEqual(["PREROUTING", "OUTPUT", "KUBE-C", "KUBE-A", "KUBE-B"]);
    expect(c.size).toBe(5);
  });

  test("ChainIndex finds a name by the bytes of a rule line and checks it in place", () => {
    const c = new ChainIndex();
    c.declare("KUBE-SVC-X");
    c.declare("KUBE-SVC");
    const line = utf8("-A KUBE-SVC-X -j KUBE-SVC");
    expect(c.findBytes(line, 3, 13)).toBe(0);
    expect(c.findBytes(line, 17, line.length)).toBe(1);
    expect(c.findBytes(line, 3, 11)).toBe(1);
    // "KUBE-SVC" is a prefix of the name at 3, but not followed by a space there.
    expect(c.isAt(1, line, 3, line.length)).toBe(false);
    expect(c.isAt(0, line, 3, line.length)).toBe(true);
    expect(c.isAt(1, line, 17, line.length)).toBe(true);
    expect(c.isAt(0, line, 17, line.length)).toBe(false);
  });

  test("ChainIndex counts the rules of each chain", () => {
    const c = new ChainIndex();
    c.declare("A");
    c.declare("B");
    expect([c.next(1), c.next(1), c.next(0), c.next(1)]).toEqual([0, 1, 0, 2]);
    expect([c.count(0), c.count(1)]).toEqual([1, 3]);
  });

  test("ChainIndex.nextWithPrefix() finds the chains named with a prefix, in declaration order", () => {
    const c = new ChainIndex();
    for (const n of ["KUBE-SVC", "KUBE-SVC-B", "KUBE-SEP-A", "KUBE-SVC-A", "KUBE-SV", "KUBE-EXT-C"])
      c.declare(n);
    const all = (prefixes: string[]) => {
      const out: number[] = [];
      for (let p = c.nextWithPrefix(prefixes); p >= 0; p = c.nextWithPrefix(prefixes, p + 1)) out.push(p);
      return out;
    };
    expect(all(["KUBE-SVC-"])).toEqual([1, 3]);
    expect(all(["KUBE-EXT-", "KUBE-SEP-"])).toEqual([2, 5]);
    expect(all(["KUBE-SVC"])).toEqual([0, 1, 3]);
    expect(all(["KUBE-XLB-"])).toEqual([]);
    expect(c.nextWithPrefix(["KUBE-SVC-"], 4)).toBe(-1);
  });

  test("ChainIndex behaves like a Map, by string and by bytes, for any names", () => {
    const name = fc.oneof(
      fc.constantFrom("INPUT", "OUTPUT", "A", "B", "KUBE-X", "KUBE-Y", "a", "Z", "é", "链"),
      fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !/[\s]/.test(s)),
    );
    fc.assert(
      fc.property(fc.array(name, { maxLength: 300 }), fc.array(name, { maxLength: 20 }), (decls, probes) => {
        const c = new ChainIndex();
        const m = new Map<string, number>();
        for (const n of decls) {
          expect(c.declare(n)).toBe(!m.has(n));
          if (!m.has(n)) m.set(n, m.size);
        }
        for (const p of [...probes, ...m.keys()]) {
          expect(c.find(p)).toBe(m.get(p) ?? -1);
          const b = utf8(`-A ${p} -j X`);
          expect(c.findBytes(b, 3, b.length - 5)).toBe(m.get(p) ?? -1);
        }
        expect(c.names).toEqual([...m.keys()]);
      }),
      { numRuns: 300 },
    );
  });
});
