/**
 * CIDR helpers on text addresses, on top of the tracer's numeric IPv4 (net/ipv4.ts): membership,
 * the smallest network that covers a set of addresses, and IPv6 recognition.
 */
import { type Cidr, formatIpv4, inCidr, parseCidr, parseIpv4 } from "./ipv4.ts";

/** True when `ip` (dotted IPv4) lies in `cidr` (`a.b.c.d/n`); false for anything that is not IPv4. */
export function ipInCidr(ip: string, cidr: string): boolean {
  const addr = parseIpv4(ip);
  const net = parseCidr(cidr);
  return addr !== undefined && net !== undefined && inCidr(addr, net);
}

/** `10.42.0.0/16` for a contiguous network. */
export function cidrText(c: Cidr): string {
  return `${formatIpv4(c.base)}/${c.prefix}`;
}

/**
 * The smallest network that holds every address and network given (IPv4 text; other entries are
 * ignored), or undefined when there is none. It lies inside any network that holds them all, so an
 * address inside it is proven to be in that network too.
 *
 * @example
 * ```ts
 * coveringCidr(["10.43.0.1", "10.43.176.183"]); // "10.43.0.0/16"
 * ```
 */
export function coveringCidr(entries: readonly string[]): string | undefined {
  let lo: number | undefined;
  let hi: number | undefined;
  for (const e of entries) {
    const c = parseCidr(e);
    if (c === undefined || c.prefix < 0) continue;
    const last = (c.base | (~c.mask >>> 0)) >>> 0;
    lo = lo === undefined ? c.base : Math.min(lo, c.base);
    hi = hi === undefined ? last : Math.max(hi, last);
  }
  if (lo === undefined || hi === undefined) return undefined;
  let prefix = 32;
  while (prefix > 0 && lo >>> (32 - prefix) !== hi >>> (32 - prefix)) prefix--;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return cidrText({ base: (lo & mask) >>> 0, mask, prefix });
}

/** True when network `inner` lies inside network `outer` (both IPv4 `a.b.c.d/n`). */
export function cidrWithin(inner: string, outer: string): boolean {
  const i = parseCidr(inner);
  const o = parseCidr(outer);
  if (i === undefined || o === undefined || i.prefix < 0 || o.prefix < 0) return false;
  return i.prefix >= o.prefix && inCidr(i.base, o);
}

/** True for an IPv6 literal (`fd00::1`, `::ffff:10.0.0.1`), with or without brackets and zone. */
export function isIpv6Literal(text: string): boolean {
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  const t = bare.replace(/%[\w.-]+$/, "");
  const halves = t.split("::");
  if (halves.length > 2) return false;
  const groups = halves.flatMap((h) => (h === "" ? [] : h.split(":")));
  const last = groups.at(-1);
  // An IPv4 tail counts as two groups.
  const v4 = last !== undefined && parseIpv4(last) !== undefined;
  const hex = v4 ? groups.slice(0, -1) : groups;
  if (!hex.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  const count = hex.length + (v4 ? 2 : 0);
  return halves.length === 2 ? count <= 7 : count === 8;
}
