import { describe, expect, test } from "vitest";
import { chainOwner, RULE_OWNERS, ruleOwner } from "./rule-owner.ts";

describe("ruleOwner()", () => {
  test.each([
    [
      "KUBE-SERVICES",
      "-A KUBE-SERVICES -d 10.43.0.1/32 -p tcp -m tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y",
      "kube-proxy",
    ],
    ["KUBE-FIREWALL", "-A KUBE-FIREWALL -m mark --mark 0x8000/0x8000 -j DROP", "kube-proxy"],
    ["KUBE-ROUTER-INPUT", "-A KUBE-ROUTER-INPUT -j RETURN", "kube-router"],
    ["KUBE-POD-FW-ABCDEF", "-A KUBE-POD-FW-ABCDEF -j ACCEPT", "kube-router"],
    ["KUBE-NWPLCY-ABCDEF", "-A KUBE-NWPLCY-ABCDEF -j MARK --set-xmark 0x10000/0x10000", "kube-router"],
    [
      "FLANNEL-FWD",
      '-A FLANNEL-FWD -s 10.42.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT',
      "flannel",
    ],
    [
      "cali-FORWARD",
      '-A cali-FORWARD -m comment --comment "cali:vjrMJCRpqwy5oRoX" -j cali-from-hep-forward',
      "calico",
    ],
    ["CNI-HOSTPORT-MASQ", "-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE", "cni"],
    ["DOCKER-USER", "-A DOCKER-USER -j RETURN", "docker"],
    [
      "DOCKER",
      "-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT",
      "docker",
    ],
    // Built-in chains: the owner of the chain jumped to...
    [
      "PREROUTING",
      '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      "kube-proxy",
    ],
    [
      "INPUT",
      '-A INPUT -m comment --comment "kube-router netpol - 4IA2OSFRMVNDXBVV" -j KUBE-ROUTER-INPUT',
      "kube-router",
    ],
    ["FORWARD", "-A FORWARD -j DOCKER-USER", "docker"],
    ["FORWARD", "-A FORWARD -g cali-FORWARD", "calico"],
    ["POSTROUTING", "-A POSTROUTING -j CNI-HOSTPORT-MASQ", "cni"],
    // ...or flannel's comments in POSTROUTING / FORWARD (flannel before v0.20 wrote there directly).
    [
      "POSTROUTING",
      '-A POSTROUTING -s 10.42.0.0/16 -d 10.42.0.0/16 -m comment --comment "flanneld masq" -j RETURN',
      "flannel",
    ],
    ["FORWARD", '-A FORWARD -s 10.42.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT', "flannel"],
    ["POSTROUTING", '-A POSTROUTING -m comment --comment "cali:abc" -j MASQUERADE', "calico"],
    ["INPUT", "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT", "other"],
    ["my-chain", "-A my-chain -j DROP", "other"],
  ])("ruleOwner(%s, ...) is %s", (chain, text, owner) => {
    expect(ruleOwner(chain, text)).toBe(owner);
  });

  test("chainOwner() only judges by name and RULE_OWNERS lists every owner once", () => {
    expect(chainOwner("INPUT")).toBeUndefined();
    expect(chainOwner("KUBE-ROUTER-FORWARD")).toBe("kube-router");
    expect(new Set(RULE_OWNERS).size).toBe(RULE_OWNERS.length);
    expect(RULE_OWNERS).toContain("other");
  });
});
