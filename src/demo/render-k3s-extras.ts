/**
 * The other writers of a k3s node's tables (k3s v1.23 era): flannel (rules directly in FORWARD and
 * POSTROUTING, before flannel PR #1650), the embedded kube-router network-policy controller, and
 * the CNI portmap chains of klipper ServiceLB (svclb-*) pods with hostPorts.
 */
import { sha256 } from "../text/sha256.ts";
import { comment, type DumpBuilder } from "./dump-builder.ts";

/** A hostPort of a pod on this node (CNI portmap). */
export interface HostPortPod {
  readonly podIP: string;
  /** Container id as the CNI plugin sees it (any stable hex string). */
  readonly containerId: string;
  readonly ports: readonly {
    readonly hostPort: number;
    readonly containerPort: number;
    readonly protocol: "tcp" | "udp";
  }[];
}

export interface K3sNode {
  readonly clusterCIDR: string;
  readonly serviceCIDR: string;
  readonly podCIDR: string;
  readonly hostPorts: readonly HostPortPod[];
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function hex(seed: string): string {
  return [...sha256(seed)].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/** A stable 16-character upper-case tag, the shape kube-router and CNI use in names and comments. */
export function tag16(seed: string, length = 16): string {
  const d = sha256(seed);
  let s = "";
  for (let i = 0; i < length; i++) s += BASE32[d[i]! & 31];
  return s;
}

/** The kube-router rules whose duplicates k3s-io/k3s#3117 leaks (filter KUBE-ROUTER-INPUT). */
export function kubeRouterInputRules(serviceCIDR: string): string[] {
  return [
    `-d ${serviceCIDR} ${comment(`allow traffic to primary cluster IP range - ${tag16("cluster-ip-range")}`)} -j RETURN`,
    `-p tcp ${comment("allow LOCAL TCP traffic to node ports - LR7XO7NXDBGQJD2M")} -m addrtype --dst-type LOCAL -m multiport --dports 30000:32767 -j RETURN`,
    `-p udp ${comment("allow LOCAL UDP traffic to node ports - 76UCBPIZNGJNWNUZ")} -m addrtype --dst-type LOCAL -m multiport --dports 30000:32767 -j RETURN`,
  ];
}

/** flannel's forward rules (pre-#1650: directly in FORWARD), also leaked by k3s#3117. */
export function flannelForwardRules(clusterCIDR: string): string[] {
  return [
    `-s ${clusterCIDR} ${comment("flanneld forward")} -j ACCEPT`,
    `-d ${clusterCIDR} ${comment("flanneld forward")} -j ACCEPT`,
  ];
}

/** Appends flannel, kube-router and portmap rules for one node. */
export function renderK3sExtras(b: DumpBuilder, node: K3sNode): void {
  const netpol = tag16(`netpol-${node.podCIDR}`);
  b.prepend("filter", "INPUT", `${comment(`kube-router netpol - ${netpol}`)} -j KUBE-ROUTER-INPUT`);
  b.prepend("filter", "FORWARD", `${comment(`kube-router netpol - ${netpol}`)} -j KUBE-ROUTER-FORWARD`);
  b.prepend("filter", "OUTPUT", `${comment(`kube-router netpol - ${netpol}`)} -j KUBE-ROUTER-OUTPUT`);
  for (const r of flannelForwardRules(node.clusterCIDR)) b.rule("filter", "FORWARD", r);
  for (const r of kubeRouterInputRules(node.serviceCIDR)) b.rule("filter", "KUBE-ROUTER-INPUT", r);
  b.chain("filter", "KUBE-ROUTER-FORWARD").chain("filter", "KUBE-ROUTER-OUTPUT");
  b.rule(
    "filter",
    "KUBE-NWPLCY-DEFAULT",
    `${comment("rule to mark traffic matching a network policy")} -j MARK --set-xmark 0x10000/0x10000`,
  );

  const c = node.clusterCIDR;
  b.rule("nat", "POSTROUTING", `-s ${c} -d ${c} ${comment("flanneld masq")} -j RETURN`);
  b.rule(
    "nat",
    "POSTROUTING",
    `-s ${c} ! -d 224.0.0.0/4 ${comment("flanneld masq")} -j MASQUERADE --random-fully`,
  );
  b.rule("nat", "POSTROUTING", `! -s ${c} -d ${node.podCIDR} ${comment("flanneld masq")} -j RETURN`);
  b.rule("nat", "POSTROUTING", `! -s ${c} -d ${c} ${comment("flanneld masq")} -j MASQUERADE --random-fully`);

  if (node.hostPorts.length === 0) return;
  b.rule("nat", "PREROUTING", "-m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT");
  b.rule("nat", "OUTPUT", "-m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT");
  b.rule("nat", "POSTROUTING", `${comment("CNI portfwd requiring masquerade")} -j CNI-HOSTPORT-MASQ`);
  b.rule("nat", "CNI-HOSTPORT-MASQ", "-m mark --mark 0x2000/0x2000 -j MASQUERADE");
  b.rule(
    "nat",
    "CNI-HOSTPORT-SETMARK",
    `${comment("CNI portfwd masquerade mark")} -j MARK --set-xmark 0x2000/0x2000`,
  );
  for (const pod of node.hostPorts) {
    const dn = `CNI-DN-${hex(pod.containerId).slice(0, 21)}`;
    const tcp = pod.ports.filter((p) => p.protocol === "tcp").map((p) => p.hostPort);
    b.rule(
      "nat",
      "CNI-HOSTPORT-DNAT",
      `-p tcp ${comment(`dnat name: "cbr0" id: "${pod.containerId}"`)} -m multiport --dports ${tcp.join(",")} -j ${dn}`,
    );
    for (const p of pod.ports) {
      b.rule(
        "nat",
        dn,
        `-s ${node.podCIDR} -p ${p.protocol} -m ${p.protocol} --dport ${p.hostPort} -j CNI-HOSTPORT-SETMARK`,
      );
      b.rule(
        "nat",
        dn,
        `-s 127.0.0.1/32 -p ${p.protocol} -m ${p.protocol} --dport ${p.hostPort} -j CNI-HOSTPORT-SETMARK`,
      );
      b.rule(
        "nat",
        dn,
        `-p ${p.protocol} -m ${p.protocol} --dport ${p.hostPort} -j DNAT --to-destination ${pod.podIP}:${p.containerPort}`,
      );
    }
  }
}
