import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodePlain } from "./plain-decoder.ts";
import { encodePlain, PlainEncoder } from "./plain-encoder.ts";

const roundTrip = (v: unknown) => decodePlain(encodePlain(v));

describe("encodePlain() and decodePlain()", () => {
  it("give back any JSON value, keys in their order", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const back = roundTrip(v);
        expect(back).toStrictEqual(v);
        expect(JSON.stringify(back)).toBe(JSON.stringify(v));
      }),
      { numRuns: 300 },
    );
  });

  it("give back what JSON cannot hold: undefined fields, -0, NaN, infinities, lone surrogates", () => {
    const v = {
      absent: undefined,
      negativeZero: -0,
      nan: Number.NaN,
      big: 2 ** 40,
      small: -7,
      fraction: 0.1,
      inf: Number.NEGATIVE_INFINITY,
      surrogate: "a\uD800b",
      empty: "",
      nested: [[], {}, [undefined, null, true, false]],
    };
    const back = roundTrip(v) as typeof v;
    expect(back).toStrictEqual(v);
    expect(Object.keys(back)).toEqual(Object.keys(v));
    expect(Object.is(back.negativeZero, -0)).toBe(true);
    expect(back.surrogate).toBe("a\uD800b");
  });

  it("keep integer-like keys and an own __proto__ key as JSON.parse made them", () => {
    const v = JSON.parse('{"b": 1, "10": 2, "2": 3, "__proto__": {"x": 1}, "a": [1]}') as object;
    const back = roundTrip(v) as Record<string, unknown>;
    expect(Object.keys(back)).toEqual(["2", "10", "b", "__proto__", "a"]);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.hasOwn(back, "__proto__")).toBe(true);
    expect(back).toStrictEqual(v);
  });

  it("freeze again what was frozen, and share again what was shared frozen", () => {
    const ports = Object.freeze([Object.freeze({ port: 80, protocol: "TCP" })]);
    const conditions = Object.freeze({ ready: true });
    const v = {
      items: [
        { ports, conditions, own: { a: 1 } },
        { ports, conditions, own: { a: 1 } },
      ],
    };
    const back = roundTrip(v) as typeof v;
    expect(back).toStrictEqual(v);
    const [a, b] = back.items as [(typeof v.items)[0], (typeof v.items)[0]];
    expect(a.ports).toBe(b.ports);
    expect(a.conditions).toBe(b.conditions);
    expect(Object.isFrozen(a.ports) && Object.isFrozen(a.ports[0]) && Object.isFrozen(a.conditions)).toBe(
      true,
    );
    expect(a.own).not.toBe(b.own);
    expect(Object.isFrozen(a.own) || Object.isFrozen(back.items)).toBe(false);
  });

  it("share a long string repeated under the same key, and keep every value", () => {
    const file = `cluster/${"x".repeat(40)}.json`;
    const items = Array.from({ length: 50 }, (_, i) => ({
      source: { file: `${file}`, line: i + 1 },
      name: `n-${i}`,
    }));
    const encoded = encodePlain(items);
    expect(encoded.text.split(file).length - 1).toBe(1);
    expect(decodePlain(encoded)).toStrictEqual(items);
  });

  it("refuse what is not plain data", () => {
    for (const v of [
      new Map(),
      new Date(0),
      () => 1,
      Symbol("s"),
      1n,
      { m: new Set() },
      [new (class A {})()],
    ])
      expect(() => encodePlain(v)).toThrow(TypeError);
  });
});

describe("PlainEncoder", () => {
  it("streams an array's items and forgets those written since a mark", () => {
    const shared = Object.freeze({ shared: true });
    const e = new PlainEncoder();
    e.openObject(["items", "problems"]);
    const at = e.openArray();
    const start = e.mark();
    // Written, then dropped: the frozen object it met must not be referred to later.
    e.value({ first: shared });
    e.value("dropped");
    e.rollback(start);
    const items = [{ a: shared }, { b: shared }, "x"];
    for (const item of items) e.value(item);
    e.closeArray(at, items.length);
    e.value([]);
    const back = decodePlain(e.finish()) as { items: { a?: object; b?: object }[]; problems: [] };
    expect(back).toStrictEqual({ items, problems: [] });
    expect(back.items[0]!.a).toBe(back.items[1]!.b);
  });
});
