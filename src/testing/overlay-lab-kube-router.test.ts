/**
 * Kernel suite for kube-router's chains across nodes, bridged and routed (issue 16): the overlay lab
 * (real cni0 bridges with br_netfilter, real VXLAN) with k3s's kube-router NetworkPolicy chains and
 * ipsets loaded on every node (overlay-lab-kube-router.ts). For every connection, with expectations
 * written by hand from the policies:
 *
 * 1. the kernel's outcome is the expected one, and netdoctor's answer from the collected bundle
 *    (every node's iptables-save.txt, ipset-save.txt, ip-link.json, sysctl.txt...) is the same;
 * 2. on every node, the `--physdev-is-bridged` jumps whose kernel packet counters moved are exactly
 *    the ones netdoctor's traces of the request and the reply take: bridged for a pod of the
 *    client's own bridge (also behind a Service's DNAT: br_netfilter bridges it), never for a
 *    packet routed to another node;
 * 3. a db pod whose egress is isolated still answers (its replies are ESTABLISHED);
 * 4. `diagnose` on the bundle: the Service on the client's bridge is reachable, the denied port on
 *    another node broken at network-policy naming the policy.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diagnoseBundleDir } from "../collect/diagnose-bundle-dir.ts";
import { readHostEvidence } from "../collect/read-host-evidence.ts";
import type { HostPathInput } from "../trace/host-path-input.ts";
import { commandUnavailable, netnsUnavailable, skipBecause } from "./capabilities.ts";
import type { OverlayLab } from "./overlay-lab.ts";
import { createOverlayLab } from "./overlay-lab-build.ts";
import { writeLabBundle } from "./overlay-lab-bundle.ts";
import { WEB } from "./overlay-lab-case-kit.ts";
import {
  KR_NODES,
  krAnswer,
  loadKubeRouter,
  movedRules,
  physdevCounters,
  tracedPhysdevRules,
  writePolicyFiles,
} from "./overlay-lab-kube-router.ts";
import { overlayUnavailable } from "./overlay-lab-ns.ts";
import { labOutcomeKey } from "./overlay-lab-probe.ts";

const skip = skipBecause(
  netnsUnavailable() ??
    overlayUnavailable() ??
    commandUnavailable("bridge") ??
    commandUnavailable("ethtool") ??
    commandUnavailable("ipset"),
  "kube-router overlay lab (bridged and routed pod traffic through kube-router's chains)",
);

interface Probe {
  readonly what: string;
  readonly dstIp: string;
  readonly dstPort: number;
  readonly expect: string;
  /** Whether kube-router's physdev jumps count the connection on node-a (the client's node). */
  readonly bridged: boolean;
}

const PROBES: readonly Probe[] = [
  {
    what: "a2:8080 on a1's bridge, allowed",
    dstIp: "198.18.1.11",
    dstPort: 8080,
    expect: "answer a2",
    bridged: true,
  },
  {
    what: "a2:9090 on a1's bridge, denied",
    dstIp: "198.18.1.11",
    dstPort: 9090,
    expect: "error ECONNREFUSED",
    bridged: true,
  },
  {
    what: "b1:8080 on node-b, allowed",
    dstIp: "198.18.2.10",
    dstPort: 8080,
    expect: "answer b1",
    bridged: false,
  },
  {
    what: "b1:9090 on node-b, denied",
    dstIp: "198.18.2.10",
    dstPort: 9090,
    expect: "error ECONNREFUSED",
    bridged: false,
  },
  {
    what: "b2 (egress isolated) answers",
    dstIp: "198.18.2.11",
    dstPort: 5432,
    expect: "answer b2",
    bridged: false,
  },
  {
    what: "Service web DNATed to a2 on a1's bridge",
    dstIp: WEB.clusterIP,
    dstPort: WEB.port,
    expect: "answer a2",
    bridged: true,
  },
];

