/** Little-endian fields of zip records (PKWARE APPNOTE.TXT, sections 4.3 and 4.5.3). */

/** A 16-bit field at `o`. */
export function u16(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}

/** A 32-bit field at `o`. */
export function u32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

/** A 64-bit field at `o` (exact up to 2^53, far beyond any archive netdoctor reads). */
export function u64(b: Uint8Array, o: number): number {
  return u32(b, o) + u32(b, o + 4) * 2 ** 32;
}

/** An entry's sizes and offset with the 0xffffffff fields taken from its zip64 extra field, in order. */
export function zip64Sizes(
  cd: Uint8Array,
  start: number,
  length: number,
  fields: { size: number; compressed: number; offset: number },
): { size: number; compressed: number; offset: number } {
  let { size, compressed, offset } = fields;
  for (let x = start; x + 4 <= start + length; x += 4 + u16(cd, x + 2)) {
    if (u16(cd, x) !== 0x0001) continue;
    let q = x + 4;
    if (size === 0xffffffff) {
      size = u64(cd, q);
      q += 8;
    }
    if (compressed === 0xffffffff) {
      compressed = u64(cd, q);
      q += 8;
    }
    if (offset === 0xffffffff) offset = u64(cd, q);
  }
  return { size, compressed, offset };
}
