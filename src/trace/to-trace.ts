/**
 * Turns a finished path of the walk into the {@linkcode Trace} users see: its disposition, the final
 * headers, and its hop with every step.
 */
import type { Disposition } from "../model/disposition.ts";
import type { Hop, Trace } from "../model/trace.ts";
import type { FilterStep } from "../model/trace-step.ts";
import { rejectEffect } from "./reject-errno.ts";
import { stepsOf } from "./trace-steps.ts";
import type { Outcome, Walk } from "./walk-context.ts";
import type { WalkState } from "./walk-state.ts";

type MutableHop = { -readonly [K in keyof Hop]: Hop[K] };

/** The user-visible trace of a finished outcome. */
export function toTrace(walk: Walk, o: Outcome): Trace {
  const st = o.st;
  // Built field by field in a fixed order (JSON output order), without object spreads: this runs per path.
  const hop = {} as MutableHop;
  if (walk.request.node !== undefined) hop.node = walk.request.node;
  hop.steps = stepsOf(o.trail);
  if (st.mark !== 0) hop.mark = `0x${st.mark.toString(16)}`;
  return { probability: o.p, disposition: dispositionOf(walk, o), headers: st.hdr, hops: [hop] };
}

/**
 * A datagram the node's own OUTPUT/POSTROUTING drops or rejects fails in sendmsg() with EPERM
 * (kernel-verified); TCP ignores that error on the SYN and waits for the ICMP reply or times out.
 */
function sendFails(walk: Walk, st: WalkState): boolean {
  return (
    walk.request.from === "host" && st.proto !== "tcp" && (st.hook === "OUTPUT" || st.hook === "POSTROUTING")
  );
}

function dispositionOf(walk: Walk, o: Outcome): Disposition {
  const st = o.st;
  const v = o.v;
  switch (v.k) {
    case "accept":
      // Accepted paths end in INPUT (the node's own socket) or after POSTROUTING (forwarded).
      if (st.hook === "INPUT") return { kind: "delivered-locally" };
      return st.outIf === undefined || st.outIf === "" || st.outIf === "lo"
        ? { kind: "forwarded" }
        : { kind: "forwarded", outInterface: st.outIf };
    case "drop":
      return sendFails(walk, st)
        ? { kind: "dropped", by: o.by as FilterStep, clientError: "EPERM" }
        : { kind: "dropped", by: o.by as FilterStep };
    case "reject": {
      const effect = rejectEffect(v.rejectWith)!;
      const err = sendFails(walk, st)
        ? "EPERM"
        : st.proto === "tcp"
          ? effect.tcpError
          : st.proto === "udp"
            ? effect.udpError
            : undefined;
      const by = o.by as FilterStep;
      return err === undefined
        ? { kind: "rejected", by, rejectWith: effect.rejectWith }
        : { kind: "rejected", by, rejectWith: effect.rejectWith, clientError: err };
    }
    case "unknown":
      return o.by === undefined
        ? { kind: "undecided", reason: v.why.reason, needs: v.why.needs }
        : { kind: "undecided", reason: v.why.reason, needs: v.why.needs, at: o.by };
    case "return":
      return {
        kind: "undecided",
        reason: "internal: RETURN escaped a built-in chain",
        needs: "manual-check",
      };
    default: {
      const never: never = v;
      throw new TypeError(`Unknown verdict ${JSON.stringify(never)}`);
    }
  }
}
