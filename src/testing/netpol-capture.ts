/**
 * Writes testdata/netpol/kernel/: for some kernel-suite scenarios, what the real `iptables-nft-save`
 * and `ipset save` print after kube-router-style chains and sets were loaded into a netns lab node.
 * Offline tests (findings, docs examples) read these files instead of needing root. Run as root:
 * `npx tsx src/testing/netpol-capture.ts testdata/netpol/kernel`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLab } from "./netns-lab.ts";
import { kubeRouterRules } from "./netpol-kube-router.ts";
import { ALL_PODS, CLIENTS, NAMESPACES, NODE, NODE_IP, SCENARIOS, SERVERS } from "./netpol-scenarios.ts";

const CAPTURED: Readonly<Record<string, number>> = { "allow-frontend": 2, "egress-db": 5, "stale-ipset": 9 };

async function main(out: string): Promise<void> {
  const lab = await createLab({
    area: "netpolcap",
    nodeIps: [NODE_IP],
    pods: Object.values(CLIENTS).map((p) => ({ name: p.metadata.name, ip: p.podIP! })),
    servers: Object.values(SERVERS).map((p) => ({ name: p.metadata.name, ip: p.podIP! })),
    world: false,
  });
  try {
    for (const [dir, index] of Object.entries(CAPTURED)) {
      const scenario = SCENARIOS[index]!;
      const rules = kubeRouterRules({
        policies: scenario.policies,
        namespaces: NAMESPACES,
        pods: ALL_PODS,
        node: NODE,
      });
      const stale = scenario.stale;
      const ipsets =
        stale === undefined
          ? rules.ipsets
          : rules.ipsets
              .split("\n")
              .filter((l) => l !== `add ${stale.set} ${stale.ip} timeout 0`)
              .join("\n");
      await lab.load("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n");
      await lab.loadIpsets(ipsets);
      await lab.load(rules.filter);
      mkdirSync(join(out, dir), { recursive: true });
      writeFileSync(join(out, dir, "iptables-save.txt"), lab.save());
      writeFileSync(join(out, dir, "ipset-save.txt"), lab.saveIpsets());
      writeFileSync(join(out, dir, "scenario.txt"), `${scenario.name}\n`);
    }
  } finally {
    await lab.destroy();
  }
}

if (process.argv[1]?.endsWith("netpol-capture.ts")) {
  await main(process.argv[2] ?? "testdata/netpol/kernel");
}
