/** What an overlay lab case is, and the helpers the case lists share (overlay-lab-cases.ts). */
import type { OverlayLab, OverlayLabNode } from "./overlay-lab.ts";
import type { LabService } from "./overlay-lab-bundle.ts";
import type { LabQuestion } from "./overlay-lab-verdict.ts";

export interface LabCaseProbe extends LabQuestion {
  /** The outcome the kernel gives: `answer POD`, `error ERRNO` or `timeout`. */
  readonly expect: string;
  /** For a failing probe: the node where netdoctor must place the failure. */
  readonly failsAt?: string;
  readonly timeoutMs?: number;
}

export interface LabCase {
  readonly name: string;
  readonly what: string;
  readonly nodes?: readonly OverlayLabNode[];
  readonly services?: readonly LabService[];
  /** Applied after the lab is built, before the probes. */
  readonly breakIt?: (lab: OverlayLab) => Promise<void> | void;
  /** Probes run in order; `change` runs after them and before the `after` probes (e.g. a pod replaced). */
  readonly probes: readonly LabCaseProbe[];
  readonly change?: (lab: OverlayLab) => Promise<void> | void;
  readonly after?: readonly LabCaseProbe[];
  /** Findings of severity error or warning, as `code@node`; the healthy case expects none at all. */
  readonly findings: readonly string[];
  /** For each expected finding, the bundle files its evidence must name (regex on the file path). */
  readonly evidence?: Readonly<Record<string, readonly RegExp[]>>;
}

export const A1 = "198.18.1.10";
export const A2 = "198.18.1.11";
export const B1 = "198.18.2.10";
export const C1 = "198.18.3.10";

/** The default cluster: node-a (a1, a2), node-b (b1), node-c (c1). */
export function defaultNodes(
  overrides: Partial<Record<string, Partial<OverlayLabNode>>> = {},
): OverlayLabNode[] {
  const base: OverlayLabNode[] = [
    {
      name: "node-a",
      index: 1,
      pods: [
        { name: "a1", ip: A1, tcpPorts: [8080], udpPorts: [53] },
        { name: "a2", ip: A2, tcpPorts: [8080] },
      ],
    },
    { name: "node-b", index: 2, pods: [{ name: "b1", ip: B1, tcpPorts: [8080], udpPorts: [53] }] },
    { name: "node-c", index: 3, pods: [{ name: "c1", ip: C1, tcpPorts: [8080], udpPorts: [53] }] },
  ];
  return base.map((n) => ({ ...n, ...(overrides[n.name] ?? {}) }));
}

export const toB = { from: "a1", protocol: "tcp", dstIp: B1, dstPort: 8080 } as const;
export const toC = { from: "a1", protocol: "tcp", dstIp: C1, dstPort: 8080 } as const;

export function iptables(lab: OverlayLab, node: string, text: string): void {
  lab.exec(node, ["iptables-nft-restore"], text);
}

export const FILTER = (rules: string, policy = "ACCEPT") =>
  `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ${policy} [0:0]\n:OUTPUT ACCEPT [0:0]\n${rules}COMMIT\n`;
export const NAT = (rules: string) =>
  `*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n${rules}COMMIT\n`;

export const DNS: LabService = {
  namespace: "kube-system",
  name: "kube-dns",
  clusterIP: "198.19.0.10",
  port: 53,
  protocol: "UDP",
  targetPort: 53,
  endpoints: ["coredns-old"],
};
export const WEB: LabService = {
  namespace: "default",
  name: "web",
  clusterIP: "198.19.0.20",
  port: 80,
  protocol: "TCP",
  targetPort: 8080,
  endpoints: ["a2"],
};

export function sysctl(lab: OverlayLab, node: string, key: string, value: number): void {
  lab.exec(node, [
    "sh",
    "-c",
    `echo ${value} > /proc/sys/${key
      .split(".")
      .map((p) => p.replaceAll("/", "."))
      .join("/")}`,
  ]);
}

/** Two underlays; node-b's public-ip is its eth1 address while flannel.1 stays on eth0. */
export const ASYMMETRIC = defaultNodes({
  "node-a": { secondNic: true },
  "node-b": { secondNic: true, publicIp: "198.19.254.12" },
  "node-c": { secondNic: true },
});
