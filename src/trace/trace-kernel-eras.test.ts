/**
 * The tracer against the kernel on hand-written kube-proxy rulesets of several eras (shapes from
 * kube-proxy-rules.md), rewritten into 198.18.0.0/15: pods 198.18.1.0/24, endpoints 198.18.2.0/24
 * (pod CIDR 198.18.0.0/16), ClusterIPs 198.19.0.0/24, external IPs 198.19.1.0/24, node 198.18.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { netnsUnavailable, skipBecause } from "../testing/capabilities.ts";
import { createLab, type Lab } from "../testing/netns-lab.ts";
import {
  compareProbe,
  describeMismatch,
  type OracleProbe,
  oracleLabSpec,
  restoreText,
  savedRuleset,
} from "../testing/trace-oracle.ts";

const skip = skipBecause(netnsUnavailable(), "kernel trace era tests");

const SVC1 = "KUBE-SVC-XPGD46QRK7WJZT7O";
const SVC3 = "KUBE-SVC-4SW47YFZTEDKD3PK";
const SVC5 = "KUBE-SVC-NUKIZ6OKUXPJNT4C";
const EXT2 = "KUBE-EXT-GNZBNJ2PO5MGZ6GT";
const SVC2 = "KUBE-SVC-GNZBNJ2PO5MGZ6GT";
const SVL2 = "KUBE-SVL-GNZBNJ2PO5MGZ6GT";
const EXT3 = "KUBE-EXT-4SW47YFZTEDKD3PK";

/** Current layout (v1.24+ / v1.31ish). */
const current = restoreText({
  filter: [
    `-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL`,
    `-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS`,
    `-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES`,
    `-A INPUT -j KUBE-FIREWALL`,
    `-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL`,
    `-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD`,
    `-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
    `-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES`,
    `-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL`,
    `-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
    `-A OUTPUT -j KUBE-FIREWALL`,
    `-A KUBE-EXTERNAL-SERVICES -d 198.19.1.2/32 -p tcp -m comment --comment "ns2/svc2:p80 has no local endpoints" -m tcp --dport 80 -j DROP`,
    `-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP`,
    `-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP`,
    `-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT`,
    `-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    `-A KUBE-NODEPORTS -m comment --comment "ns2/svc2:p80 health check node port" -m tcp -p tcp --dport 443 -j ACCEPT`,
    `-A KUBE-SERVICES -m comment --comment "ns6/svc6:p80 has no endpoints" -m tcp -p tcp -d 198.19.0.46 --dport 80 -j REJECT`,
  ],
  nat: [
    `-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
    `-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
    `-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING`,
    `-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN`,
    `-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000`,
    `-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully`,
    `-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000`,
    `-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 198.19.0.41 --dport 80 -j ${SVC1}`,
    `-A KUBE-SERVICES -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 198.19.0.43 --dport 80 -j ${SVC3}`,
    `-A KUBE-SERVICES -m comment --comment "ns3/svc3:p80 external IP" -m tcp -p tcp -d 198.19.1.3 --dport 80 -j ${EXT3}`,
    `-A KUBE-SERVICES -m comment --comment "ns5/svc5:p80 cluster IP" -m tcp -p tcp -d 198.19.0.45 --dport 80 -j ${SVC5}`,
    `-A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" -m tcp -p tcp -d 198.19.0.42 --dport 80 -j ${SVC2}`,
    `-A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 external IP" -m tcp -p tcp -d 198.19.1.2 --dport 80 -j ${EXT2}`,
    `-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS`,
    `-A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp --dport 30080 -j ${EXT3}`,
    `-A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp --dport 8080 -j ${EXT2}`,
    `-A ${SVC1} -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 198.19.0.41 --dport 80 ! -s 198.18.0.0/16 -j KUBE-MARK-MASQ`,
    `-A ${SVC1} -m comment --comment "ns1/svc1:p80 -> 198.18.2.1:8080" -j KUBE-SEP-A1`,
    `-A KUBE-SEP-A1 -m comment --comment ns1/svc1:p80 -s 198.18.2.1 -j KUBE-MARK-MASQ`,
    `-A KUBE-SEP-A1 -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 198.18.2.1:8080`,
    `-A ${SVC3} -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 198.19.0.43 --dport 80 ! -s 198.18.0.0/16 -j KUBE-MARK-MASQ`,
    `-A ${SVC3} -m comment --comment "ns3/svc3:p80 -> 198.18.2.1:8080" -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-C1`,
    `-A ${SVC3} -m comment --comment "ns3/svc3:p80 -> 198.18.2.2:8080" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-C2`,
    `-A ${SVC3} -m comment --comment "ns3/svc3:p80 -> 198.18.2.3:8080" -j KUBE-SEP-C3`,
    `-A KUBE-SEP-C1 -m comment --comment ns3/svc3:p80 -s 198.18.2.1 -j KUBE-MARK-MASQ`,
    `-A KUBE-SEP-C1 -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 198.18.2.1:8080`,
    `-A KUBE-SEP-C2 -m comment --comment ns3/svc3:p80 -s 198.18.2.2 -j KUBE-MARK-MASQ`,
    `-A KUBE-SEP-C2 -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 198.18.2.2:8080`,
    `-A KUBE-SEP-C3 -m comment --comment ns3/svc3:p80 -s 198.18.2.3 -j KUBE-MARK-MASQ`,
    `-A KUBE-SEP-C3 -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 198.18.2.3:8080`,
    `-A ${EXT3} -m comment --comment "masquerade traffic for ns3/svc3:p80 external destinations" -j KUBE-MARK-MASQ`,
    `-A ${EXT3} -j ${SVC3}`,
    // Session affinity: the rcheck rules come first and do not match a first packet.
    `-A ${SVC5} -m comment --comment "ns5/svc5:p80 -> 198.18.2.2:443" -m recent --name KUBE-SEP-E1 --rcheck --seconds 10800 --reap -j KUBE-SEP-E1`,
    `-A ${SVC5} -m comment --comment "ns5/svc5:p80 -> 198.18.2.3:443" -m recent --name KUBE-SEP-E2 --rcheck --seconds 10800 --reap -j KUBE-SEP-E2`,
    `-A ${SVC5} -m comment --comment "ns5/svc5:p80 -> 198.18.2.2:443" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-E1`,
    `-A ${SVC5} -m comment --comment "ns5/svc5:p80 -> 198.18.2.3:443" -j KUBE-SEP-E2`,
    `-A KUBE-SEP-E1 -m comment --comment ns5/svc5:p80 -s 198.18.2.2 -j KUBE-MARK-MASQ`,
    `-A KUBE-SEP-E1 -m comment --comment ns5/svc5:p80 -m recent --name KUBE-SEP-E1 --set -m tcp -p tcp -j DNAT --to-destination 198.18.2.2:443`,
    `-A KUBE-SEP-E2 -m comment --comment ns5/svc5:p80 -s 198.18.2.3 -j KUBE-MARK-MASQ`,
    `-A KUBE-SEP-E2 -m comment --comment ns5/svc5:p80 -m recent --name KUBE-SEP-E2 --set -m tcp -p tcp -j DNAT --to-destination 198.18.2.3:443`,
    // externalTrafficPolicy: Local, no local endpoints: pod and LOCAL traffic short-circuit to SVC.
    `-A ${EXT2} -m comment --comment "pod traffic for ns2/svc2:p80 external destinations" -s 198.18.0.0/16 -j ${SVC2}`,
    `-A ${EXT2} -m comment --comment "masquerade LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
    `-A ${EXT2} -m comment --comment "route LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j ${SVC2}`,
    `-A ${SVC2} -m comment --comment "ns2/svc2:p80 -> 198.18.2.3:80" -j KUBE-SEP-B1`,
    `-A KUBE-SEP-B1 -m comment --comment ns2/svc2:p80 -s 198.18.2.3 -j KUBE-MARK-MASQ`,
    `-A KUBE-SEP-B1 -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT --to-destination 198.18.2.3:80`,
    `-A ${SVL2} -m comment --comment "ns2/svc2:p80 has no local endpoints" -j RETURN`,
  ],
});

