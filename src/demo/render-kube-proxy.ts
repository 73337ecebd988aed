/**
 * Writes what kube-proxy v1.23 (iptables mode, the k3s v1.23 era) has on a node for a set of
 * expected service ports, in iptables-save form. Shapes follow the v1.23ish upstream fixture:
 * masquerade inside KUBE-SVC-*, KUBE-XLB-* for externalTrafficPolicy Local, a KUBE-FW-* chain per
 * LoadBalancer IP ending in KUBE-MARK-DROP, filter REJECTs for services without endpoints.
 * The service ports come from the demo's own ./proxied-ports.ts (any object of that shape
 * renders, which lets tests render other computations of the expected state too).
 */
import { comment, type DumpBuilder } from "./dump-builder.ts";
import {
  internalEndpoints,
  localEndpoints,
  type ProxiedEndpoint,
  type ProxiedPort,
} from "./proxied-ports.ts";

/** The node as kube-proxy sees it. */
export interface ProxyNode {
  readonly name: string;
  readonly clusterCIDR: string;
}

/** `1/n` written with %0.10f, stored by the kernel as lround(p * 2^31), printed with %.11f. */
export function savedProbability(n: number): string {
  const written = Number((1 / n).toFixed(10));
  return (Math.round(written * 2 ** 31) / 2 ** 31).toFixed(11);
}

function dport(sp: ProxiedPort, port: number): string {
  return `-m ${sp.protocol} --dport ${port}`;
}

function endpointRules(
  b: DumpBuilder,
  sp: ProxiedPort,
  chain: string,
  eps: readonly ProxiedEndpoint[],
): void {
  const s = sp.svcPortName;
  if (sp.sessionAffinity) {
    for (const ep of eps) {
      b.rule(
        "nat",
        chain,
        `${comment(s)} -m recent --rcheck --seconds 10800 --reap --name ${ep.sepChain} --mask 255.255.255.255 --rsource -j ${ep.sepChain}`,
      );
    }
  }
  eps.forEach((ep, i) => {
    const n = eps.length - i;
    const stat = n > 1 ? ` -m statistic --mode random --probability ${savedProbability(n)}` : "";
    b.rule("nat", chain, `${comment(s)}${stat} -j ${ep.sepChain}`);
  });
}

function sepChain(b: DumpBuilder, sp: ProxiedPort, ep: ProxiedEndpoint): void {
  const s = sp.svcPortName;
  const recent = sp.sessionAffinity
    ? ` -m recent --set --name ${ep.sepChain} --mask 255.255.255.255 --rsource`
    : "";
  const host = ep.ip.includes(":") ? `[${ep.ip}]` : ep.ip;
  b.rule("nat", ep.sepChain, `-s ${ep.ip}/32 ${comment(s)} -j KUBE-MARK-MASQ`);
  b.rule(
    "nat",
    ep.sepChain,
    `-p ${sp.protocol} ${comment(s)}${recent} -m ${sp.protocol} -j DNAT --to-destination ${host}:${ep.port}`,
  );
}

/** filter REJECTs of a service port without endpoints (kube-proxy writes no nat rules for it). */
function rejectRules(b: DumpBuilder, sp: ProxiedPort): void {
  const s = sp.svcPortName;
  const p = sp.protocol;
  const reject = `${comment(`${s} has no endpoints`)}`;
  if (sp.clusterIP !== undefined) {
    b.rule(
      "filter",
      "KUBE-SERVICES",
      `-d ${sp.clusterIP}/32 -p ${p} ${reject} ${dport(sp, sp.port)} -j REJECT --reject-with icmp-port-unreachable`,
    );
  }
  for (const ip of [...sp.externalIPs, ...sp.loadBalancerIPs]) {
    b.rule(
      "filter",
      "KUBE-EXTERNAL-SERVICES",
      `-d ${ip}/32 -p ${p} ${reject} ${dport(sp, sp.port)} -j REJECT --reject-with icmp-port-unreachable`,
    );
  }
  if (sp.nodePort !== undefined) {
    b.rule(
      "filter",
      "KUBE-EXTERNAL-SERVICES",
      `-p ${p} ${reject} -m addrtype --dst-type LOCAL ${dport(sp, sp.nodePort)} -j REJECT --reject-with icmp-port-unreachable`,
    );
  }
}

