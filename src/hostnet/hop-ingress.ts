/**
 * The kernel's checks on a packet that comes in by an interface, before it is forwarded or
 * delivered: IPv4 forwarding enabled on that interface, and reverse-path filtering (rp_filter).
 *
 * Both drop silently: with forwarding off, `ip_error()` sends no ICMP ("IP on this device is not
 * forwarding"), and rp_filter drops are counted as martians, never answered. The client sees a
 * timeout (net/ipv4/route.c: ip_route_input_slow, ip_error; fib_validate_source in fib_frontend.c).
 */
import type { Evidence } from "../model/finding.ts";
import type { HostEvidence } from "./host-evidence.ts";
import { lookupRoute } from "./route-lookup.ts";
import { effectiveRpFilter, interfaceKey, sysctlNumber } from "./sysctl.ts";

/** Forwarding on `iif`: `net.ipv4.conf.IF.forwarding`, else `net.ipv4.ip_forward`. */
export function forwardingEnabled(
  host: HostEvidence,
  iif: string,
): { enabled: boolean; evidence: Evidence } | undefined {
  if (host.sysctl === undefined) return undefined;
  const v =
    sysctlNumber(host.sysctl, interfaceKey("forwarding", iif)) ??
    sysctlNumber(host.sysctl, "net.ipv4.ip_forward");
  return v === undefined ? undefined : { enabled: v.value !== 0, evidence: v.evidence };
}

/** What reverse-path filtering does with a packet from `src` coming in on `iif`. */
export type RpVerdict =
  | { readonly pass: true; readonly mode: number; readonly evidence: readonly Evidence[] }
  | {
      readonly pass: false;
      readonly mode: number;
      readonly reason: string;
      readonly evidence: readonly Evidence[];
    }
  | undefined;

/**
 * Source validation as `fib_validate_source` does it: the route back to `src` (looked up as a
 * locally generated packet) must leave by `iif` in strict mode (1), or exist at all in loose mode
 * (2); mode 0 accepts everything. The mode is the maximum of `conf.all` and `conf.IF`. Undefined
 * when the sysctls, routes or rules are missing.
 */
export function reversePathCheck(host: HostEvidence, iif: string, src: string, dst: string): RpVerdict {
  if (host.sysctl === undefined || host.route === undefined || host.rule === undefined) return undefined;
  const rp = effectiveRpFilter(host.sysctl, iif);
  if (rp === undefined) return undefined;
  if (rp.value === 0) return { pass: true, mode: 0, evidence: rp.evidence };
  const back = lookupRoute({ dst: src, src: dst }, { rules: host.rule.rules, routes: host.route.routes });
  const evidence = [...rp.evidence, ...back.evidence];
  if (back.kind !== "unicast") {
    return {
      pass: false,
      mode: rp.value,
      reason: `rp_filter=${rp.value} on ${iif} and no unicast route back to ${src}`,
      evidence,
    };
  }
  if (rp.value >= 2) return { pass: true, mode: rp.value, evidence };
  const devs = [back.nextHop, ...back.otherNextHops].map((h) => h.dev);
  if (devs.includes(iif)) return { pass: true, mode: 1, evidence };
  return {
    pass: false,
    mode: 1,
    reason: `rp_filter=1 (strict) on ${iif}, but the route back to ${src} leaves by ${devs.join(", ")}: the kernel drops the packet as a martian`,
    evidence,
  };
}
