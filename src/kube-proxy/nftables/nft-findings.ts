/**
 * The findings of kube-proxy's nftables mode, built through the findings catalogue: the codes it
 * shares with iptables mode (with `backend: "nftables"` for their wording) and its own
 * (src/findings/nft-entries.ts). Evidence carries the nft rule handle next to file and line.
 */
import { makeFinding } from "../../findings/make-finding.ts";
import type { Finding } from "../../model/finding.ts";
import type { NftEvidence } from "../../nft/nft-packet.ts";
import type { ExpectedEndpoint, ExpectedServicePort } from "../expected-state.ts";

/** A Finding whose evidence carries nft rule handles. */
export type NftFinding = Omit<Finding, "evidence"> & { readonly evidence: readonly NftEvidence[] };

const BACKEND = "nftables" as const;

/** `ns/svc:port (ip:port/proto)`. */
export function where(sp: ExpectedServicePort): string {
  return `${sp.svcPortName} (${sp.clusterIP}:${sp.port}/${sp.protocol})`;
}

function readyText(eps: readonly ExpectedEndpoint[]): string {
  return eps.map((e) => `${e.ip}:${e.port}`).join(", ") || "none";
}

/** Evidence of endpoints in the EndpointSlices (first two). */
export function endpointEvidence(eps: readonly ExpectedEndpoint[]): NftEvidence[] {
  return eps
    .filter((e) => e.slice !== undefined)
    .slice(0, 2)
    .map((e) => ({
      file: e.slice!.file,
      ...(e.slice!.line === undefined ? {} : { line: e.slice!.line }),
      text: `endpoint ${e.ip}:${e.port} ready=${e.ready}${e.pod === undefined ? "" : ` pod ${e.pod}`}${e.nodeName === undefined ? "" : ` on ${e.nodeName}`}`,
    }));
}

function found(f: Finding, evidence: readonly NftEvidence[]): NftFinding {
  return { ...f, evidence };
}

export function tableMissing(node: string, modeSource: string, evidence: readonly NftEvidence[]): NftFinding {
  return found(makeFinding("nft-table-missing", { node, modeSource }, { node, evidence }), evidence);
}

export function endpointStale(
  sp: ExpectedServicePort,
  v: {
    node: string;
    target: string;
    ready: string;
    owner?: string | undefined;
    evidence: readonly NftEvidence[];
  },
): NftFinding {
  const ip = v.target.split(":")[0]!;
  const values = {
    node: v.node,
    service: sp.service,
    where: where(sp),
    target: v.target,
    ip,
    ready: v.ready,
    backend: BACKEND,
    ...(v.owner === undefined ? {} : { owner: v.owner }),
  };
  return found(
    makeFinding("endpoint-stale", values, { node: v.node, service: sp.service, evidence: v.evidence }),
    v.evidence,
  );
}

export function endpointMissing(
  sp: ExpectedServicePort,
  v: { node: string; missing: readonly ExpectedEndpoint[]; evidence: readonly NftEvidence[] },
): NftFinding {
  const evidence = [...v.evidence, ...endpointEvidence(v.missing)];
  const values = {
    node: v.node,
    where: where(sp),
    missing: v.missing.map((e) => `${e.ip}:${e.port}`),
    backend: BACKEND,
  };
  return found(
    makeFinding("endpoint-missing", values, { node: v.node, service: sp.service, evidence }),
    evidence,
  );
}

/** `what`: `the ClusterIP` or `NodePort tcp . 30081`; `verdict` as nft prints it. */
export function serviceRejected(
  sp: ExpectedServicePort,
  v: { node: string; what: string; verdict: string; alongside: boolean; evidence: readonly NftEvidence[] },
): NftFinding {
  const evidence = [...v.evidence, ...endpointEvidence(sp.clusterEndpoints)];
  const values = {
    node: v.node,
    where: v.what === "the ClusterIP" ? where(sp) : `${sp.svcPortName} ${v.what}`,
    ready: readyText(sp.clusterEndpoints),
    // The entry's message tells a drop (timeout) from a reject (refused) by the iptables target name.
    target: v.verdict === "drop" ? "DROP" : v.verdict,
    alongsideRules: v.alongside,
    backend: BACKEND,
  };
  return found(
    makeFinding("service-rejected", values, { node: v.node, service: sp.service, evidence }),
    evidence,
  );
}

export function serviceRulesMissing(
  sp: ExpectedServicePort,
  v: { node: string; absent: readonly string[]; clusterIp: boolean; evidence: readonly NftEvidence[] },
): NftFinding {
  const values = v.clusterIp
    ? {
        entries: "cluster-ip" as const,
        node: v.node,
        where: where(sp),
        ready: readyText(sp.clusterEndpoints),
        backend: BACKEND,
      }
    : { entries: "external" as const, node: v.node, svcPortName: sp.svcPortName, absent: v.absent };
  return found(
    makeFinding("service-rules-missing", values, { node: v.node, service: sp.service, evidence: v.evidence }),
    v.evidence,
  );
}

export function numgenMismatch(
  sp: ExpectedServicePort,
  v: {
    node: string;
    mod: number;
    entries: number;
    ready: number;
    kind: "holes" | "unused" | "uneven";
    evidence: readonly NftEvidence[];
  },
): NftFinding {
  const values = {
    node: v.node,
    where: where(sp),
    mod: v.mod,
    entries: v.entries,
    ready: v.ready,
    kind: v.kind,
  };
  return found(
    makeFinding("nft-numgen-mismatch", values, { node: v.node, service: sp.service, evidence: v.evidence }),
    v.evidence,
  );
}

export function serviceStale(
  node: string,
  service: string,
  elements: readonly string[],
  evidence: readonly NftEvidence[],
): NftFinding {
  const scope = { node, evidence, ...(service.includes("/") ? { service } : {}) };
  return found(makeFinding("nft-service-stale", { node, service, elements }, scope), evidence);
}

export function chainLeftover(
  node: string,
  count: number,
  inUse: number,
  evidence: readonly NftEvidence[],
): NftFinding {
  return found(makeFinding("chain-leftover", { node, count, inUse }, { node, evidence }), evidence);
}