/** The ClusterIP entry (or iTP=Local's DROP) and the external IPs' entries. */
function entryRules(
  b: DumpBuilder,
  sp: ProxiedPort,
  node: ProxyNode,
  internal: readonly ProxiedEndpoint[],
): void {
  const s = sp.svcPortName;
  const p = sp.protocol;
  const cip = sp.clusterIP;
  const svc = sp.chains.SVC;
  if (cip !== undefined) {
    if (sp.internalLocal && internal.length === 0) {
      b.rule(
        "filter",
        "KUBE-SERVICES",
        `-d ${cip}/32 -p ${p} ${comment(`${s} has no local endpoints`)} ${dport(sp, sp.port)} -j DROP`,
      );
    } else {
      const match = `-d ${cip}/32 -p ${p} ${comment(`${s} cluster IP`)} ${dport(sp, sp.port)}`;
      b.rule("nat", "KUBE-SERVICES", `${match} -j ${svc}`);
      b.rule("nat", svc, `! -s ${node.clusterCIDR} ${match} -j KUBE-MARK-MASQ`);
    }
  }
  for (const ip of sp.externalIPs) {
    const match = `-d ${ip}/32 -p ${p} ${comment(`${s} external IP`)} ${dport(sp, sp.port)}`;
    if (!sp.externalLocal) b.rule("nat", svc, `! -s ${node.clusterCIDR} ${match} -j KUBE-MARK-MASQ`);
    b.rule("nat", "KUBE-SERVICES", `${match} -j ${sp.externalLocal ? sp.chains.XLB : svc}`);
  }
}

/** Each LoadBalancer IP's entry and its KUBE-FW-* chain (v1.23: one per service port, ending in a drop). */
function loadBalancerRules(b: DumpBuilder, sp: ProxiedPort): void {
  const s = sp.svcPortName;
  const fw = sp.chains.FW;
  const external = sp.externalLocal ? sp.chains.XLB : sp.chains.SVC;
  const lb = comment(`${s} loadbalancer IP`);
  for (const ip of sp.loadBalancerIPs) {
    b.rule("nat", "KUBE-SERVICES", `-d ${ip}/32 -p ${sp.protocol} ${lb} ${dport(sp, sp.port)} -j ${fw}`);
    if (b.has("nat", fw)) continue;
    if (!sp.externalLocal) b.rule("nat", fw, `${lb} -j KUBE-MARK-MASQ`);
    const ranges = sp.loadBalancerSourceRanges.length > 0 ? sp.loadBalancerSourceRanges : [undefined];
    for (const r of ranges) b.rule("nat", fw, `${r === undefined ? "" : `-s ${r} `}${lb} -j ${external}`);
    b.rule("nat", fw, `${lb} -j KUBE-MARK-DROP`);
  }
}

/** The NodePort's entry in KUBE-NODEPORTS and its masquerade rule. */
function nodePortRules(b: DumpBuilder, sp: ProxiedPort, nodePort: number): void {
  const match = `-p ${sp.protocol} ${comment(sp.svcPortName)} ${dport(sp, nodePort)}`;
  if (sp.externalLocal) {
    b.rule("nat", "KUBE-NODEPORTS", `-s 127.0.0.0/8 ${match} -j KUBE-MARK-MASQ`);
    b.rule("nat", "KUBE-NODEPORTS", `${match} -j ${sp.chains.XLB}`);
  } else {
    b.rule("nat", "KUBE-NODEPORTS", `${match} -j ${sp.chains.SVC}`);
    b.rule("nat", sp.chains.SVC, `${match} -j KUBE-MARK-MASQ`);
  }
}

