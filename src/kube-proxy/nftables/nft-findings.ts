/**
 * The findings of kube-proxy's nftables mode. Codes shared with iptables mode keep their meaning
 * (docs/findings.md); three are new and wait for the findings catalogue (src/findings/), which will
 * take over these texts:
 * - `nft-numgen-mismatch` (error): a policy chain's `numgen random mod N` and its verdict map disagree
 *   (some new connections meet no endpoint), or N differs from the endpoints the API lists while the
 *   targets are right.
 * - `nft-service-stale` (warning): kube-proxy's maps still dispatch a Service (port) the API no longer has.
 * - `nft-table-missing` (error): kube-proxy runs in nftables mode but `table ip kube-proxy` is absent.
 */
import type { Finding, FindingCode } from "../../model/finding.ts";
import type { NftEvidence } from "../../nft/nft-packet.ts";
import type { ExpectedEndpoint, ExpectedServicePort } from "../expected-state.ts";

export type NftFindingCode = FindingCode | "nft-numgen-mismatch" | "nft-service-stale" | "nft-table-missing";

/** A Finding whose evidence carries nft rule handles. */
export interface NftFinding extends Omit<Finding, "code" | "evidence"> {
  readonly code: NftFindingCode;
  readonly evidence: readonly NftEvidence[];
}

export const PROXIER_NFT = "kubernetes/kubernetes pkg/proxy/nftables/proxier.go";
const RESTART = (node: string) =>
  `Restart kube-proxy on "${node}" (k3s: systemctl restart k3s or k3s-agent) and check its log for "nftables sync failed"; compare with \`nft list table ip kube-proxy\``;

/** `ns/svc:port (ip:port/proto)`. */
export function where(sp: ExpectedServicePort): string {
  return `${sp.svcPortName} (${sp.clusterIP}:${sp.port}/${sp.protocol})`;
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

export function tableMissing(node: string, evidence: readonly NftEvidence[]): NftFinding {
  return {
    node,
    code: "nft-table-missing",
    severity: "error",
    message: `Node "${node}" runs kube-proxy in nftables mode but has no table ip kube-proxy: no Service is translated on this node`,
    evidence,
    fix: RESTART(node),
    references: [PROXIER_NFT],
  };
}

export function endpointStale(
  node: string,
  sp: ExpectedServicePort,
  target: string,
  ready: string,
  owner: string | undefined,
  evidence: readonly NftEvidence[],
): NftFinding {
  const ip = target.split(":")[0]!;
  return {
    node,
    service: sp.service,
    code: "endpoint-stale",
    severity: "error",
    message:
      `Node "${node}" sends ${where(sp)} to ${target}, which is not a ready endpoint of ${sp.service} (ready: ${ready}); ` +
      (owner === undefined ? `no pod has ${ip} now` : `${ip} now belongs to ${owner}`),
    evidence,
    fix: RESTART(node),
    references: [PROXIER_NFT],
  };
}

export function endpointMissing(
  node: string,
  sp: ExpectedServicePort,
  missing: readonly ExpectedEndpoint[],
  evidence: readonly NftEvidence[],
): NftFinding {
  const list = missing.map((e) => `${e.ip}:${e.port}`).join(", ");
  return {
    node,
    service: sp.service,
    code: "endpoint-missing",
    severity: "error",
    message: `Node "${node}" has no endpoint chain sending ${where(sp)} to ready endpoint${missing.length > 1 ? "s" : ""} ${list}`,
    evidence: [...evidence, ...endpointEvidence(missing)],
    fix: RESTART(node),
    references: [PROXIER_NFT],
  };
}

export function serviceRejected(
  node: string,
  sp: ExpectedServicePort,
  what: string,
  verdict: string,
  alongside: boolean,
  ready: readonly ExpectedEndpoint[],
  evidence: readonly NftEvidence[],
): NftFinding {
  const effect = verdict === "drop" ? "clients time out" : 'clients get "Connection refused"';
  return {
    node,
    service: sp.service,
    code: "service-rejected",
    severity: alongside ? "warning" : "error",
    message: alongside
      ? `Node "${node}" still lists ${what} of ${sp.svcPortName} in its no-endpoint map (${verdict}) next to its service entry; the API lists ready endpoints`
      : `Node "${node}" treats ${what} of ${sp.svcPortName} as having no endpoints (${verdict}): ${effect}, but the API lists ready endpoints`,
    evidence: [...evidence, ...endpointEvidence(ready)],
    fix: RESTART(node),
    references: [PROXIER_NFT],
  };
}

export function serviceRulesMissing(
  node: string,
  sp: ExpectedServicePort,
  what: readonly string[],
  clusterIp: boolean,
  evidence: readonly NftEvidence[],
): NftFinding {
  return {
    node,
    service: sp.service,
    code: "service-rules-missing",
    severity: clusterIp ? "error" : "warning",
    message: clusterIp
      ? `Node "${node}" has no service-ips element for ${where(sp)}, although the API lists ready endpoints: traffic to the ClusterIP is not translated on this node`
      : `Node "${node}" lacks the external entries of ${sp.svcPortName}: ${what.join(", ")}`,
    evidence,
    fix: RESTART(node),
    references: [PROXIER_NFT],
  };
}

export function numgenMismatch(
  node: string,
  sp: ExpectedServicePort,
  detail: string,
  evidence: readonly NftEvidence[],
): NftFinding {
  return {
    node,
    service: sp.service,
    code: "nft-numgen-mismatch",
    severity: "error",
    message: `Node "${node}" balances ${where(sp)} with ${detail}`,
    evidence,
    fix: RESTART(node),
    references: [PROXIER_NFT],
  };
}

export function serviceStale(
  node: string,
  service: string,
  what: readonly string[],
  evidence: readonly NftEvidence[],
): NftFinding {
  return {
    node,
    service,
    code: "nft-service-stale",
    severity: "warning",
    message: `Node "${node}" still dispatches ${service}, which the API no longer has (${what.join(", ")}): kube-proxy's syncs stopped, or the Service was deleted moments ago`,
    evidence,
    fix: RESTART(node),
    references: [PROXIER_NFT],
  };
}

export function chainLeftover(node: string, count: number, evidence: readonly NftEvidence[]): NftFinding {
  return {
    node,
    code: "chain-leftover",
    severity: "warning",
    message: `Node "${node}" has ${count} kube-proxy chain${count > 1 ? "s" : ""} with rules that no current Service or endpoint accounts for (flushed chains awaiting deletion are normal and not counted)`,
    evidence,
    fix: RESTART(node),
    references: [PROXIER_NFT],
  };
}