// The lab runs no kube-proxy, so diagnose's node-dataplane and host-firewall links are undecided
// there (as in the overlay lab): the links compared are the policy's and the path's.
const links = (d: Awaited<ReturnType<typeof diagnoseBundleDir>>) =>
  Object.fromEntries(
    ["network-policy", "route", "overlay", "endpoint-node"].map((c) => [
      c,
      d.steps.find((s) => s.check === c)?.status,
    ]),
  );

const counts = { connections: 0, physdevChecks: 0, bridged: 0, routed: 0, diagnoses: 0 };

describe.skipIf(skip)(
  "kube-router chains on the overlay lab: bridged and routed, kernel and netdoctor agree",
  () => {
    let lab: OverlayLab;
    let dir = "";
    const kernel = new Map<string, { outcome: string; moved: Record<string, string[]> }>();
    let bundle: HostPathInput;

    beforeAll(async () => {
      lab = await createOverlayLab({ area: "krb", nodes: KR_NODES });
      loadKubeRouter(lab);
      for (const p of PROBES) {
        const before = Object.fromEntries(KR_NODES.map((n) => [n.name, physdevCounters(lab, n.name)]));
        const r = await lab.probe({
          from: "a1",
          protocol: "tcp",
          dstIp: p.dstIp,
          dstPort: p.dstPort,
          timeoutMs: 3000,
        });
        const moved = Object.fromEntries(
          KR_NODES.map((n) => [n.name, movedRules(before[n.name]!, physdevCounters(lab, n.name))]),
        );
        kernel.set(p.what, { outcome: labOutcomeKey(r), moved });
      }
      dir = mkdtempSync(join(tmpdir(), "nd-krb-"));
      rmSync(dir, { recursive: true });
      await writeLabBundle(lab, dir, { services: [WEB] });
      await writePolicyFiles(dir);
      bundle = await readHostEvidence(dir);
    }, 120_000);

    afterAll(async () => {
      console.log(
        `kube-router overlay lab: ${counts.connections} connections answered as the kernel did, ${counts.physdevChecks} node physdev counter checks agreeing (${counts.bridged} bridged, ${counts.routed} routed), ${counts.diagnoses} diagnoses, 0 skipped`,
      );
      await lab?.destroy();
      if (dir !== "") rmSync(dir, { recursive: true, force: true });
    });

    for (const p of PROBES) {
      it(`a1 -> ${p.what}: ${p.expect}`, () => {
        const k = kernel.get(p.what)!;
        expect(k.outcome, "the kernel").toBe(p.expect);
        const a = krAnswer(bundle, p.dstIp, p.dstPort);
        expect(a.key, `netdoctor (${a.reason ?? ""})`).toBe(k.outcome);
        counts.connections++;
        for (const n of KR_NODES) {
          expect(tracedPhysdevRules(a.answer, n.name), `${n.name}: physdev jumps netdoctor takes`).toEqual(
            k.moved[n.name],
          );
          counts.physdevChecks++;
        }
        // Hand-written: a bridged connection is counted on node-a (request and reply), a routed one nowhere.
        expect(k.moved["node-a"]!.length > 0, "node-a counted physdev jumps").toBe(p.bridged);
        expect(k.moved["node-b"], "node-b routes everything").toEqual([]);
        counts[p.bridged ? "bridged" : "routed"]++;
      });
    }

    it("diagnose: the Service on a1's own bridge is proven through; b1:9090 is broken at network-policy", async () => {
      const ok = await diagnoseBundleDir(dir, { from: "default/a1", to: `${WEB.clusterIP}:${WEB.port}` });
      expect(links(ok), ok.summary).toEqual({
        "network-policy": "ok",
        route: "not-applicable",
        overlay: "not-applicable",
        "endpoint-node": "ok",
      });
      const denied = await diagnoseBundleDir(dir, { from: "default/a1", to: "198.18.2.10:9090" });
      const policy = denied.steps.find((s) => s.check === "network-policy")!;
      expect(policy.status, denied.summary).toBe("broken");
      expect(policy.findings).toEqual(["netpol-denied"]);
      expect(policy.detail).toContain("default/web-from-client");
      expect(links(denied)["endpoint-node"]).toBe("broken");
      counts.diagnoses += 2;
    });
  },
);
