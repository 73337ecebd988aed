/**
 * Across nodes through an IPVS-mode client node (issue 16), on testdata/ipvs/lab: an overlay lab
 * capture (real ip -j / bridge -j / sysctl output, kube-proxy's IPVS glue and ipsets as the real
 * iptables-nft-save and ipset save printed them, kube-ipvs0 holding the Service address) whose
 * node-a `ipvsadm.txt` is hand-written (this kernel has no IPVS): virtual server 198.19.0.20:80, rr,
 * real servers a2 (198.18.1.11:8080, node-a) and b1 (198.18.2.10:8080, node-b). Expectations are
 * hand-written from that table and the lab's layout.
 */

import { readFileSync } from "node:fs";
import { cp, mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { diagnoseBundleDir } from "../collect/diagnose-bundle-dir.ts";
import { readHostEvidence } from "../collect/read-host-evidence.ts";
import { checkTraceSteps } from "../model/trace.ts";
import { citesDestination } from "../report/html/path-hops.ts";
import { runCliSource } from "../testing/run-cli-source.ts";
import { answerConnection } from "./connection-answer.ts";
import { multiHopTrace } from "./multi-hop-trace.ts";
import { ruleStepsOf } from "./rule-steps.ts";

const LAB = "testdata/ipvs/lab";
const PACKET = { protocol: "tcp", srcIp: "198.18.1.10", dstIp: "198.19.0.20", dstPort: 80 } as const;
const QUESTION = { node: "node-a", ingress: "pod", packet: PACKET } as const;
const tmp: string[] = [];

/** A copy of the lab bundle with `edit` applied. */
async function variant(edit: (dir: string) => Promise<void>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "nd-ipvs-"));
  tmp.push(dir);
  await cp(LAB, dir, { recursive: true });
  await edit(dir);
  return dir;
}

afterAll(async () => {
  for (const d of tmp) await rm(d, { recursive: true, force: true });
});

describe("answerConnection() through an IPVS-mode node", () => {
  it("schedules to both real servers (rr, 50% each) and follows each to its pod", async () => {
    const input = await readHostEvidence(LAB, { rulesOf: ["node-a", "node-b"] });
    const a = answerConnection(input, QUESTION);
    expect(
      a.branches.map(
        (b) => `${b.probability} ${b.rewrite} ${b.routed.dstIp}:${b.routed.dstPort} ${b.connection?.outcome}`,
      ),
    ).toEqual(["0.5 ipvs 198.18.1.11:8080 delivered", "0.5 ipvs 198.18.2.10:8080 delivered"]);
    const r = multiHopTrace(a, input);
    for (const t of r.traces) checkTraceSteps(t);
    expect(r.traces.map((t) => [t.hops.map((h) => h.node), t.disposition])).toEqual([
      [["node-a"], { kind: "delivered", pod: "default/a2", device: "cni0" }],
      [["node-a", "node-b"], { kind: "delivered", pod: "default/b1", device: "cni0" }],
    ]);
    // Each path cites the real server's line of ipvsadm.txt.
    const lines = readFileSync(join(LAB, "nodes/node-a/ipvsadm.txt"), "utf8").split("\n");
    for (const [i, t] of r.traces.entries()) {
      const s = ruleStepsOf(t).find((x) => x.backend === "ipvs")!;
      expect(s.evidence).toEqual({ file: "nodes/node-a/ipvsadm.txt", line: i + 2 });
      expect(lines[s.evidence.line - 1]).toBe(s.rule);
    }
    // The report attaches a finding that cites b1's real server line to b1's path only.
    const cites = [{ file: "nodes/node-a/ipvsadm.txt", line: 3 }];
    expect(r.traces.map((t) => citesDestination(cites, t))).toEqual([false, true]);
  });

  it("without node-a's ipvsadm.txt: undecided, asking for it (the glue shows IPVS mode)", async () => {
    const dir = await variant((d) => unlink(join(d, "nodes/node-a/ipvsadm.txt")));
    const input = await readHostEvidence(dir, { rulesOf: ["node-a", "node-b"] });
    const [t] = multiHopTrace(answerConnection(input, QUESTION), input).traces;
    expect(t!.disposition).toMatchObject({ kind: "undecided", needs: "ipvs-table" });
    if (t!.disposition.kind === "undecided")
      expect(t!.disposition.reason).toContain("nodes/node-a/ipvsadm.txt");
    const d = await diagnoseBundleDir(dir, { from: "default/a1", to: "198.19.0.20:80" });
    const route = d.steps.find((s) => s.check === "route")!;
    expect(route).toMatchObject({ status: "undecided", missing: "nodes/node-a/ipvsadm.txt" });
    expect(route.howToGet).toContain("ipvsadm -Sn > nodes/node-a/ipvsadm.txt");
  });

  it("a virtual server whose real servers all have weight 0 answers ECONNREFUSED (exit 1)", async () => {
    const dir = await variant((d) =>
      writeFile(
        join(d, "nodes/node-a/ipvsadm.txt"),
        "-A -t 198.19.0.20:80 -s rr\n-a -t 198.19.0.20:80 -r 198.18.1.11:8080 -m -w 0\n",
      ),
    );
    const input = await readHostEvidence(dir, { rulesOf: ["node-a", "node-b"] });
    const [t] = multiHopTrace(answerConnection(input, QUESTION), input).traces;
    expect(t!.disposition).toMatchObject({
      kind: "rejected",
      clientError: "ECONNREFUSED",
      by: { backend: "ipvs", evidence: { file: "nodes/node-a/ipvsadm.txt", line: 1 } },
    });
    const cli = runCliSource("trace", ["--bundle", dir, "--from", "default/a1", "--to", "198.19.0.20:80"]);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toContain("IPVS tcp 198.19.0.20:80 (nodes/node-a/ipvsadm.txt line 1)");
  });

  it("trace --to exits 0 and names ipvsadm.txt; trace --dst on node-a shows both branches", () => {
    const multi = runCliSource("trace", ["--bundle", LAB, "--from", "default/a1", "--to", "198.19.0.20:80"]);
    expect(multi.code).toBe(0);
    expect(multi.stdout).toContain(
      "-a -t 198.19.0.20:80 -r 198.18.2.10:8080 -m -w 1  (nodes/node-a/ipvsadm.txt)",
    );
    const one = runCliSource("trace", ["--bundle", LAB, "--from", "default/a1", "--dst", "198.19.0.20:80"]);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/^2 paths/m);
    expect(one.stdout).toContain("Traced through iptables-save.txt and ipvsadm.txt (IPVS) only.");
  });

  it("diagnose: node-dataplane from the IPVS table, and the path links proven through IPVS", async () => {
    const d = await diagnoseBundleDir(LAB, { from: "default/a1", to: "198.19.0.20:80" });
    const status = Object.fromEntries(d.steps.map((s) => [s.check, s.status]));
    expect(status).toMatchObject({ "node-dataplane": "ok", route: "ok", "endpoint-node": "ok" });
    expect(d.pathTrace?.traces.map((t) => t.probability)).toEqual([0.5, 0.5]);
  });
});
