/**
 * Turns a finished path of the walk into the {@linkcode TracePath} users see: disposition, the
 * destination and source after rewrites, the steps, and what the client observes.
 */
import type { TracePath } from "../model/trace.ts";
import { endpointText } from "../net/ipv4.ts";
import { rejectEffect } from "./reject-errno.ts";
import { stepsOf } from "./trace-steps.ts";
import { isLocalDst, type Outcome, type Walk } from "./walk-context.ts";

type MutablePath = { -readonly [K in keyof TracePath]: TracePath[K] };

/** The user-visible path of a finished outcome. */
export function toPath(walk: Walk, o: Outcome): TracePath {
  const st = o.st;
  const destination = st.dstText ?? endpointText(st.dst, st.dport);
  // Built field by field in a fixed order (JSON output order), without object spreads: this runs per path.
  const path = { probability: o.p, destination, masquerade: st.masquerade } as MutablePath;
  if (!st.masquerade) {
    // Most paths keep the packet's source: its text is built once per trace.
    if (st.srcText !== undefined) path.source = st.srcText;
    else if (st.src === st.origSrc && st.sport === st.origSport) {
      walk.srcText ??= endpointText(st.src, st.sport);
      path.source = walk.srcText;
    } else path.source = endpointText(st.src, st.sport);
  }
  if (st.mark !== 0) path.mark = `0x${st.mark.toString(16)}`;
  path.steps = stepsOf(o.trail);
  const by =
    o.by === undefined
      ? ""
      : o.by.action.startsWith("policy")
        ? `the ${o.by.table} ${o.by.chain} policy (line ${o.by.line})`
        : `line ${o.by.line}`;
  // A datagram the node's own OUTPUT/POSTROUTING drops or rejects fails in sendmsg() with EPERM
  // (kernel-verified); TCP ignores that error on the SYN and waits for the ICMP reply or times out.
  const sendFails =
    walk.request.from === "host" && st.proto !== "tcp" && (st.hook === "OUTPUT" || st.hook === "POSTROUTING");
  const v = o.v;
  switch (v.k) {
    case "accept": {
      const local = isLocalDst(walk, st) && st.dstText === undefined;
      path.disposition = local ? "local" : "forward";
      const rewrites = st.dnat ? `DNAT to ${destination}, then ` : "";
      const masq = st.masquerade
        ? " (masqueraded)"
        : st.snat
          ? ` (SNAT to ${path.source ?? st.srcText})`
          : "";
      path.reason = `${rewrites}${local ? "delivered to the node" : "forwarded"}${masq}`;
      return path;
    }
    case "drop":
      path.disposition = "drop";
      if (sendFails) path.clientError = "EPERM";
      path.reason = `DROPped by ${by}: the client sees no answer (timeout)`;
      return path;
    case "reject": {
      const effect = rejectEffect(v.rejectWith)!;
      const err = sendFails
        ? "EPERM"
        : st.proto === "tcp"
          ? effect.tcpError
          : st.proto === "udp"
            ? effect.udpError
            : undefined;
      path.disposition = "reject";
      path.rejectWith = effect.rejectWith;
      if (err !== undefined) path.clientError = err;
      path.reason = `REJECTed by ${by} with ${effect.rejectWith}`;
      return path;
    }
    case "unknown":
      path.disposition = "unknown";
      path.reason = v.reason;
      return path;
    case "return":
      path.disposition = "unknown";
      path.reason = "internal: RETURN escaped a built-in chain";
      return path;
    default: {
      const never: never = v;
      throw new TypeError(`Unknown verdict ${JSON.stringify(never)}`);
    }
  }
}
