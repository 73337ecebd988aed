/**
 * Test support: the demo cluster (healthy variant) with a NetworkPolicy on eopx-register, written
 * as a bundle whose nodes carry what the real tools print: each node's demo dump merged with the
 * kube-router chains k3s's controller writes for the policy (netpol-kube-router.ts) is loaded with
 * the real `iptables-restore` and `ipset restore` into a throw-away namespace, and
 * `nodes/NODE/iptables-save.txt` and `nodes/NODE/ipset-save.txt` are what `iptables-save` and
 * `ipset save` print there (and nft-ruleset.json/.txt what `nft -j`/`nft -a list ruleset` print). Variants:
 *
 * - `deny`: the policy admits eopx-gateway on 9848 (grpc) only, so gateway → register:8848 is denied;
 * - `allow`: the same policy admits 8848 too;
 * - `stale-ipset`: `allow`, but master2's source set misses the gateway's IP (k3s-io/k3s#7446 class);
 * - `egress-deny`: a policy on eopx-gateway allows egress to 53/UDP only: prod-agent1 (egress) rejects;
 * - `egress-no-dns`: eopx-gateway may reach eopx-register:8848 and nothing else, not even DNS;
 * - `not-enforced`: `deny`, but master2 runs no NetworkPolicy controller (its kube-router chains removed).
 */
import { join } from "node:path";
import { writeBundleFiles } from "../collect/demo-bundle.ts";
import { readBundle } from "../collect/read-bundle.ts";
import { readNetworkPolicyState } from "../collect/read-network-policies.ts";
import { bundleFiles } from "../demo/build-bundle.ts";
import { list, namespace, uidOf } from "../demo/k8s-objects.ts";
import { healthyCluster } from "./demo-bundles.ts";
import { withIpsetNamespace } from "./netpol-ipset-netns.ts";
import { kubeRouterRules } from "./netpol-kube-router.ts";

export type NetpolVariant =
  | "deny"
  | "allow"
  | "stale-ipset"
  | "egress-deny"
  | "egress-no-dns"
  | "not-enforced";

/** The policy's name, namespace and the client the variants are about. */
export const POLICY = { namespace: "eopx", name: "register-from-gateway" } as const;
export const GATEWAY_IP = "10.42.2.31";

function policyJson(variant: NetpolVariant) {
  if (variant === "egress-deny")
    return {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { namespace: "eopx", name: "gateway-dns-only", uid: uidOf("networkpolicy/gateway-dns-only") },
      spec: {
        podSelector: { matchLabels: { app: "eopx-gateway" } },
        policyTypes: ["Egress"],
        egress: [{ ports: [{ protocol: "UDP", port: 53 }] }],
      },
    };
  if (variant === "egress-no-dns")
    return {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: {
        namespace: "eopx",
        name: "gateway-to-register",
        uid: uidOf("networkpolicy/gateway-to-register"),
      },
      spec: {
        podSelector: { matchLabels: { app: "eopx-gateway" } },
        policyTypes: ["Egress"],
        egress: [
          {
            to: [{ podSelector: { matchLabels: { app: "eopx-register" } } }],
            ports: [{ protocol: "TCP", port: 8848 }],
          },
        ],
      },
    };
  const ports = variant === "deny" || variant === "not-enforced" ? [9848] : [8848, 9848];
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { ...POLICY, uid: uidOf(`networkpolicy/${POLICY.name}`) },
    spec: {
      podSelector: { matchLabels: { app: "eopx-register" } },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [{ podSelector: { matchLabels: { app: "eopx-gateway" } } }],
          ports: ports.map((port) => ({ protocol: "TCP", port })),
        },
      ],
    },
  };
}

const OWN_CHAIN = /^(?::|-A )(KUBE-ROUTER-|KUBE-NWPLCY-|KUBE-POD-FW-)/;
const JUMP = /^-A (INPUT|FORWARD|OUTPUT) .*-j KUBE-ROUTER-/;

