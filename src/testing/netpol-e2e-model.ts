/**
 * The reachability model of kubernetes/kubernetes test/e2e/network/netpol (reachability.go):
 * every pair starts allowed, then Expect/ExpectPeer/ExpectAllIngress/ExpectAllEgress steps apply in
 * order. Used by the hand transcriptions of network_policy.go's truth tables.
 */
import type { Namespace, NetworkPolicy } from "../model/network-policy.ts";
import type { NetpolProtocol } from "../netpol/netpol-types.ts";

export interface Peer {
  readonly ns?: string;
  readonly pod?: string;
}

export type Step = readonly [from: Peer, to: Peer, allowed: boolean];

export const P = (s: string): Peer => {
  const [ns, pod] = s.split("/");
  return pod === undefined ? { ns: ns! } : { ns: ns!, pod };
};
export const ALL: Peer = {};
export const allIngress = (pod: string, v: boolean): Step => [ALL, P(pod), v];
export const allEgress = (pod: string, v: boolean): Step => [P(pod), ALL, v];

export interface Case {
  readonly name: string;
  readonly pods: readonly string[];
  readonly policies: readonly NetworkPolicy[];
  readonly port: number;
  readonly protocol?: NetpolProtocol;
  readonly steps: readonly Step[];
  readonly namespaces?: Namespace[] | "absent";
  readonly podLabels?: Readonly<Record<string, Record<string, string>>>;
}

const fits = (peer: Peer, pod: string) => {
  const [ns, name] = pod.split("/");
  return (peer.ns === undefined || peer.ns === ns) && (peer.pod === undefined || peer.pod === name);
};

export function expected(c: Case, from: string, to: string): boolean {
  let v = true;
  for (const [f, t, allowed] of c.steps) if (fits(f, from) && fits(t, to)) v = allowed;
  return v;
}
