/** Growing the typed arrays that parsers keep per rule or per chain (internal to the readers). */

/**
 * A copy of `a` in a new array of `size` numbers (twice as many by default), the numbers after
 * `a`'s set to `fill`.
 */
export function grownInt32(a: Int32Array, size = a.length * 2, fill = 0): Int32Array {
  const b = new Int32Array(size);
  if (fill !== 0) b.fill(fill, a.length);
  b.set(a);
  return b;
}

/** A copy of `a` in a new array twice as long, the bytes after `a`'s zero. */
export function grownUint8(a: Uint8Array): Uint8Array {
  const b = new Uint8Array(a.length * 2);
  b.set(a);
  return b;
}