/** v1.23ish: KUBE-XLB, KUBE-FW ending in KUBE-MARK-DROP, kubelet's mark-drop rule. */
const v123 = restoreText({
  filter: [
    `-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES`,
    `-A INPUT -j KUBE-FIREWALL`,
    `-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD`,
    `-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
    `-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
    `-A OUTPUT -j KUBE-FIREWALL`,
    `-A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j DROP`,
    `-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP`,
    `-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT`,
    `-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    `-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns7/svc7:p80 has no endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 443 -j REJECT`,
  ],
  nat: [
    `-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
    `-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
    `-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING`,
    `-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000`,
    `-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000`,
    `-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN`,
    `-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000`,
    `-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE`,
    `-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 198.19.0.51/32 --dport 80 -j KUBE-SVC-OLD1`,
    `-A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 loadbalancer IP" -m tcp -p tcp -d 198.19.1.51/32 --dport 80 -j KUBE-FW-OLD2`,
    `-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS`,
    `-A KUBE-NODEPORTS -m comment --comment ns1/svc1:p80 -m tcp -p tcp --dport 30080 -j KUBE-SVC-OLD1`,
    `-A KUBE-SVC-OLD1 -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 198.19.0.51/32 --dport 80 ! -s 198.18.0.0/16 -j KUBE-MARK-MASQ`,
    `-A KUBE-SVC-OLD1 -m comment --comment ns1/svc1:p80 -m tcp -p tcp --dport 30080 -j KUBE-MARK-MASQ`,
    `-A KUBE-SVC-OLD1 -m comment --comment ns1/svc1:p80 -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-OLD1A`,
    `-A KUBE-SVC-OLD1 -m comment --comment ns1/svc1:p80 -j KUBE-SEP-OLD1B`,
    `-A KUBE-SEP-OLD1A -m comment --comment ns1/svc1:p80 -s 198.18.2.1/32 -j KUBE-MARK-MASQ`,
    `-A KUBE-SEP-OLD1A -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 198.18.2.1:80`,
    `-A KUBE-SEP-OLD1B -m comment --comment ns1/svc1:p80 -s 198.18.2.2/32 -j KUBE-MARK-MASQ`,
    `-A KUBE-SEP-OLD1B -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 198.18.2.2:80`,
    `-A KUBE-FW-OLD2 -m comment --comment "ns2/svc2:p80 loadbalancer IP" -j KUBE-XLB-OLD2`,
    `-A KUBE-FW-OLD2 -m comment --comment "ns2/svc2:p80 loadbalancer IP" -j KUBE-MARK-DROP`,
    `-A KUBE-XLB-OLD2 -m comment --comment "Redirect pods trying to reach external loadbalancer VIP to clusterIP" -s 198.18.0.0/16 -j KUBE-SVC-OLD1`,
    `-A KUBE-XLB-OLD2 -m comment --comment "masquerade LOCAL traffic for ns2/svc2:p80 LB IP" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
    `-A KUBE-XLB-OLD2 -m comment --comment "route LOCAL traffic for ns2/svc2:p80 LB IP to service chain" -m addrtype --src-type LOCAL -j KUBE-SVC-OLD1`,
    `-A KUBE-XLB-OLD2 -m comment --comment "Balancing rule 0 for ns2/svc2:p80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-OLD2A`,
    `-A KUBE-XLB-OLD2 -m comment --comment "Balancing rule 1 for ns2/svc2:p80" -j KUBE-SEP-OLD2B`,
    `-A KUBE-SEP-OLD2A -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT --to-destination 198.18.2.3:443`,
    `-A KUBE-SEP-OLD2B -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT --to-destination 198.18.2.3:8080`,
  ],
});