/** KUBE-XLB-* of externalTrafficPolicy Local: pods and the host go to the cluster chain, others to local endpoints. */
function xlbRules(b: DumpBuilder, sp: ProxiedPort, node: ProxyNode, local: readonly ProxiedEndpoint[]): void {
  const s = sp.svcPortName;
  const xlb = sp.chains.XLB;
  const svc = sp.chains.SVC;
  b.rule(
    "nat",
    xlb,
    `-s ${node.clusterCIDR} ${comment("Redirect pods trying to reach external loadbalancer VIP to clusterIP")} -j ${svc}`,
  );
  b.rule(
    "nat",
    xlb,
    `${comment(`masquerade LOCAL traffic for ${s} LB IP`)} -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
  );
  b.rule(
    "nat",
    xlb,
    `${comment(`route LOCAL traffic for ${s} LB IP to service chain`)} -m addrtype --src-type LOCAL -j ${svc}`,
  );
  if (local.length === 0) b.rule("nat", xlb, `${comment(`${s} has no local endpoints`)} -j KUBE-MARK-DROP`);
  else endpointRules(b, sp, xlb, local);
}

/** Appends one service port's rules for `node`. */
export function renderServicePort(b: DumpBuilder, sp: ProxiedPort, node: ProxyNode): void {
  if (sp.clusterEndpoints.length === 0) {
    rejectRules(b, sp);
    return;
  }
  const internal = internalEndpoints(sp, node.name);
  const local = localEndpoints(sp.endpoints, node.name);
  b.chain("nat", sp.chains.SVC);
  entryRules(b, sp, node, internal);
  loadBalancerRules(b, sp);
  if (sp.nodePort !== undefined) nodePortRules(b, sp, sp.nodePort);
  endpointRules(b, sp, sp.chains.SVC, internal);
  if (sp.externalLocal) xlbRules(b, sp, node, local);
  const withChains = new Map<string, ProxiedEndpoint>();
  for (const ep of [...internal, ...(sp.externalLocal ? local : [])]) withChains.set(ep.sepChain, ep);
  for (const ep of withChains.values()) sepChain(b, sp, ep);
}

/** kube-proxy's fixed chains and jumps (v1.23), with the kubelet's KUBE-FIREWALL / KUBE-MARK-DROP. */
export function renderProxyBase(b: DumpBuilder): void {
  b.rule("filter", "INPUT", `-m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS`);
  b.rule(
    "filter",
    "INPUT",
    `-m conntrack --ctstate NEW ${comment("kubernetes externally-visible service portals")} -j KUBE-EXTERNAL-SERVICES`,
  );
  b.rule("filter", "INPUT", "-j KUBE-FIREWALL");
  b.rule("filter", "FORWARD", `${comment("kubernetes forwarding rules")} -j KUBE-FORWARD`);
  b.rule(
    "filter",
    "FORWARD",
    `-m conntrack --ctstate NEW ${comment("kubernetes service portals")} -j KUBE-SERVICES`,
  );
  b.rule(
    "filter",
    "FORWARD",
    `-m conntrack --ctstate NEW ${comment("kubernetes externally-visible service portals")} -j KUBE-EXTERNAL-SERVICES`,
  );
  b.rule(
    "filter",
    "OUTPUT",
    `-m conntrack --ctstate NEW ${comment("kubernetes service portals")} -j KUBE-SERVICES`,
  );
  b.rule("filter", "OUTPUT", "-j KUBE-FIREWALL");
  b.chain("filter", "KUBE-EXTERNAL-SERVICES")
    .chain("filter", "KUBE-SERVICES")
    .chain("filter", "KUBE-NODEPORTS");
  b.chain("filter", "KUBE-KUBELET-CANARY").chain("filter", "KUBE-PROXY-CANARY");
  b.rule(
    "filter",
    "KUBE-FIREWALL",
    `${comment("kubernetes firewall for dropping marked packets")} -m mark --mark 0x8000/0x8000 -j DROP`,
  );
  b.rule(
    "filter",
    "KUBE-FIREWALL",
    `! -s 127.0.0.0/8 -d 127.0.0.0/8 ${comment("block incoming localnet connections")} -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP`,
  );
  b.rule("filter", "KUBE-FORWARD", "-m conntrack --ctstate INVALID -j DROP");
  b.rule(
    "filter",
    "KUBE-FORWARD",
    `${comment("kubernetes forwarding rules")} -m mark --mark 0x4000/0x4000 -j ACCEPT`,
  );
  b.rule(
    "filter",
    "KUBE-FORWARD",
    `${comment("kubernetes forwarding conntrack rule")} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
  );
  b.rule("nat", "PREROUTING", `${comment("kubernetes service portals")} -j KUBE-SERVICES`);
  b.rule("nat", "OUTPUT", `${comment("kubernetes service portals")} -j KUBE-SERVICES`);
  b.rule("nat", "POSTROUTING", `${comment("kubernetes postrouting rules")} -j KUBE-POSTROUTING`);
  b.chain("nat", "KUBE-KUBELET-CANARY").chain("nat", "KUBE-PROXY-CANARY").chain("nat", "KUBE-NODEPORTS");
  b.rule("nat", "KUBE-MARK-DROP", "-j MARK --set-xmark 0x8000/0x8000");
  b.rule("nat", "KUBE-MARK-MASQ", "-j MARK --set-xmark 0x4000/0x4000");
  b.rule("nat", "KUBE-POSTROUTING", "-m mark ! --mark 0x4000/0x4000 -j RETURN");
  b.rule("nat", "KUBE-POSTROUTING", "-j MARK --set-xmark 0x4000/0x0");
  b.rule(
    "nat",
    "KUBE-POSTROUTING",
    `${comment("kubernetes service traffic requiring SNAT")} -j MASQUERADE --random-fully`,
  );
  b.chain("mangle", "KUBE-KUBELET-CANARY").chain("mangle", "KUBE-PROXY-CANARY");
}

/** Every service port's rules, then the mandatory last rule of nat KUBE-SERVICES. */
export function renderKubeProxy(b: DumpBuilder, ports: readonly ProxiedPort[], node: ProxyNode): void {
  renderProxyBase(b);
  for (const sp of ports) renderServicePort(b, sp, node);
  b.rule(
    "nat",
    "KUBE-SERVICES",
    `${comment("kubernetes service nodeports; NOTE: this must be the last rule in this chain")} -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS`,
  );
}
