import { expect, test } from "vitest";
import { FingerprintTable } from "./fingerprint-table.ts";

const encoder = new TextEncoder();

/** Rule-like texts, all different. */
function texts(n: number): DataView[] {
  const out: DataView[] = [];
  for (let i = 0; i < n; i++) {
    const b = encoder.encode(
      `-A KUBE-SEP-${i.toString(36).toUpperCase()} -s 10.0.${i >> 8}.${i & 255}/32 -j KUBE-MARK-MASQ`,
    );
    out.push(new DataView(b.buffer));
  }
  return out;
}

/** Adds each text, numbered from 1, and returns the table's size in bytes after each time it changed. */
function fill(t: FingerprintTable, views: readonly DataView[], salt = 1): number[] {
  const sizes = [t.byteLength];
  views.forEach((v, i) => {
    const slot = t.find(v, 0, v.byteLength, salt);
    if (t.value(slot) !== 0) throw new TypeError(`text ${i} was found before it was added`);
    t.setValue(slot, i + 1);
    if (t.byteLength !== sizes.at(-1)) sizes.push(t.byteLength);
  });
  return sizes;
}

test("FingerprintTable.find() gives each text its own slot, the same one again, and keeps values as it grows", () => {
  const views = texts(100_000);
  const t = new FingerprintTable();
  const sizes = fill(t, views);
  expect(sizes.length).toBeGreaterThan(2);
  expect(t.size).toBe(100_000);
  expect(views.filter((v, i) => t.value(t.find(v, 0, v.byteLength, 1)) !== i + 1)).toEqual([]);
  // The same bytes in another table (salt) are another string; a part of the bytes is another text.
  const v = views[7]!;
  expect(t.value(t.find(v, 0, v.byteLength, 2))).toBe(0);
  expect(t.value(t.find(v, 0, v.byteLength - 1, 1))).toBe(0);
  expect(t.size).toBe(100_002);
});

test("FingerprintTable holds as many strings as it was made for without growing, at most three-quarters full", () => {
  const views = texts(50_000);
  const t = new FingerprintTable(50_000);
  expect(fill(t, views)).toHaveLength(1);
  expect(t.byteLength / 12).toBeGreaterThanOrEqual((50_000 * 4) / 3);
});

test("FingerprintTable.planGrowth() has a full table grow once, to room for as many strings as planned", () => {
  const views = texts(200_000);
  const planned: number[] = [];
  const t = new FingerprintTable(1000);
  t.planGrowth((size) => {
    planned.push(size);
    return 200_000;
  });
  const slots = t.byteLength / 12;
  const sizes = fill(t, views);
  expect(sizes).toHaveLength(2);
  // Asked once, when one more string would make it more than three-quarters full.
  expect(planned).toEqual([Math.floor((slots * 3) / 4) + 1]);
  expect(sizes[1]! / 12).toBeGreaterThanOrEqual((200_000 * 4) / 3);
  // A plan smaller than what the table holds still grows it (at least doubled).
  const small = new FingerprintTable(1000);
  small.planGrowth(() => 0);
  const grown = fill(small, texts(30_000));
  for (let i = 1; i < grown.length; i++) expect(grown[i]!).toBeGreaterThanOrEqual(2 * grown[i - 1]!);
  expect(grown.length).toBeGreaterThan(1);
});