/** v1.18ish: masquerade in KUBE-SERVICES, single-rule KUBE-POSTROUTING, filter INPUT -> KUBE-SERVICES, %0.5f probabilities. */
const v118 = restoreText({
  filter: [
    `-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
    `-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES`,
    `-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD`,
    `-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
    `-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
    `-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP`,
    `-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT`,
    `-A KUBE-FORWARD -s 198.18.0.0/16 -m comment --comment "kubernetes forwarding conntrack pod source rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    `-A KUBE-FORWARD -d 198.18.0.0/16 -m comment --comment "kubernetes forwarding conntrack pod destination rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    `-A KUBE-SERVICES -d 198.19.0.62/32 -p tcp -m comment --comment "default/gone: has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable`,
  ],
  nat: [
    `-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
    `-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
    `-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING`,
    `-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000`,
    `-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -m mark --mark 0x4000/0x4000 -j MASQUERADE`,
    `-A KUBE-SERVICES ! -s 198.18.0.0/16 -d 198.19.0.61/32 -p tcp -m comment --comment "default/web: cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ`,
    `-A KUBE-SERVICES -d 198.19.0.61/32 -p tcp -m comment --comment "default/web: cluster IP" -m tcp --dport 80 -j KUBE-SVC-WEB`,
    `-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS`,
    `-A KUBE-NODEPORTS -p tcp -m comment --comment "default/web:" -m tcp --dport 30080 -j KUBE-MARK-MASQ`,
    `-A KUBE-NODEPORTS -p tcp -m comment --comment "default/web:" -m tcp --dport 30080 -j KUBE-SVC-WEB`,
    `-A KUBE-SVC-WEB -m statistic --mode random --probability 0.33333 -j KUBE-SEP-W1`,
    `-A KUBE-SVC-WEB -m statistic --mode random --probability 0.50000 -j KUBE-SEP-W2`,
    `-A KUBE-SVC-WEB -j KUBE-SEP-W3`,
    `-A KUBE-SEP-W1 -s 198.18.2.1/32 -j KUBE-MARK-MASQ`,
    `-A KUBE-SEP-W1 -p tcp -m tcp -j DNAT --to-destination 198.18.2.1:80`,
    `-A KUBE-SEP-W2 -s 198.18.2.2/32 -j KUBE-MARK-MASQ`,
    `-A KUBE-SEP-W2 -p tcp -m tcp -j DNAT --to-destination 198.18.2.2:80`,
    `-A KUBE-SEP-W3 -s 198.18.2.3/32 -j KUBE-MARK-MASQ`,
    `-A KUBE-SEP-W3 -p tcp -m tcp -j DNAT --to-destination 198.18.2.3:80`,
  ],
});

