/** The text of a header address, as the trace's renderers and the diagnosis print it. */
import type { Address } from "../model/flow.ts";

/**
 * `ip[:port]`; a NAT range as iptables writes it (`10.0.0.1-10.0.0.3:80`); a masqueraded source as
 * `(out-interface address)[:port]`.
 *
 * @example
 * ```ts
 * addressText({ kind: "exact", ip: "10.42.1.9", port: 8080 }); // "10.42.1.9:8080"
 * ```
 */
export function addressText(a: Address): string {
  switch (a.kind) {
    case "exact":
      return a.port === undefined ? a.ip : `${a.ip}:${a.port}`;
    case "range": {
      const ips = a.minIp === a.maxIp ? a.minIp : `${a.minIp}-${a.maxIp}`;
      if (a.minPort === undefined) return ips;
      return a.minPort === a.maxPort ? `${ips}:${a.minPort}` : `${ips}:${a.minPort}-${a.maxPort}`;
    }
    case "out-interface":
      return a.port === undefined ? "(out-interface address)" : `(out-interface address):${a.port}`;
    default: {
      const never: never = a;
      throw new TypeError(`Unknown address ${JSON.stringify(never)}`);
    }
  }
}

/** The IP part of an exact address, undefined for a range or a masqueraded source. */
export function exactIp(a: Address): string | undefined {
  return a.kind === "exact" ? a.ip : undefined;
}
