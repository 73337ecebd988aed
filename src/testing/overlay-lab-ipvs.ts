/**
 * An overlay lab node in kube-proxy's IPVS mode, as far as this kernel can show one (it has no IPVS):
 * node-a gets a `kube-ipvs0` device (an empty bridge here: no dummy driver) holding the Service address (kube-proxy's proxier.go binds every
 * ClusterIP there) and kube-proxy's IPVS iptables glue and ipsets for the Service web (198.19.0.20:80
 * to a2 on node-a and b1 on node-b), all loaded with the real `ip`, `ipset restore` and
 * `iptables-nft-restore`, so the bundle's ip-addr.json, iptables-save.txt and ipset-save.txt are
 * what the real tools print. Its `ipvsadm.txt` is written by hand in ipvsadm's rule format (`-Sn`),
 * the virtual server kube-proxy would program. Captured into testdata/ipvs/lab by
 * overlay-lab-ipvs-capture.ts; the offline tests read the capture.
 */
import { writeBundleFile } from "../collect/bundle-writer.ts";
import type { OverlayLab } from "./overlay-lab.ts";
import type { LabService } from "./overlay-lab-bundle.ts";
import { WEB } from "./overlay-lab-case-kit.ts";

/** The Service of the IPVS lab: its virtual server on node-a schedules to a2 (node-a) and b1 (node-b). */
export const IPVS_WEB: LabService = { ...WEB, endpoints: ["a2", "b1"] };

/** node-a's `ipvsadm -Sn`, as kube-proxy programs IPVS_WEB (rr, masquerading, weight 1). */
export const IPVS_LAB_IPVSADM = [
  "-A -t 198.19.0.20:80 -s rr",
  "-a -t 198.19.0.20:80 -r 198.18.1.11:8080 -m -w 1",
  "-a -t 198.19.0.20:80 -r 198.18.2.10:8080 -m -w 1",
  "",
].join("\n");

const IPSETS = [
  "create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536",
  "add KUBE-CLUSTER-IP 198.19.0.20,tcp:80",
  "create KUBE-LOOP-BACK hash:ip,port,ip family inet hashsize 1024 maxelem 65536",
  "add KUBE-LOOP-BACK 198.18.1.11,tcp:8080,198.18.1.11",
  "create KUBE-IPVS-IPS hash:ip family inet hashsize 1024 maxelem 65536",
  "add KUBE-IPVS-IPS 198.19.0.20",
  "create KUBE-EXTERNAL-IP hash:ip,port family inet hashsize 1024 maxelem 65536",
  "create KUBE-LOAD-BALANCER hash:ip,port family inet hashsize 1024 maxelem 65536",
  "create KUBE-HEALTH-CHECK-NODE-PORT bitmap:port range 30000-32767",
  "create KUBE-NODE-PORT-TCP bitmap:port range 30000-32767",
  "create KUBE-NODE-PORT-LOCAL-TCP bitmap:port range 30000-32767",
  "",
].join("\n");

/** kube-proxy's IPVS glue (pkg/proxy/ipvs/proxier.go writeIptablesRules) for the lab's ranges. */
const GLUE = `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-IPVS-FILTER - [0:0]
:KUBE-IPVS-OUT-FILTER - [0:0]
:KUBE-NODE-PORT - [0:0]
-A INPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-FILTER
-A INPUT -m comment --comment "kubernetes health check rules" -j KUBE-NODE-PORT
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A OUTPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-OUT-FILTER
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A KUBE-IPVS-FILTER -m set --match-set KUBE-LOAD-BALANCER dst,dst -j RETURN
-A KUBE-IPVS-FILTER -m set --match-set KUBE-CLUSTER-IP dst,dst -j RETURN
-A KUBE-IPVS-FILTER -m set --match-set KUBE-EXTERNAL-IP dst,dst -j RETURN
-A KUBE-IPVS-FILTER -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j RETURN
-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT --reject-with icmp-port-unreachable
-A KUBE-NODE-PORT -m comment --comment "Kubernetes health check node port" -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-NODE-PORT - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SERVICES - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port for masquerade purpose" -m set --match-set KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ
-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-SERVICES ! -s 198.18.0.0/16 -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ
-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT
-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT
COMMIT
`;

/** Makes node-a an IPVS-mode node (kube-ipvs0, glue, ipsets) as far as this kernel allows. */
export function makeIpvsNode(lab: OverlayLab, node = "node-a"): void {
  // kube-proxy's kube-ipvs0 is a dummy device (left down); this kernel has no dummy driver, so the
  // lab's is an empty bridge, also left down: what matters is that its address is the node's own.
  lab.exec(node, ["ip", "link", "add", "kube-ipvs0", "type", "bridge"]);
  lab.exec(node, ["ip", "addr", "add", `${IPVS_WEB.clusterIP}/32`, "dev", "kube-ipvs0"]);
  lab.exec(node, ["ipset", "restore"], IPSETS);
  lab.exec(node, ["iptables-nft-restore"], GLUE);
}

/** Adds the hand-written `ipvsadm.txt` and kube-proxy's mode answer to node-a of a lab bundle. */
export async function writeIpvsFiles(dir: string, node = "node-a"): Promise<void> {
  await writeBundleFile(`${dir}/nodes/${node}/ipvsadm.txt`, IPVS_LAB_IPVSADM);
  await writeBundleFile(`${dir}/nodes/${node}/kube-proxy-mode.txt`, "ipvs");
}
