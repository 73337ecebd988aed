/**
 * The conformance truth tables of kubernetes/kubernetes test/e2e/network/netpol/network_policy.go,
 * transcribed by hand: for each test its pods, its policies and its reachability expectations
 * (NewReachability(all, true) followed by the same Expect/ExpectPeer/ExpectAllIngress/ExpectAllEgress
 * calls in the same order). Loopback pairs are ignored, as the e2e suite ignores them.
 */
import { describe, expect, it } from "vitest";
import { egressCases } from "../testing/netpol-e2e-egress-cases.ts";
import { expected } from "../testing/netpol-e2e-model.ts";
import { portCases } from "../testing/netpol-e2e-port-cases.ts";
import { protocolAndCidrCases } from "../testing/netpol-e2e-protocol-cases.ts";
import { SELECTOR_CASES } from "../testing/netpol-e2e-selector-cases.ts";
import { modelNamespaces, modelPod } from "../testing/netpol-model.ts";
import { networkPolicyVerdict } from "./policy-verdict.ts";

const CASES = [...SELECTOR_CASES, ...portCases(), ...egressCases(), ...protocolAndCidrCases()];

describe("networkPolicyVerdict() on the e2e netpol truth tables", () => {
  let pairs = 0;
  for (const c of CASES) {
    it(c.name, () => {
      const pods = c.pods.map((p) => modelPod(p, c.podLabels?.[p]));
      const namespaces = c.namespaces === "absent" ? undefined : (c.namespaces ?? modelNamespaces());
      const input = { state: { policies: c.policies, ...(namespaces === undefined ? {} : { namespaces }) } };
      const wrong: string[] = [];
      for (const from of pods) {
        for (const to of pods) {
          if (from === to) continue;
          const f = `${from.metadata.namespace}/${from.metadata.name}`;
          const t = `${to.metadata.namespace}/${to.metadata.name}`;
          const v = networkPolicyVerdict(input, {
            client: from,
            server: to,
            port: c.port,
            protocol: c.protocol ?? "TCP",
          });
          const want = expected(c, f, t) ? "allowed" : "denied";
          if (v.decision !== want)
            wrong.push(
              `${f} -> ${t}: ${v.decision}, expected ${want} (${v.ingress.reason}; ${v.egress.reason})`,
            );
          pairs++;
        }
      }
      expect(wrong).toEqual([]);
    });
  }
  it("covered every case", () => {
    expect(pairs).toBeGreaterThan(300);
    console.log(`e2e netpol truth tables: ${CASES.length} cases, ${pairs} pod pairs`);
  });
});
