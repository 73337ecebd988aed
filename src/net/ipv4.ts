/** IPv4 addresses as unsigned 32-bit numbers, for fast CIDR matching in the tracer. */

/** Parses dotted-quad IPv4 text into an unsigned 32-bit number, or undefined when it is not one. */
export function parseIpv4(text: string): number | undefined {
  // Hand-rolled: this runs for every traced packet.
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return undefined;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return undefined;
      n = n * 256 + part;
      part = 0;
      digits = 0;
    } else {
      return undefined;
    }
  }
  if (dots !== 3 || digits === 0) return undefined;
  return n * 256 + part;
}

/** Formats an unsigned 32-bit number as dotted-quad text. */
export function formatIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** An IPv4 network: `addr & mask === base`. */
export interface Cidr {
  readonly base: number;
  readonly mask: number;
  readonly prefix: number;
}

/**
 * Parses `a.b.c.d[/len]` or `a.b.c.d/255.255.255.0` (iptables prints dotted masks for
 * non-contiguous ones). Undefined when the text is not IPv4.
 */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf("/");
  const addr = parseIpv4(slash < 0 ? text : text.slice(0, slash));
  if (addr === undefined) return undefined;
  let mask = 0xffffffff;
  let prefix = 32;
  if (slash >= 0) {
    const m = text.slice(slash + 1);
    if (/^\d{1,2}$/.test(m) && Number(m) <= 32) {
      prefix = Number(m);
      mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    } else {
      const dotted = parseIpv4(m);
      if (dotted === undefined) return undefined;
      mask = dotted;
      prefix = -1;
    }
  }
  return { base: (addr & mask) >>> 0, mask, prefix };
}

/** True when `addr` lies in `cidr`. */
export function inCidr(addr: number, cidr: Cidr): boolean {
  return (addr & cidr.mask) >>> 0 === cidr.base;
}

/** `ip[:port]` text of an address, for steps and destinations. */
export function endpointText(ip: number, port: number): string {
  return port < 0 ? formatIpv4(ip) : `${formatIpv4(ip)}:${port}`;
}
