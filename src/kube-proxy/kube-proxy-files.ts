/**
 * The files of `nodes/NODE/` that speak about kube-proxy itself (docs/bundle.md), as read by the
 * bundle reader and handed to {@linkcode reconcileNode}.
 */
import type { EvidenceFile } from "../known-bugs/node-evidence.ts";

/** File names in `nodes/NODE/`. */
export const KUBE_PROXY_FILES = {
  /** `curl -s 127.0.0.1:10249/metrics`: kube-proxy's metrics (k3s: the k3s process serves them). */
  metrics: "kube-proxy-metrics.txt",
  /** `curl -s 127.0.0.1:10249/proxyMode`: `iptables`, `ipvs` or `nftables`. */
  mode: "kube-proxy-mode.txt",
  /** `ipvsadm -Sn` (or `-Ln`), on IPVS nodes. */
  ipvsadm: "ipvsadm.txt",
  /** `ip -j addr` or `ip addr`: shows IPVS mode's kube-ipvs0. */
  addresses: ["ip-addr.json", "ip-addr.txt"],
} as const;

/** The kube-proxy evidence of one node; every file is optional. */
export interface KubeProxyNodeFiles {
  readonly metrics?: EvidenceFile;
  readonly mode?: EvidenceFile;
  readonly ipvsadm?: EvidenceFile;
  readonly addresses?: EvidenceFile;
  readonly nftRuleset?: EvidenceFile;
}
