/**
 * The filter table of a generated dump: kube-proxy's firewall and forwarding chains, flannel's
 * forward chain and kube-router's NetworkPolicy chains, with the leaked copies (k3s-io/k3s#3117).
 */
import { type ChainSpec, CLUSTER_CIDR, LEAKED, type Service, type TableChains } from "./dump-model.ts";

/** The filter table's built-in chains, jumping to kube-router's, kube-proxy's and flannel's chains. */
function filterBuiltins(): ChainSpec[] {
  return [
    {
      name: "INPUT",
      rules: () => [
        '-A INPUT -m comment --comment "kube-router netpol - 4IA2OSFRMVNDXBVV" -j KUBE-ROUTER-INPUT',
        '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
        '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
        '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
        "-A INPUT -j KUBE-FIREWALL",
      ],
    },
    {
      name: "FORWARD",
      rules: () => [
        '-A FORWARD -m comment --comment "kube-router netpol - TEMCG2JMHZYE7H7T" -j KUBE-ROUTER-FORWARD',
        '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
        '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
        '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
        '-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD',
      ],
    },
    {
      name: "OUTPUT",
      rules: () => [
        '-A OUTPUT -m comment --comment "kube-router netpol - VEAAIY32XVBHCSCY" -j KUBE-ROUTER-OUTPUT',
        '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
        '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        "-A OUTPUT -j KUBE-FIREWALL",
      ],
    },
  ];
}

/**
 * The filter table of a generated dump: the built-in chains, then the user chains (flannel's,
 * kube-proxy's with a REJECT per Service without endpoints, kube-router's), the leaked copies of
 * k3s-io/k3s#3117 in FLANNEL-FWD, KUBE-FIREWALL and KUBE-ROUTER-INPUT.
 */
export function filterChains(services: readonly Service[], dupCounts: readonly number[]): TableChains {
  const copies = (i: number): string[] => Array.from({ length: 1 + dupCounts[i]! }, () => LEAKED[i]!.text);
  const user: ChainSpec[] = [
    {
      name: "FLANNEL-FWD",
      rules: () => [
        ...copies(1),
        `-A FLANNEL-FWD -d ${CLUSTER_CIDR} -m comment --comment "flanneld forward" -j ACCEPT`,
      ],
    },
    { name: "KUBE-EXTERNAL-SERVICES", rules: () => [] },
    {
      name: "KUBE-FIREWALL",
      rules: () => [
        ...copies(2),
        '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
      ],
    },
    {
      name: "KUBE-FORWARD",
      rules: () => [
        "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP",
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      ],
    },
    { name: "KUBE-NODEPORTS", rules: () => [] },
    { name: "KUBE-PROXY-CANARY", rules: () => [] },
    { name: "KUBE-PROXY-FIREWALL", rules: () => [] },
    {
      name: "KUBE-ROUTER-FORWARD",
      rules: () => [
        '-A KUBE-ROUTER-FORWARD -m comment --comment "rule to explicitly ACCEPT traffic that comply to network policies" -m mark --mark 0x20000/0x20000 -j ACCEPT',
      ],
    },
    {
      name: "KUBE-ROUTER-INPUT",
      rules: () => [
        '-A KUBE-ROUTER-INPUT -d 10.43.0.0/16 -m comment --comment "allow traffic to primary/secondary cluster IP range - TZZOAXOCHPHEHX7O" -j RETURN',
        ...copies(0),
        '-A KUBE-ROUTER-INPUT -m comment --comment "rule to explicitly ACCEPT traffic that comply to network policies" -m mark --mark 0x20000/0x20000 -j ACCEPT',
      ],
    },
    {
      name: "KUBE-ROUTER-OUTPUT",
      rules: () => [
        '-A KUBE-ROUTER-OUTPUT -m comment --comment "rule to explicitly ACCEPT traffic that comply to network policies" -m mark --mark 0x20000/0x20000 -j ACCEPT',
      ],
    },
    {
      name: "KUBE-SERVICES",
      rules: () =>
        services
          .filter((s) => s.endpoints.length === 0)
          .map(
            (s) =>
              `-A KUBE-SERVICES -d ${s.clusterIP}/32 -p tcp -m comment --comment "${s.spn} has no endpoints" -m tcp --dport ${s.port} -j REJECT --reject-with icmp-port-unreachable`,
          ),
    },
  ];
  return { builtins: filterBuiltins(), user };
}
