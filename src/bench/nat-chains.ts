/**
 * The nat table of a generated dump: kube-proxy's service portals (KUBE-SERVICES, KUBE-SVC-*,
 * KUBE-SEP-*, KUBE-EXT-*, KUBE-NODEPORTS, the mark and postrouting chains) and flannel's masquerade
 * chain with its leaked copies (k3s-io/k3s#3117).
 */
import { kubeProxyHash } from "../kube-proxy/chain-names.ts";
import {
  type ChainSpec,
  CLUSTER_CIDR,
  LEAKED,
  probability,
  type Service,
  type TableChains,
} from "./dump-model.ts";

/** The nat table's built-in chains, jumping to kube-proxy's and flannel's chains. */
function natBuiltins(): ChainSpec[] {
  return [
    {
      name: "PREROUTING",
      rules: () => ['-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'],
    },
    { name: "INPUT", rules: () => [] },
    {
      name: "OUTPUT",
      rules: () => ['-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'],
    },
    {
      name: "POSTROUTING",
      rules: () => [
        '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
        '-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG',
      ],
    },
  ];
}

/** The user chains every generated node has: flannel's masquerade chain (with the leaked copies) and kube-proxy's fixed chains. */
function natBaseChains(services: readonly Service[], dupCounts: readonly number[]): ChainSpec[] {
  const masqLeak = LEAKED[3];
  return [
    {
      name: "FLANNEL-POSTRTG",
      rules: () => {
        const out = [
          `-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN`,
          ...Array.from({ length: 1 + dupCounts[3]! }, () => masqLeak.text),
          `-A FLANNEL-POSTRTG ! -s ${CLUSTER_CIDR} -d 10.42.0.0/24 -m comment --comment "flanneld masq" -j RETURN`,
          `-A FLANNEL-POSTRTG -s ${CLUSTER_CIDR} ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully`,
        ];
        return out;
      },
    },
    { name: "KUBE-MARK-DROP", rules: () => ["-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000"] },
    { name: "KUBE-MARK-MASQ", rules: () => ["-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000"] },
    {
      name: "KUBE-NODEPORTS",
      rules: () =>
        services
          .filter((s) => s.nodePort !== undefined)
          .map(
            (s) =>
              `-A KUBE-NODEPORTS -p tcp -m comment --comment "${s.spn}" -m tcp --dport ${s.nodePort} -j KUBE-EXT-${s.svcHash}`,
          ),
    },
    {
      name: "KUBE-POSTROUTING",
      rules: () => [
        "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
        "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0",
        '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
      ],
    },
    {
      name: "KUBE-SERVICES",
      rules: () => [
        ...services
          .filter((s) => s.endpoints.length > 0)
          .map(
            (s) =>
              `-A KUBE-SERVICES -d ${s.clusterIP}/32 -p tcp -m comment --comment "${s.spn} cluster IP" -m tcp --dport ${s.port} -j KUBE-SVC-${s.svcHash}`,
          ),
        '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
      ],
    },
  ];
}

/** One Service's chains: KUBE-SVC, a KUBE-SEP per endpoint, and KUBE-EXT when it has a NodePort. */
function serviceChains(s: Service): ChainSpec[] {
  const user: ChainSpec[] = [];
  const svc = `KUBE-SVC-${s.svcHash}`;
  const seps = s.endpoints.map((ep) => ({ ep, name: `KUBE-SEP-${kubeProxyHash(`${s.spn}tcp${ep}`)}` }));
  user.push({
    name: svc,
    rules: () => [
      `-A ${svc} ! -s ${CLUSTER_CIDR} -d ${s.clusterIP}/32 -p tcp -m comment --comment "${s.spn} cluster IP" -m tcp --dport ${s.port} -j KUBE-MARK-MASQ`,
      ...seps.map((sep, i) =>
        i === seps.length - 1
          ? `-A ${svc} -m comment --comment "${s.spn} -> ${sep.ep}" -j ${sep.name}`
          : `-A ${svc} -m comment --comment "${s.spn} -> ${sep.ep}" -m statistic --mode random --probability ${probability(seps.length - i)} -j ${sep.name}`,
      ),
    ],
  });
  for (const sep of seps) {
    const ip = sep.ep.slice(0, sep.ep.indexOf(":"));
    user.push({
      name: sep.name,
      rules: () => [
        `-A ${sep.name} -s ${ip}/32 -m comment --comment "${s.spn}" -j KUBE-MARK-MASQ`,
        `-A ${sep.name} -p tcp -m comment --comment "${s.spn}" -m tcp -j DNAT --to-destination ${sep.ep}`,
      ],
    });
  }
  if (s.nodePort !== undefined) {
    const ext = `KUBE-EXT-${s.svcHash}`;
    user.push({
      name: ext,
      rules: () => [
        `-A ${ext} -m comment --comment "masquerade traffic for ${s.spn} external destinations" -j KUBE-MARK-MASQ`,
        `-A ${ext} -j ${svc}`,
      ],
    });
  }
  return user;
}

/**
 * The nat table of a generated dump: the built-in chains, then the user chains in kube-proxy's
 * creation order (the fixed chains, then per Service with endpoints its SVC, SEP and EXT chains).
 */
export function natChains(services: readonly Service[], dupCounts: readonly number[]): TableChains {
  const user = natBaseChains(services, dupCounts);
  for (const s of services) if (s.endpoints.length > 0) user.push(...serviceChains(s));
  return { builtins: natBuiltins(), user };
}