/** Every --reject-with type on its own port, plus DROPs, to check the errno mapping. */
const rejects = restoreText({
  filter: [
    `-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    `-A FORWARD -d 198.19.0.71/32 -p tcp --dport 80 -j REJECT --reject-with icmp-net-unreachable`,
    `-A FORWARD -d 198.19.0.72/32 -p tcp --dport 80 -j REJECT --reject-with icmp-host-unreachable`,
    `-A FORWARD -d 198.19.0.73/32 -p tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable`,
    `-A FORWARD -d 198.19.0.74/32 -p tcp --dport 80 -j REJECT --reject-with icmp-proto-unreachable`,
    `-A FORWARD -d 198.19.0.75/32 -p tcp --dport 80 -j REJECT --reject-with icmp-net-prohibited`,
    `-A FORWARD -d 198.19.0.76/32 -p tcp --dport 80 -j REJECT --reject-with icmp-host-prohibited`,
    `-A FORWARD -d 198.19.0.77/32 -p tcp --dport 80 -j REJECT --reject-with icmp-admin-prohibited`,
    `-A FORWARD -d 198.19.0.78/32 -p tcp --dport 80 -j REJECT --reject-with tcp-reset`,
    `-A FORWARD -d 198.19.0.79/32 -j DROP`,
    `-A FORWARD -d 198.18.2.1/32 -p udp --dport 53 -j REJECT --reject-with icmp-port-unreachable`,
    `-A FORWARD -d 198.18.2.2/32 -p udp --dport 53 -j REJECT --reject-with icmp-host-prohibited`,
    `-A FORWARD -d 198.18.2.3/32 -p udp --dport 53 -j REJECT --reject-with icmp-host-unreachable`,
    `-A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    `-A OUTPUT -d 198.19.0.73/32 -p tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable`,
    `-A OUTPUT -d 198.19.0.76/32 -p tcp --dport 80 -j REJECT --reject-with icmp-host-prohibited`,
    `-A OUTPUT -d 198.19.0.78/32 -p tcp --dport 80 -j REJECT --reject-with tcp-reset`,
    `-A OUTPUT -d 198.19.0.79/32 -j DROP`,
    `-A OUTPUT -d 198.18.2.1/32 -p udp --dport 53 -j REJECT --reject-with icmp-port-unreachable`,
    `-A OUTPUT -d 198.18.2.2/32 -p udp --dport 53 -j DROP`,
  ],
});

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
