/** The neighbour step of a hop, and how a neighbour that does not resolve ends the path. */
import type { Packet } from "../model/trace.ts";
import { type HopOutcome, icmpEnd, type PathContext } from "./hop-context.ts";
import type { HostEvidence } from "./host-evidence.ts";
import type { IpLink } from "./ip-link.ts";
import { type NeighborResolution, resolveNeighbor } from "./neighbor-resolve.ts";
import type { HostStep } from "./path-types.ts";

/** Records the neighbour step and returns the resolution. */
export function neighborStep(
  host: HostEvidence,
  dev: IpLink,
  ip: string,
  ctx: PathContext,
  steps: HostStep[],
): NeighborResolution {
  const r = resolveNeighbor(host, dev, ip, ctx);
  const o = r.outcome;
  const words =
    o.kind === "resolved"
      ? `${ip} is ${o.lladdr} on ${dev.ifname}${o.static ? " (permanent)" : ""}`
      : o.kind === "pod-answers"
        ? `${ip} answers ARP on ${dev.ifname} (pod ${o.pod})`
        : o.kind === "node-answers"
          ? `${ip} answers ARP on ${dev.ifname} (node ${o.node})`
          : o.kind === "failed"
            ? `${ip} on ${dev.ifname}: ARP failed`
            : o.kind === "not-needed"
              ? `${dev.ifname} needs no ARP`
              : `${ip} on ${dev.ifname}: ${o.reason}`;
  steps.push({
    kind: "neighbor",
    node: host.node,
    device: dev.ifname,
    ip,
    outcome: o,
    action: words,
    evidence: r.evidence,
  });
  return r;
}

/** The hop end of a neighbour that did not resolve, or undefined when it did. */
export function neighborStop(
  r: NeighborResolution,
  steps: HostStep[],
  where: string,
  packet: Packet,
): HopOutcome | undefined {
  const o = r.outcome;
  switch (o.kind) {
    case "resolved":
    case "pod-answers":
    case "node-answers":
    case "not-needed":
      return undefined;
    case "failed":
    case "nothing-answers":
      return {
        steps,
        disposition: "neighbor-unreachable",
        end: icmpEnd("host-unreachable", packet, {
          synchronous: false,
          reason: `${where}: ${o.kind === "failed" ? "ARP failed" : o.reason}`,
        }),
      };
    case "unknown":
      return {
        steps,
        disposition: "undecided",
        end: { outcome: "unknown", reason: `${where}: ${o.reason}` },
      };
    default: {
      const never: never = o;
      throw new TypeError(`Unknown neighbour outcome ${String(never)}`);
    }
  }
}