/**
 * The demo dump with its kube-router skeleton replaced by `filter` (a kube-router `*filter`
 * restore input): the controller's declarations after the built-in ones, its jumps first in the
 * built-in chains (kube-router inserts them at position 1), the rest of its rules at the end.
 */
export function mergeKubeRouter(dump: string, filter: string): string {
  const kr = filter.split("\n").filter((l) => l.startsWith(":") || l.startsWith("-A "));
  const decls = kr.filter((l) => l.startsWith(":") && !/^:(INPUT|FORWARD|OUTPUT) /.test(l));
  const jumps = kr.filter((l) => /^-A (INPUT|FORWARD|OUTPUT) /.test(l));
  const rest = kr.filter((l) => l.startsWith("-A ") && !jumps.includes(l));
  const out: string[] = [];
  let inFilter = false;
  let jumped = false;
  for (const line of dump.split("\n")) {
    if (line === "*filter") inFilter = true;
    if (!inFilter) {
      out.push(line);
      continue;
    }
    if (OWN_CHAIN.test(line) || JUMP.test(line)) continue;
    if (line.startsWith("-A ") && !jumped) {
      out.push(...decls, ...jumps);
      jumped = true;
    }
    if (line === "COMMIT") {
      if (!jumped) out.push(...decls, ...jumps);
      out.push(...rest);
      inFilter = false;
    }
    out.push(line);
  }
  return out.join("\n");
}

/** What the real tools print for `dump` and `ipsets` loaded into a fresh namespace (nft too). */
function realOutput(
  dump: string,
  ipsets: string,
): Record<"iptables" | "ipsets" | "nftJson" | "nftText", string> {
  return withIpsetNamespace((run) => {
    run(["ipset", "restore"], ipsets);
    run(["iptables-restore"], dump);
    return {
      iptables: run(["iptables-save"]),
      ipsets: run(["ipset", "save"]),
      nftJson: run(["nft", "-j", "list", "ruleset"]),
      nftText: run(["nft", "-a", "list", "ruleset"]),
    };
  });
}

/**
 * Writes the variant's bundle to `dir` (needs root and network namespaces: see
 * `ipsetNetnsUnavailable`).
 */
export async function writeNetpolDemoBundle(dir: string, variant: NetpolVariant): Promise<void> {
  const spec = healthyCluster();
  const withPolicy = {
    ...spec,
    api: {
      ...spec.api,
      networkpolicies: list([policyJson(variant)]),
      namespaces: list(["default", "eopx", "kube-system"].map(namespace)),
    },
  };
  const files = new Map(bundleFiles(withPolicy));
  await writeBundleFiles(dir, files);
  const bundle = await readBundle(dir);
  const { state } = await readNetworkPolicyState(dir);
  for (const node of spec.nodes) {
    const rules = kubeRouterRules({
      policies: state.policies ?? [],
      namespaces: state.namespaces ?? [],
      pods: bundle.cluster.pods,
      node: node.name,
      serviceCIDR: spec.serviceCIDR,
    });
    const sets =
      variant === "stale-ipset" && node.name === "master2"
        ? rules.ipsets
            .split("\n")
            .filter((l) => !(l.startsWith("add KUBE-SRC-") && l.includes(` ${GATEWAY_IP} `)))
            .join("\n")
        : rules.ipsets;
    const rel = `nodes/${node.name}`;
    const unenforced = variant === "not-enforced" && node.name === "master2";
    const dump = mergeKubeRouter(
      files.get(`${rel}/iptables-save.txt`)!,
      unenforced ? "*filter\nCOMMIT\n" : rules.filter,
    );
    const real = realOutput(dump, unenforced ? "" : sets);
    await writeBundleFiles(
      dir,
      new Map([
        [`${rel}/iptables-save.txt`, real.iptables],
        [`${rel}/ipset-save.txt`, real.ipsets],
        [`${rel}/nft-ruleset.json`, real.nftJson],
        [`${rel}/nft-ruleset.txt`, real.nftText],
      ]),
    );
  }
}

/** `dir/nodes/NODE/FILE`. */
export const nodeFile = (dir: string, node: string, file: string) => join(dir, "nodes", node, file);
