/**
 * The nodes of a connection across nodes in the path diagram: one box per hop of the multi-hop
 * trace (the client's node, then the endpoint's node, then the reply's hops when the answer is what
 * fails), each listing its steps (route, ARP, VXLAN, FORWARD rules, delivery) with file:line, and
 * carrying the route / overlay / endpoint-node checks and their findings.
 */
import type { CheckStep, Diagnosis } from "../../model/diagnosis.ts";
import type { Hop, Step, Trace } from "../../model/trace.ts";
import { stepText } from "../trace-words.ts";
import { type Box, box } from "./path-box.ts";
import { dispositionStatus } from "./path-hops.ts";

const PATH_CHECKS = new Set(["route", "overlay", "endpoint-node"]);

/** True for the checks drawn on the node boxes. */
export function isPathCheck(check: string): boolean {
  return PATH_CHECKS.has(check);
}

function where(s: Step): string {
  const e = s.kind === "filter" || s.kind === "transform" ? s.evidence : s.evidence;
  return e === undefined ? "" : ` [${e.file}:${e.line}]`;
}

/** A short line of what the hop did: `route via flannel.1 · ARP · VXLAN to node-b`. */
function summary(hop: Hop): string {
  const parts: string[] = [];
  for (const s of hop.steps) {
    if (s.kind === "routing")
      parts.push(s.outInterface === undefined ? "route" : `route via ${s.outInterface}`);
    else if (s.kind === "neighbor") parts.push("ARP");
    else if (s.kind === "overlay")
      parts.push(s.direction === "decapsulate" ? "VXLAN in" : `VXLAN to ${s.toNode ?? "peer"}`);
    else if (s.kind === "deliver")
      parts.push(
        s.to === "node"
          ? "to the node itself"
          : s.pod === undefined
            ? "to an address no pod has"
            : `to ${s.pod}`,
      );
    else if (s.kind === "conntrack") parts.push("conntrack");
    else if (!parts.includes("rules")) parts.push("rules");
  }
  return parts.join(" \u00b7 ") || "no step";
}

/** One box per hop of `t`; the last one takes the path's status when it does not get through. */
export function nodeBoxes(t: Trace, client: string | undefined): Box[] {
  return t.hops.map((hop, i) => {
    const node = hop.node ?? "node";
    const role = hop.direction === "reply" ? "reply" : node === client ? "client's node" : "next node";
    const b = box("host", node, `${role} \u00b7 ${summary(hop)}`);
    for (const s of hop.steps) b.notes.push(`${stepText(s)}${where(s)}`);
    b.status = i === t.hops.length - 1 ? dispositionStatus(t.disposition) : "ok";
    return b;
  });
}

/**
 * Puts the path checks and their findings on the node boxes: route on the client's node, overlay
 * on every node, endpoint-node on the last node of the request.
 */
export function placePathChecks(d: Diagnosis, boxes: readonly Box[], steps: readonly CheckStep[]): void {
  const request = boxes.filter((b) => !b.sub.startsWith("reply"));
  const first = request[0];
  const last = request[request.length - 1];
  for (const s of steps) {
    const on = s.check === "route" ? [first] : s.check === "endpoint-node" ? [last] : boxes;
    for (const b of on) if (b !== undefined) b.steps.push(s);
    const broken = s.status === "broken" ? boxes.filter((b) => b.status === "broken") : [];
    for (const f of d.findings) {
      if (!(s.findings ?? []).includes(f.code)) continue;
      // The proof shows where the packet is lost, and on its own node (a sender's stale entry).
      const own = boxes.find((b) => b.title === f.node);
      for (const b of [...broken, ...(own === undefined ? [] : [own])])
        if (!b.findings.includes(f)) b.findings.push(f);
    }
  }
}
