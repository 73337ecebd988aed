/**
 * The node-dataplane link of a client node in IPVS mode: the IPVS table (`ipvsadm -Sn`) reconciled
 * with the Service and its ready endpoints (ipvs-node.ts), never the iptables-mode checks. Broken
 * by an error finding on the asked Service (a missing virtual server, a stale or missing real
 * server), at risk on warnings, ok when the virtual server's real servers are the ready endpoints;
 * undecided, with how to collect it, when the bundle has no ipvsadm.txt.
 */
import { keyOf } from "../ipvs/ipvs-model.ts";
import { checkStep } from "../model/diagnosis.ts";
import type { Finding } from "../model/finding.ts";
import type { IpvsNodeFacts } from "./ipvs-node.ts";
import type { ClientNodeFacts, Link, WalkContext } from "./link.ts";
import { undecided } from "./link.ts";

const CHECK = "node-dataplane";

/** `tcp 10.43.0.10:53 (nodes/n1/ipvsadm.txt:12) → 10.42.0.4:53 (weight 1)`, for the asked Service port. */
function virtualServerText(ctx: WalkContext, ipvs: IpvsNodeFacts): string | undefined {
  const p = ctx.question.packet;
  if (p === undefined || ipvs.table === undefined) return undefined;
  const key = `${p.protocol} ${p.dstIp}:${p.dstPort}`;
  const vs = ipvs.table.services.find((s) => keyOf(s) === key);
  if (vs === undefined) return undefined;
  const rs = vs.realServers.map((r) => `${r.address}:${r.port} (weight ${r.weight})`);
  return `IPVS virtual server ${key} (${ipvs.table.file}:${vs.line}) → ${rs.length === 0 ? "no real servers" : rs.join(", ")}`;
}

/** The link for an IPVS node; `found` are its findings on this question's path. */
export function ipvsDataplaneLink(ctx: WalkContext, n: ClientNodeFacts, found: readonly Finding[]): Link {
  const ipvs = n.ipvs!;
  if (ipvs.undecided !== undefined)
    return undecided(CHECK, `cannot check ${n.node}'s data plane: ${ipvs.undecided}`, {
      missing: `nodes/${n.node}/ipvsadm.txt`,
      howToGet: `\`ssh ${n.node} sudo ipvsadm -Sn > nodes/${n.node}/ipvsadm.txt\`, or \`netdoctor collect --nodes ${n.node}\``,
    });
  const vs = virtualServerText(ctx, ipvs);
  const notes = ipvs.notes.length === 0 ? "" : ` (${ipvs.notes.join("; ")})`;
  const errors = found.filter((f) => f.severity === "error");
  if (errors.length > 0) {
    const proof = errors.find((f) => f.service === ctx.question.expected?.service) ?? errors[0]!;
    return {
      step: checkStep(CHECK, "broken", `${proof.message}${vs === undefined ? "" : `; ${vs}`}`, {
        findings: [...new Set(errors.map((f) => f.code))],
      }),
      findings: found,
      proof,
    };
  }
  const what = ctx.question.expected?.svcPortName;
  const detail = `${n.node} runs kube-proxy in IPVS mode; ${vs ?? `its IPVS table (${ipvs.table?.file ?? "ipvsadm.txt"})`}${what === undefined ? "" : ` matches the API for ${what}`}${notes}`;
  const warn = found.filter((f) => f.severity === "warning");
  if (warn.length > 0) {
    const codes = [...new Set(warn.map((f) => f.code))];
    return {
      step: checkStep(CHECK, "at-risk", detail, { findings: codes }),
      findings: found,
      risk: codes.join(", "),
    };
  }
  if (ctx.question.expected !== undefined && vs === undefined)
    return undecided(
      CHECK,
      `${n.node} runs kube-proxy in IPVS mode; ${ipvs.table?.file} has no virtual server for the packet`,
      {
        missing: "the virtual server of the asked Service port",
        howToGet: `check \`ipvsadm -Ln\` on ${n.node}`,
      },
      found,
    );
  return { step: checkStep(CHECK, "ok", detail), findings: found };
}
