/**
 * kube-router's chain and ipset names, as k3s pkg/agent/netpol (policy.go, pod.go) computes them:
 * base32(sha256(...))[:16] — the same hash as kube-proxy's chain names.
 */
import { kubeProxyHash } from "../kube-proxy/chain-names.ts";

export const h = (s: string) => kubeProxyHash(s);
export const networkPolicyChainName = (ns: string, name: string, version: string) =>
  `KUBE-NWPLCY-${h(ns + name + version)}`;
export const podFirewallChainName = (ns: string, name: string, version: string) =>
  `KUBE-POD-FW-${h(ns + name + version)}`;
export const policySourcePodIPSetName = (ns: string, name: string) => `KUBE-SRC-${h(ns + name)}`;
export const policyDestinationPodIPSetName = (ns: string, name: string) => `KUBE-DST-${h(ns + name)}`;
export const policyIndexedSourcePodIPSetName = (ns: string, name: string, i: number) =>
  `KUBE-SRC-${h(`${ns}${name}ingressrule${i}pod`)}`;
export const policyIndexedDestinationPodIPSetName = (ns: string, name: string, i: number) =>
  `KUBE-DST-${h(`${ns}${name}egressrule${i}pod`)}`;
export const policyIndexedSourceIPBlockIPSetName = (ns: string, name: string, i: number) =>
  `KUBE-SRC-${h(`${ns}${name}ingressrule${i}ipblock`)}`;
export const policyIndexedDestinationIPBlockIPSetName = (ns: string, name: string, i: number) =>
  `KUBE-DST-${h(`${ns}${name}egressrule${i}ipblock`)}`;
export const policyIndexedIngressNamedPortIPSetName = (ns: string, name: string, i: number, j: number) =>
  `KUBE-DST-${h(`${ns}${name}ingressrule${i}${j}namedport`)}`;
export const policyIndexedEgressNamedPortIPSetName = (ns: string, name: string, i: number, j: number) =>
  `KUBE-DST-${h(`${ns}${name}egressrule${i}${j}namedport`)}`;

/** isNetPolActionable: has an IP, not host network, not finished. */
