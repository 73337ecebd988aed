/** `chain-leftover`: kube-proxy chains that no current Service or endpoint accounts for. */
import type { NodeKind } from "../findings/kube-proxy-restart.ts";
import { makeFinding } from "../findings/make-finding.ts";
import type { Evidence, Finding } from "../model/finding.ts";
import type { ExpectedServicePort } from "./expected-state.ts";
import type { KubeProxyIndex } from "./kube-proxy-index.ts";

const MAX_LISTED = 10;

/** Chain names any current Service or endpoint accounts for, per expected-state array. */
const knownCache = new WeakMap<readonly ExpectedServicePort[], Set<string>>();

function knownChains(ports: readonly ExpectedServicePort[]): Set<string> {
  const cached = knownCache.get(ports);
  if (cached !== undefined) return cached;
  const known = new Set<string>();
  knownCache.set(ports, known);
  for (const sp of ports) {
    for (const c of Object.values(sp.chains)) known.add(c);
    for (const c of Object.values(sp.legacyChains)) known.add(c);
    for (const e of sp.endpoints) {
      known.add(e.sepChain);
      if (e.legacySepChain !== "") known.add(e.legacySepChain);
    }
  }
  return known;
}

/**
 * Chains named like a service's that no current Service or endpoint accounts for. A leftover no
 * rule jumps to is harmless (kube-proxy v1.26+ syncs partially and deletes unreferenced chains only
 * at its periodic cleanup, once per sync period in large clusters): info. A leftover still jumped
 * to carries traffic for a Service that no longer exists: warning.
 */
export function leftovers(
  index: KubeProxyIndex,
  ports: readonly ExpectedServicePort[],
  opts: { node: string; file: string; nodeKind?: NodeKind },
): Finding[] {
  const known = knownChains(ports);
  const referenced = new Set<string>();
  for (const rules of index.nat.values())
    for (const r of rules) if (r.target !== undefined) referenced.add(r.target);
  const left: Evidence[] = [];
  let count = 0;
  let inUse = 0;
  for (const [chain, line] of index.chains.get("nat") ?? []) {
    if (!/^KUBE-(SVC|SVL|EXT|FW|XLB|SEP)-/.test(chain) || known.has(chain)) continue;
    // A SEP chain still jumped to is reported as a stale endpoint, not as a leftover.
    if (chain.startsWith("KUBE-SEP-") && referenced.has(chain)) continue;
    count++;
    if (referenced.has(chain)) inUse++;
    if (left.length < MAX_LISTED) left.push({ file: opts.file, line, text: `:${chain} - [0:0]` });
  }
  if (count === 0) return [];
  return [
    makeFinding(
      "chain-leftover",
      { node: opts.node, ...(opts.nodeKind === undefined ? {} : { nodeKind: opts.nodeKind }), count, inUse },
      { node: opts.node, evidence: left },
    ),
  ];
}
