/** kubernetesOwned(): which rules are Kubernetes' own and which a host firewall's (hand-written cases). */
import { describe, expect, it } from "vitest";
import type { FilterAction, FilterStep } from "../model/trace-step.ts";
import { kubernetesOwned } from "./link-host-firewall.ts";

function step(backend: "nft" | "iptables", table: string, chain: string, action: FilterAction): FilterStep {
  return {
    kind: "filter",
    backend,
    table,
    ...(backend === "nft" ? { family: "inet" } : {}),
    chain,
    evidence: { file: "f", line: 1 },
    rule: "r",
    action,
  };
}
const DROP: FilterAction = { kind: "drop" };
const REJECT: FilterAction = { kind: "reject", rejectWith: "icmp-port-unreachable" };

describe("kubernetesOwned()", () => {
  it.each([
    [step("iptables", "filter", "KUBE-FIREWALL", DROP), true],
    [step("iptables", "filter", "KUBE-NWPLCY-ABCDEF", REJECT), true],
    [step("iptables", "filter", "FLANNEL-FWD", DROP), true],
    [step("nft", "kube-proxy", "reject-chain", REJECT), true],
    [step("nft", "firewalld", "filter_FORWARD", REJECT), false],
    [step("nft", "filter", "forward", { kind: "policy", policy: "DROP" }), false],
    [step("iptables", "filter", "ufw-user-forward", DROP), false],
    [step("iptables", "filter", "FORWARD", { kind: "policy", policy: "DROP" }), false],
    [step("iptables", "filter", "FORWARD", DROP), false],
    [step("iptables", "filter", "DOCKER-USER", DROP), false],
  ])("%# %j is Kubernetes' own: %s", (s, own) => {
    expect(kubernetesOwned(s)).toBe(own);
  });
});
