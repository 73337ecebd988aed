/**
 * The tracer against the kernel on hand-written kube-proxy rulesets of several eras (shapes from
 * kube-proxy-rules.md), rewritten into 198.18.0.0/15: pods 198.18.1.0/24, endpoints 198.18.2.0/24
 * (pod CIDR 198.18.0.0/16), ClusterIPs 198.19.0.0/24, external IPs 198.19.1.0/24, node 198.18.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { netnsUnavailable, skipBecause } from "../testing/capabilities.ts";
import { current, rejects, v118, v123 } from "../testing/kernel-era-rulesets.ts";
import { createLab, type Lab } from "../testing/netns-lab.ts";
import {
  compareProbe,
  describeMismatch,
  type OracleProbe,
  oracleLabSpec,
  savedRuleset,
} from "../testing/trace-oracle.ts";

const skip = skipBecause(netnsUnavailable(), "kernel trace era tests");

const tcp = (from: OracleProbe["from"], dstIp: string, dstPort: number): OracleProbe => ({
  from,
  dstIp,
  dstPort,
});

const CASES: ReadonlyArray<{
  name: string;
  text: string;
  probes: readonly OracleProbe[];
  stateful?: readonly string[];
}> = [
  {
    name: "current (v1.24+): ClusterIP, 3 endpoints, externalIP, NodePort, affinity, no endpoints, eTP=Local",
    text: current,
    probes: [
      tcp("pod", "198.19.0.41", 80), // ClusterIP, one endpoint
      tcp("node", "198.19.0.41", 80), // from the node: masquerade
      tcp("pod", "198.19.0.43", 80), // three endpoints, 1/3 each
      tcp("pod", "198.19.1.3", 80), // external IP: masquerade
      tcp("pod", "198.18.0.1", 30080), // NodePort
      tcp("node", "198.18.0.1", 30080), // NodePort from the node
      tcp("pod", "198.19.0.45", 80), // session affinity, first packet
      tcp("pod", "198.19.0.46", 80), // no endpoints: REJECT
      tcp("pod", "198.19.1.2", 80), // eTP=Local from a pod: short-circuit
      tcp("node", "198.19.1.2", 80), // eTP=Local from the node: LOCAL short-circuit
      tcp("pod", "198.18.0.1", 443), // health check node port: local
      tcp("pod", "198.19.0.99", 80), // no service: forwarded unchanged
    ],
    stateful: ["198.19.0.45"],
  },
  {
    name: "v1.23ish: XLB, FW with KUBE-MARK-DROP, NodePort masquerade in SVC",
    text: v123,
    probes: [
      tcp("pod", "198.19.0.51", 80),
      tcp("pod", "198.18.0.1", 30080),
      tcp("pod", "198.19.1.51", 80),
      tcp("node", "198.19.1.51", 80),
      tcp("pod", "198.18.0.1", 443),
    ],
  },
  {
    name: "v1.18ish: masquerade in KUBE-SERVICES, single-rule KUBE-POSTROUTING, 0.33333",
    text: v118,
    probes: [
      tcp("pod", "198.19.0.61", 80),
      tcp("node", "198.19.0.61", 80),
      tcp("pod", "198.18.0.1", 30080),
      tcp("pod", "198.19.0.62", 80),
    ],
  },
  {
    name: "every REJECT type and DROP, forwarded and from the node, TCP and UDP",
    text: rejects,
    probes: [
      ...["71", "72", "73", "74", "75", "76", "77", "78", "79"].map((n) => tcp("pod", `198.19.0.${n}`, 80)),
      ...["73", "76", "78", "79"].map((n) => tcp("node", `198.19.0.${n}`, 80)),
      ...["1", "2", "3"].map(
        (n): OracleProbe => ({ from: "pod", protocol: "udp", dstIp: `198.18.2.${n}`, dstPort: 53 }),
      ),
      ...["1", "2"].map(
        (n): OracleProbe => ({ from: "node", protocol: "udp", dstIp: `198.18.2.${n}`, dstPort: 53 }),
      ),
    ],
  },
];

describe.skipIf(skip)("tracer vs kernel: kube-proxy eras", () => {
  for (const backend of ["nft", "legacy"] as const) {
    describe(`${backend} backend`, () => {
      let lab: Lab;
      beforeAll(async () => {
        lab = await createLab(oracleLabSpec("trace", backend));
      });
      afterAll(async () => {
        await lab?.destroy();
      });
      for (const c of CASES) {
        it(c.name, async () => {
          await lab.load(c.text);
          const { text, ruleset } = savedRuleset(lab);
          for (const probe of c.probes) {
            const fresh = c.stateful?.includes(probe.dstIp) === true;
            const cmp = await compareProbe(lab, ruleset, probe, {
              timeoutMs: 400,
              maxAttempts: fresh ? 30 : 60,
              ...(fresh ? { reload: c.text } : {}),
            });
            expect(cmp.mismatch, describeMismatch(cmp, text)).toBeUndefined();
          }
        });
      }
    });
  }
});
